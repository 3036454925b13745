import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  type CellAddress,
  type CellSchema,
  type CubeInfoSchema,
  LatticeService,
  WriteStatus,
  type WriteResultSchema,
} from "../../../proto/gen/quantatom/v1/lattice_pb";
import { type Backend, checkCellBatch, checkMembers, clampLimit, DomainError } from "../domain";
import { resolveCell } from "../domain/addresses";
import type { AddressError, CellState, Cube } from "../lattice";
import { cellError } from "./errors";
import { getMembers } from "./members";
import { spreadInput, toSafeNumber, userOf } from "./requests";

type CellInit = MessageInitShape<typeof CellSchema>;

/**
 * A cell of the protocol from an engine state. `calculated` (a member formula computes the cell)
 * comes from the cube rather than the state, which may have come back from a tile cache.
 */
function toCell(state: CellState, consolidated: boolean, calculated: boolean): CellInit {
  const version = BigInt(state.version);
  return state.value === null ? { version, consolidated, calculated } : { value: state.value, version, consolidated, calculated };
}

/** Resolves a batch of addresses: coordinates for the good ones, per-cell errors for the others. */
function resolveBatch(cube: Cube, cells: readonly CellAddress[]): { coords: (Int32Array | null)[]; errors: (AddressError | null)[] } {
  checkCellBatch(cells.length);
  const coords: (Int32Array | null)[] = new Array(cells.length);
  const errors: (AddressError | null)[] = new Array(cells.length);
  cells.forEach((c, i) => {
    checkMembers(c.members, `cells[${i}].members`);
    const r = cube.resolve(c.members);
    if (r instanceof Int32Array) {
      coords[i] = r;
      errors[i] = null;
    } else {
      coords[i] = null;
      errors[i] = r;
    }
  });
  return { coords, errors };
}

/** A queue that wakes one waiting consumer; used to turn change callbacks into a stream. */
class ChangeQueue {
  private pending = new Set<number>();
  private wake: (() => void) | null = null;
  push(indexes: number[]): void {
    for (const i of indexes) this.pending.add(i);
    this.wake?.();
  }
  /** Resolves with all indexes changed since the last call, or null when `signal` aborts. */
  async next(signal: AbortSignal): Promise<number[] | null> {
    while (this.pending.size === 0) {
      if (signal.aborted) return null;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener("abort", done);
          this.wake = null;
          resolve();
        };
        this.wake = done;
        signal.addEventListener("abort", done);
      });
    }
    const out = Array.from(this.pending).sort((a, b) => a - b);
    this.pending.clear();
    return out;
  }
}

/**
 * Registers quantatom.v1.LatticeService on a Connect router.
 * @see ../../../proto/quantatom/v1/lattice.proto for the contract of each RPC.
 */
export function registerLatticeService(backend: Backend) {
  return (router: ConnectRouter) =>
    router.service(LatticeService, {
      listCubes() {
        return {
          cubes: backend.listCubes().map(({ cube }): MessageInitShape<typeof CubeInfoSchema> => ({
            name: cube.name,
            description: cube.description,
            leafCellCount: BigInt(cube.leafCellCount()),
            dataVersion: BigInt(cube.maxVersion()),
            dimensions: cube.dims.map((dim) => ({
              name: dim.name,
              defaultMember: dim.uniqueName(dim.defaultMember),
              levels: [...dim.levels],
              memberCount: dim.size,
              leafCount: dim.leafCount,
              roots: Array.from(dim.roots, (r) => dim.uniqueName(r)),
            })),
          })),
        };
      },

      getMembers(req) {
        const { cube } = backend.cube(req.cube);
        return getMembers(cube, req);
      },

      async getCells(req) {
        const served = backend.cube(req.cube);
        const { cube } = served;
        const { coords, errors } = resolveBatch(cube, req.cells);
        const good = coords.filter((c): c is Int32Array => c !== null);
        // Hot tiles (Redis or in process) when the backend has a cache; else the engine.
        const states = await backend.readCells(served, good);
        let k = 0;
        return {
          cells: coords.map((c, i): CellInit => (c === null ? { error: cellError(errors[i]!) } : toCell(states[k++], cube.isConsolidated(c), cube.isCalculated(c)))),
        };
      },

      async *watchCells(req, ctx) {
        const { cube } = backend.cube(req.cube);
        const { coords, errors } = resolveBatch(cube, req.cells);
        const goodIndex: number[] = [];
        const good: Int32Array[] = [];
        coords.forEach((c, i) => {
          if (c !== null) {
            goodIndex.push(i);
            good.push(c);
          }
        });
        const consolidated = good.map((c) => cube.isConsolidated(c));
        const calculated = good.map((c) => cube.isCalculated(c));
        const queue = new ChangeQueue();
        const watch = cube.watch(good, (idx) => queue.push(idx));
        let release = () => {};
        try {
          // One of the user's open streams (QATOM_MAX_STREAMS_PER_USER) until it ends, however it ends.
          release = backend.streams.acquire(userOf(ctx));
          const initial = watch.states();
          const byIndex = new Map<number, CellInit>();
          goodIndex.forEach((i, k) => {
            byIndex.set(i, toCell(initial[k], consolidated[k], calculated[k]));
          });
          yield {
            initial: true,
            updates: coords.map((_, i) => ({ index: i, cell: byIndex.get(i) ?? { error: cellError(errors[i]!) } })),
          };
          for (;;) {
            const changed = await queue.next(ctx.signal);
            if (changed === null) return;
            const states = watch.states(changed);
            yield {
              initial: false,
              updates: changed.map((k, j) => ({ index: goodIndex[k], cell: toCell(states[j], consolidated[k], calculated[k]) })),
            };
          }
        } finally {
          watch.close();
          release();
        }
      },

      async copyScenario(req, ctx) {
        const out = await backend.copyScenario(
          req.cube,
          {
            dimension: req.dimension,
            from: req.from,
            to: req.to,
            factor: req.factor ?? 1,
            slice: req.slice,
            baseVersion: toSafeNumber(req.baseVersion, "baseVersion"),
          },
          userOf(ctx),
        );
        if (out.status === "CONFLICT") return { status: WriteStatus.CONFLICT, version: BigInt(out.version), message: out.message };
        return {
          status: WriteStatus.APPLIED,
          leavesChanged: BigInt(out.leavesChanged),
          leavesCleared: BigInt(out.leavesCleared),
          transactionId: out.txId,
          version: BigInt(out.version),
        };
      },
      async writeCells(req, ctx) {
        const user = userOf(ctx);
        const { outcomes, txId } = await backend.writeCells(
          req.cube,
          req.writes.map((w, i) => ({
            members: w.members,
            value: w.value ?? null,
            baseVersion: toSafeNumber(w.baseVersion, "baseVersion"),
            spread: w.spread ? spreadInput(w.spread, i) : undefined,
          })),
          user,
          req.holds.map((h) => h.members),
        );
        return {
          transactionId: txId,
          results: outcomes.map((o): MessageInitShape<typeof WriteResultSchema> => {
            switch (o.status) {
              case "APPLIED":
                return {
                  status: WriteStatus.APPLIED,
                  version: BigInt(o.version),
                  currentValue: o.value ?? undefined,
                  updatedBy: o.updatedBy,
                  updatedAt: timestampFromMs(o.updatedAt),
                  leavesChanged: BigInt(o.leavesChanged),
                };
              case "CONFLICT":
                return {
                  status: WriteStatus.CONFLICT,
                  version: BigInt(o.version),
                  currentValue: o.value ?? undefined,
                  updatedBy: o.updatedBy,
                  updatedAt: timestampFromMs(o.updatedAt),
                  message: o.message,
                };
              default:
                return {
                  status: WriteStatus.REJECTED,
                  message: o.message,
                  error: o.error ? cellError(o.error) : undefined,
                  version: o.version === undefined ? undefined : BigInt(o.version),
                  currentValue: o.value ?? undefined,
                };
            }
          }),
        };
      },

      async getCellHistory(req) {
        const served = backend.cube(req.cube);
        const { cube } = served;
        const coords = resolveCell(cube, req.members);
        const formula = cube.formulaOf(coords);
        if (formula) {
          throw new DomainError(
            `history is kept for stored leaf cells; this cell is calculated by a formula (${formula.member} = ${formula.expression})`,
            "invalid_argument",
          );
        }
        if (cube.isConsolidated(coords)) {
          throw new DomainError("history is kept for leaf cells; this cell is consolidated", "invalid_argument");
        }
        const limit = clampLimit(req.limit, 100, 10_000, "limit");
        const records = await backend.store.cellHistory(served.id, Array.from(coords), limit);
        return {
          records: records.map((r) => ({
            transactionId: r.txId,
            user: r.user,
            at: timestampFromMs(r.at),
            oldValue: r.oldValue ?? undefined,
            newValue: r.newValue ?? undefined,
            version: BigInt(r.version),
            members: r.members,
          })),
        };
      },
    });
}
