/**
 * The write pipeline for WriteCells, step by step (each step a module of this folder):
 * resolve (resolve.ts, among the members the writer sees) → check rights (rights.ts: Write on a
 * leaf, Spread on a consolidated cell) → check versions and overlaps (conflicts.ts) → plan leaf
 * changes (plan.ts: spreading, with the leaves the writer may not write held) → commit (commit.ts:
 * values, audit records and outbox rows in one transaction) → apply (apply.ts: lattice, watches,
 * streams) → publish (publish.ts: the outbox relay). The caller runs it in the cube's write queue,
 * so no other write (and no security change) interleaves.
 */
import type { LeafColumns, SpreadPlan } from "../lattice";
import type { ServedCube } from "../domain/cube-registry";
import type { PendingWrite } from "../store/types";
import { applyColumnsNewer, catchUp } from "./apply";
import { commitPending } from "./commit";
import { describeWrites } from "./describe";
import { checkConsolidated, checkLeaf, rejectOverlaps, staleLeaf, staleLeafBelow } from "./conflicts";
import { typedValueRejected } from "./bounds";
import type { WriteContext } from "./context";
import { type HeldTotalLeaf, heldTotalAbove, planHeldTotalOffset } from "./held-total";
import { leafWriteSteps, leafWrites, planConsolidated } from "./plan";
import { inTurns, Turns } from "../compute/turns";
import { resolveWrites } from "./resolve";
import { rejectUnwritable } from "./rights";
import type { UserRights } from "../security";
import type { WriteInput, WriteOutcome } from "./types";

/**
 * A planned spread of one write: its plan and the range [from, to) of its pending writes, which
 * are the plan's leaves in order when `ofPlan` (a spread of one write; a held total's group also
 * holds the leaf writes that moved it).
 */
interface PlannedSpread {
  plan: SpreadPlan;
  from: number;
  to: number;
  ofPlan: boolean;
}

/**
 * Writes cells of one served cube: each write is checked on its own; a write to a consolidated
 * cell is spread to the leaf cells below it, all or nothing. The applied writes' leaf changes are
 * committed together in one transaction, with one audit record per changed leaf, then applied to
 * the lattice (which notifies watches), then published.
 * A leaf written below a held consolidated cell is planned with the offset that keeps that total
 * (held-total.ts, TM1's consolidation hold), all or nothing with it.
 * @param holds resolved held cells for this request's spreads.
 * @param rights the writer's rights on the cube now (see writes/rights.ts for what each write needs).
 * @returns one outcome per write, in order, and the transaction id ("" when nothing was applied).
 * @throws the store's error (nothing committed).
 */
export async function writeCells(
  ctx: WriteContext,
  served: ServedCube,
  writes: readonly WriteInput[],
  user: string,
  holds: readonly Int32Array[],
  rights: UserRights,
): Promise<{ outcomes: WriteOutcome[]; txId: string }> {
  const { cube } = served;
  const outcomes: WriteOutcome[] = new Array(writes.length);

  // Resolve: each address once, among the members the writer sees.
  const targets = resolveWrites(cube, writes, outcomes, rights.visible);
  // Check rights before anything that reads a cell's state, so a refused write learns nothing of it.
  rejectUnwritable(cube, targets, outcomes, rights);
  // Cells this instance has not caught up on yet (written through another instance): read them
  // from the store first, so that the version check below sees what the writer saw.
  const behind = targets.filter(
    (c, i): c is Int32Array => c !== null && !outcomes[i] && !cube.isConsolidated(c) && writes[i].baseVersion > cube.leafState(c).version,
  );
  await catchUp(ctx.store, served, behind);
  rejectOverlaps(cube, targets, outcomes);

  // Check against the lattice, and plan the leaf changes.
  const pending: PendingWrite[] = [];
  /** Per pending write, the request index it belongs to. */
  const pendingIndex: number[] = [];
  const spreads = new Map<number, PlannedSpread>();
  /** Held consolidated cells leaf writes of this request keep (by unique names), with those writes. */
  const heldTotals = new Map<string, { total: Int32Array; writes: { i: number; pending: PendingWrite; leaf: HeldTotalLeaf }[] }>();
  for (let i = 0; i < targets.length; i++) {
    const coords = targets[i];
    if (!coords || outcomes[i]) continue;
    const w = writes[i];
    const overBound = typedValueRejected(w);
    if (overBound) {
      outcomes[i] = overBound;
      continue;
    }
    if (cube.isConsolidated(coords)) {
      const state = cube.getCells([coords])[0];
      const refused = checkConsolidated(cube, coords, state, w.baseVersion, served.loadedAt);
      if (refused) {
        outcomes[i] = refused;
        continue;
      }
      // Planned in steps: other requests are answered between them (a million-leaf plan takes seconds).
      const plan = await planConsolidated(cube, coords, w, holds, ctx.spreadMaxNewCells, rights);
      if (!("ok" in plan)) {
        outcomes[i] = plan;
        continue;
      }
      const from = pending.length;
      for (const p of await inTurns(leafWriteSteps(plan, i))) {
        pending.push(p);
        pendingIndex.push(i);
      }
      spreads.set(i, { plan, from, to: pending.length, ofPlan: true });
      if (plan.count === 0) {
        outcomes[i] = {
          status: "APPLIED",
          version: state.version,
          value: state.value,
          updatedBy: "",
          updatedAt: served.loadedAt,
          leavesChanged: 0,
          leavesHeldByRights: plan.heldByRights,
        };
      }
      continue;
    }
    const state = cube.leafState(coords);
    const refused = checkLeaf(state, w.baseVersion, served.loadedAt);
    if (refused) {
      outcomes[i] = refused;
      continue;
    }
    const leafWrite: PendingWrite = { coords: Array.from(coords), members: cube.uniqueNames(coords), oldValue: state.value, newValue: w.value, baseVersion: w.baseVersion };
    // A consolidation hold above the leaf: its other leaves move so that the held total stays (held-total.ts).
    const total = heldTotalAbove(cube, coords, holds);
    if (total && !(total instanceof Int32Array)) {
      outcomes[i] = total;
      continue;
    }
    if (total) {
      const key = cube.uniqueNames(total).join(",");
      const group = heldTotals.get(key) ?? { total, writes: [] };
      group.writes.push({ i, pending: leafWrite, leaf: { coords, oldValue: state.value, newValue: w.value } });
      heldTotals.set(key, group);
      continue;
    }
    pending.push(leafWrite);
    pendingIndex.push(i);
  }
  // Leaves below a held total, offset together per total, all or none (held-total.ts).
  for (const { total, writes: below } of heldTotals.values()) {
    if (below.every((b) => (b.leaf.oldValue ?? 0) === (b.leaf.newValue ?? 0))) {
      // Nothing moves the total: plain leaf writes.
      for (const b of below) {
        pending.push(b.pending);
        pendingIndex.push(b.i);
      }
      continue;
    }
    const plan = planHeldTotalOffset(cube, below.map((b) => b.leaf), total, holds, ctx.spreadMaxNewCells, rights);
    if (!("ok" in plan)) {
      for (const b of below) outcomes[b.i] = plan;
      continue;
    }
    const group = below[0].i;
    const from = pending.length;
    for (const b of below) {
      pending.push({ ...b.pending, group });
      pendingIndex.push(b.i);
    }
    for (const p of leafWrites(plan, group)) {
      pending.push(p);
      pendingIndex.push(group);
    }
    // Each write's outcome reads the whole group (a conflict anywhere fails them all).
    for (const b of below) spreads.set(b.i, { plan: { ...plan, count: plan.count + below.length }, from, to: pending.length, ofPlan: false });
  }
  if (pending.length === 0) return { outcomes, txId: "" };

  // Commit (the store checks the versions again, under row locks).
  // The writes that reached the commit (a spread's leaves follow each other: one look per run).
  const runs: number[] = [];
  for (let k = 0; k < pendingIndex.length; k++) if (k === 0 || pendingIndex[k] !== pendingIndex[k - 1]) runs.push(pendingIndex[k]);
  const committed = [...new Set(runs)].sort((a, b) => a - b);
  const { results, at, txId } = await commitPending(ctx, served, user, pending, describeWrites(cube, writes, targets, committed));

  // Apply what committed, as columns (no object per leaf; a spread's leaves keep their planned
  // store rows); outcomes of the leaf writes.
  const nd = cube.dims.length;
  let applied = 0;
  for (const r of results) if (r.ok) applied++;
  const changes: LeafColumns = { count: applied, coords: new Int32Array(applied * nd), values: new Float64Array(applied), versions: new Float64Array(applied), rows: new Int32Array(applied) };
  let j = 0;
  // Gathered in slices between turns of the event loop; applied at once below (watchers see the
  // whole transaction together).
  const turns = new Turns();
  for (let k = 0; k < results.length; k++) {
    const r = results[k];
    const i = pendingIndex[k];
    const sp = spreads.get(i);
    if (r.ok) {
      const p = pending[k];
      for (let d = 0; d < nd; d++) changes.coords[j * nd + d] = p.coords[d];
      changes.values[j] = p.newValue ?? Number.NaN;
      changes.versions[j] = r.version;
      changes.rows![j] = sp?.ofPlan ? sp.plan.rows[k - sp.from] : -1;
      j++;
    }
    if ((k & 0xffff) === 0xffff) await turns.turn();
    if (sp) continue;
    outcomes[i] = r.ok
      ? { status: "APPLIED", version: r.version, value: pending[k].newValue, updatedBy: user, updatedAt: at, leavesChanged: 1 }
      : staleLeaf(pending[k], r, served.loadedAt);
  }
  applyColumnsNewer(served, changes, { user, at });
  // The apply is one step (no reader sees half a transaction); other requests go before the reads below.
  await turns.turn();

  // Outcomes of the spreads, read back from the lattice now that their leaves are applied.
  for (const [i, sp] of spreads) {
    if (sp.to === sp.from) continue;
    let bad = -1;
    for (let k = sp.from; k < sp.to && bad < 0; k++) {
      const r = results[k];
      if (!r.ok && !r.groupFailed) bad = k - sp.from;
    }
    const value = cube.getCells([targets[i]!])[0].value;
    if (bad >= 0) {
      const r = results[sp.from + bad];
      if (r.ok) continue;
      outcomes[i] = {
        status: "CONFLICT",
        version: r.currentVersion,
        value,
        updatedBy: r.updatedBy ?? "",
        updatedAt: r.updatedAt ?? served.loadedAt,
        message: staleLeafBelow("spreading", cube.uniqueNames(pending[sp.from + bad].coords), r),
      };
      continue;
    }
    let version = 0;
    for (let k = sp.from; k < sp.to; k++) {
      const r = results[k];
      if (r.ok && r.version > version) version = r.version;
    }
    outcomes[i] = { status: "APPLIED", version, value, updatedBy: user, updatedAt: at, leavesChanged: sp.plan.count, leavesHeldByRights: sp.plan.heldByRights };
  }

  // Publish; and conflicts found by the store mean this lattice is behind on those cells: catch up.
  if (applied > 0) ctx.publisher?.kick();
  const stale = results.flatMap((r, k) => (r.ok || r.groupFailed ? [] : [Int32Array.from(pending[k].coords)]));
  if (stale.length > 0) await catchUp(ctx.store, served, stale).catch(() => undefined);
  return { outcomes, txId: applied > 0 ? txId : "" };
}
