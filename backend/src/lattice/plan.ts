/** The leaf changes a write plans (a spread, a scenario copy), in columns. */
export interface LeafPlan {
  count: number;
  dims: number;
  coords: Int32Array;
  oldValues: Float64Array;
  newValues: Float64Array;
  baseVersions: Float64Array;
}
