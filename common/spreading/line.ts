/**
 * Row methods of TM1 data spreading: the values of a straight line (`SL start:end`) or a growth
 * (`GR start:rate`) over an ordered row of cells, e.g. the months of a year. Pure arithmetic: the
 * add-in uses it to turn `SL` / `GR` typed over a run of QATOM.CELL cells into one write per cell,
 * and the server (`applyRow` in backend/src/lattice/spread/methods.ts) combines the values with a
 * row's current values, data action and holds.
 *
 * Source: IBM Planning Analytics "Straight line data spreading method" and the "Data spreading and
 * hold syntax reference table"
 * (https://www.ibm.com/docs/en/planning-analytics/2.1.0?topic=syntax-data-spreading-hold-reference-table).
 */

/**
 * Straight Line `SL start:end` over an ordered row of cells (e.g. months): linear interpolation
 * between the endpoints at equal intervals, `start + (end - start) * k / (n - 1)`; one cell gets
 * `start`. IBM "Straight line data spreading method": six cells from 100 to 200 give
 * 100, 120, 140, 160, 180, 200.
 */
export function straightLine(n: number, start: number, end: number): Float64Array {
  const out = new Float64Array(Math.max(0, n));
  for (let k = 0; k < n; k++) out[k] = n === 1 ? start : start + ((end - start) * k) / (n - 1);
  return out;
}

/**
 * Growth % `GR start:rate` over an ordered row of cells: the first cell gets `start`, each next cell
 * the previous one grown by `rate` percent, `start * (1 + rate / 100) ** k` (IBM syntax table:
 * `GR300:25` applies a 25% growth to the starting value 300).
 */
export function growth(n: number, start: number, ratePercent: number): Float64Array {
  const out = new Float64Array(Math.max(0, n));
  const f = 1 + ratePercent / 100;
  let v = start;
  for (let k = 0; k < n; k++) {
    out[k] = v;
    v *= f;
  }
  return out;
}
