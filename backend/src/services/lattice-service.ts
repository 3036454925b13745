import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import {
  type CellSchema,
  type CubeInfoSchema,
  LatticeService,
  WriteStatus,
  type WriteResultSchema,
} from "../../../proto/gen/quantatom/v1/lattice_pb";
import { type Backend, type CellResult, clampLimit, DomainError, requireCell } from "../domain";
import { RIGHT } from "../security";
import { cellError } from "./errors";
import { getMembers } from "./members";
import { spreadInput, toSafeNumber, tenantOfCall, userOf } from "./requests";
import { toTransaction, toUndoResponse, transactionKind } from "./transactions";

type CellInit = MessageInitShape<typeof CellSchema>;

/**
 * A cell of the protocol from a read's result: the state's value and version, or the per-cell
 * error (an address problem, or NO_ACCESS: then neither value nor version). `calculated` (a member
 * formula computes the cell) and `formatString` come from the cube rather than the state, which may
 * have come back from a tile cache.
 */
function toCell(r: CellResult): CellInit {
  if ("problem" in r) return { error: cellError(r.problem) };
  const { state, consolidated, calculated } = r;
  const version = BigInt(state.version);
  const formatString = r.formatString === "" ? {} : { formatString: r.formatString };
  const more = { ...formatString, ...(r.sandboxChanged === undefined ? {} : { sandboxChanged: r.sandboxChanged }) };
  return state.value === null ? { version, consolidated, calculated, ...more } : { value: state.value, version, consolidated, calculated, ...more };
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
      listCubes(_req, ctx) {
        // Only the cubes the caller sees, and in them only the members the caller sees.
        return {
          cubes: backend.visibleCubes(userOf(ctx), tenantOfCall(ctx)).map(({ served: { cube }, rights }): MessageInitShape<typeof CubeInfoSchema> => ({
            name: cube.name,
            description: cube.description,
            leafCellCount: BigInt(cube.leafCellCount()),
            dataVersion: BigInt(cube.maxVersion()),
            dimensions: cube.dims.map((dim, d) => {
              const shown = rights.visibleCount(d);
              return {
                name: dim.name,
                defaultMember: rights.visible(d, dim.defaultMember) ? dim.uniqueName(dim.defaultMember) : "",
                levels: [...dim.levels],
                memberCount: shown.members,
                leafCount: shown.leaves,
                roots: Array.from(dim.roots)
                  .filter((r) => rights.visible(d, r))
                  .map((r) => dim.uniqueName(r)),
              };
            }),
          })),
        };
      },

      getMembers(req, ctx) {
        const { served, rights } = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        return getMembers(served.cube, req, rights.visible);
      },

      async getCells(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        // Hot tiles (Redis or in process) when the backend has a cache; else the engine.
        const results = await backend.readCellsAs(access, req.cells, req.sandbox);
        return { cells: results.map(toCell) };
      },

      async *watchCells(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        const queue = new ChangeQueue();
        const watch = await backend.watchCellsAs(access, req.cells, (indexes) => queue.push(indexes), req.sandbox);
        let release = () => {};
        try {
          // One of the user's open streams (QATOM_MAX_STREAMS_PER_USER) until it ends, however it ends.
          release = backend.streams.acquire(access.user);
          yield { initial: true, updates: watch.results().map((r, i) => ({ index: i, cell: toCell(r) })) };
          for (;;) {
            const changed = await queue.next(ctx.signal);
            if (changed === null) return;
            // Through a sandbox: nothing more once the caller's share of it was removed (or it was discarded).
            if (req.sandbox && !(await backend.sandboxes.stillReadable(access, req.sandbox))) {
              throw new DomainError(`sandbox "${req.sandbox}" is no longer shared with you`, "not_found");
            }
            const results = watch.results(changed);
            yield { initial: false, updates: changed.map((i, j) => ({ index: i, cell: toCell(results[j]) })) };
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
          tenantOfCall(ctx),
          req.sandbox,
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
          tenantOfCall(ctx),
          req.sandbox,
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
                  leavesHeldByRights: BigInt(o.leavesHeldByRights ?? 0),
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

      async listTransactions(req, ctx) {
        const list = await backend.listTransactions(req.cube, userOf(ctx), { limit: req.limit, allUsers: req.allUsers, sandbox: req.sandbox }, tenantOfCall(ctx));
        return { transactions: list.map(toTransaction) };
      },

      async explainCell(req, ctx) {
        const e = await backend.explainCell(req.cube, req.members, req.topN, userOf(ctx), tenantOfCall(ctx), req.sandbox);
        const opt = (v: number | null) => (v === null ? undefined : v);
        return {
          members: e.members,
          cell: toCell(e.cell),
          dimensions: e.dimensions.map((d) => ({ ...d, contributors: d.contributors.map((c) => ({ ...c, value: opt(c.value) })), others: opt(d.others) })),
          formula: e.formula,
          operands: e.operands.map((o) => ({ ...o, value: opt(o.value) })),
        };
      },
      async undoTransaction(req, ctx) {
        return toUndoResponse(await backend.undoTransaction(req.cube, req.transactionId, req.onlyUnconflicted, userOf(ctx), tenantOfCall(ctx), req.sandbox));
      },

      async getCellHistory(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        const { served } = access;
        const { cube } = served;
        const coords = requireCell(access, req.members, RIGHT.read, "read the history of");
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
        const records = req.sandbox ? await backend.sandboxes.history(access, req.sandbox, coords, limit) : await backend.store.cellHistory(served.id, Array.from(coords), limit);
        return {
          records: records.map((r) => ({
            transactionId: r.txId,
            user: r.user,
            at: timestampFromMs(r.at),
            oldValue: r.oldValue ?? undefined,
            newValue: r.newValue ?? undefined,
            version: BigInt(r.version),
            members: r.members ?? cube.uniqueNames(coords),
            transactionKind: r.kind ? transactionKind(r.kind) : undefined,
            undoes: r.undoes ?? "",
          })),
        };
      },
    });
}
