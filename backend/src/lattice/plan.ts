/**
 * The one shape of planned leaf changes (a spread's, a scenario copy's): columns that the caller
 * turns into pending writes, commits in one transaction and then applies to the lattice.
 */

/**
 * Planned leaf changes, in columns: change `i` sets the leaf at `coords[i*dims .. (i+1)*dims)`
 * (member ids in dimension order) from `oldValues[i]` to `newValues[i]` (NaN = empty), based on
 * the leaf's version `baseVersions[i]` when planned (0 for a cell not stored yet). Leaves whose
 * value stays the same are left out.
 */
export interface LeafPlan {
  /** Number of changed leaves. */
  count: number;
  /** Number of dimensions (coordinates per change). */
  dims: number;
  coords: Int32Array;
  oldValues: Float64Array;
  newValues: Float64Array;
  /** Version of each leaf when planned; 0 for a cell not stored yet (or never written). */
  baseVersions: Float64Array;
  /**
   * Store row of each changed leaf, or -1 for a cell not stored yet. Engine-internal (row numbers
   * mean nothing outside the cube): use `baseVersions` and `coords`.
   */
  rows: Int32Array;
}
