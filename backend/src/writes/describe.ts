/**
 * What a transaction row says was asked for (write_tx.detail, ListTransactions), as a person reads
 * it: the cells written, with the spread method (TM1's code) of writes to consolidated cells.
 */
import type { Cube, ScenarioCopySpec } from "../lattice";
import type { TransactionInfo } from "../store/types";
import { fmt } from "./conflicts";
import { describeSpread, repeatAsProportional } from "./plan";
import type { WriteInput } from "./types";

/** Writes named one by one in a description; the rest are counted. */
const NAMED_WRITES = 5;

/**
 * The transaction row of a WriteCells commit: kind `spread` when a write to a consolidated cell is
 * among the committed ones, else `write`; the detail names the first writes, e.g.
 * `P spread of 1200 into [Store].[USA], [Time].[1997]; [Store].[USA].[CA].[LA], [Time].[1997].[Q1] = 5`.
 * @param committed request indexes of the writes that reached the commit, in request order.
 */
export function describeWrites(cube: Cube, writes: readonly WriteInput[], targets: readonly (Int32Array | null)[], committed: readonly number[]): TransactionInfo {
  let spread = false;
  const parts: string[] = [];
  for (const i of committed) {
    const coords = targets[i]!;
    const w = writes[i];
    const names = cube.uniqueNames(coords).join(", ");
    if (cube.isConsolidated(coords)) {
      spread = true;
      const method = repeatAsProportional(w.spread?.method ?? (w.value === null ? "C" : "P"));
      if (parts.length < NAMED_WRITES) parts.push(`${describeSpread(method, w.spread)} spread of ${fmt(w.value)} into ${names}`);
    } else if (parts.length < NAMED_WRITES) {
      parts.push(`${names} = ${fmt(w.value)}`);
    }
  }
  const more = committed.length - parts.length;
  return { kind: spread ? "spread" : "write", detail: parts.join("; ") + (more > 0 ? `; and ${more} more` : "") };
}

/** The transaction row of a scenario copy, e.g. `copy [Scenario].[Actual] to [Scenario].[Plan] × 1.05 in [Time].[1997]`. */
export function describeCopy(cube: Cube, spec: ScenarioCopySpec): TransactionInfo {
  const dim = cube.dims[spec.dim];
  const slice: string[] = [];
  spec.slice.forEach((m, d) => {
    if (m >= 0) slice.push(cube.dims[d].uniqueName(m));
  });
  const factor = spec.factor === 1 ? "" : ` × ${spec.factor}`;
  return { kind: "copy", detail: `copy ${dim.uniqueName(spec.from)} to ${dim.uniqueName(spec.to)}${factor}${slice.length > 0 ? ` in ${slice.join(", ")}` : ""}` };
}
