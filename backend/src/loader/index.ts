/**
 * The model loader: a declarative model file (YAML/JSON, see ./model and docs/model-file.md) mapping CSV tables of
 * a star or snowflake schema to a cube, loaded into a CubeDef and LeafCells in memory
 * ({@link loadModel}) and saved to a store in one transaction ({@link loadModelIntoStore}).
 */
import type { CubeDef } from "../lattice";
import type { Store } from "../store/types";
import { type LoadProgressFn, loadModel } from "./load";
import { createProgressBars } from "./progress";

export { CsvRecordError, recordLine, streamCsv } from "./csv";
export { describeBadDecimal, parseScaled } from "./decimal";
export { formatLocation, LoadError } from "./errors";
export { type ExprTerm, parseExpression } from "./expression";
export { type LoadOptions, type LoadProgressFn, type LoadResult, loadModel, NULL_MEMBER_NAME } from "./load";
export {
  compileModel,
  type ModelFile,
  ModelFileSchema,
  type ModelPath,
  type ModelPlan,
  type ModelSource,
  parseModelText,
  readModelFile,
} from "./model";
export { bracket, findMember, memberUniqueName, parseUniqueName } from "./names";
export { createProgressBars, type ProgressBars } from "./progress";

/** What {@link loadModelIntoStore} did. */
export interface LoadSummary {
  /** Id of the stored cube (from Store.saveCube). */
  cubeId: number;
  /** The cube's definition as stored. */
  def: CubeDef;
  /** Number of dimensions, measures dimension included. */
  dimensions: number;
  /** Members over all dimensions, All members included. */
  members: number;
  /** Leaf cells stored (rows of LeafCells). */
  leafCells: number;
  /** Wall-clock seconds of the load and the save together. */
  seconds: number;
}

/**
 * Loads a model file and saves the cube, with its security section, to `store` (replacing a cube of
 * the same name, and its rights). The load
 * happens entirely in memory first; only a complete cube is handed to `store.saveCube`, which
 * writes it in one transaction, so a failure at any point leaves the store unchanged. Used by
 * `quantatom load` and by the server's first start.
 *
 * @param tenant the tenant the cube belongs to (common/tenants.ts); default DEFAULT_TENANT.
 * @param onProgress phases `read`, `aggregate`, `build` (see LoadProgressFn), then `save` with
 *   saveCube's progress in rows. When left out, progress bars are drawn on stderr (if it is a
 *   terminal); pass `() => {}` for silence.
 * @throws LoadError for bad input (see loadModel); the store's error when saving fails.
 */
export async function loadModelIntoStore(
  store: Store,
  modelPath: string,
  onProgress?: LoadProgressFn,
  tenant?: string,
): Promise<LoadSummary> {
  const started = performance.now();
  const bars = onProgress ? undefined : createProgressBars();
  const report = onProgress ?? bars!.onProgress;
  let def: CubeDef;
  let cubeId: number;
  let count: number;
  try {
    const loaded = await loadModel(modelPath, { onProgress: report });
    def = loaded.def;
    count = loaded.cells.count;
    cubeId = await store.saveCube(def, loaded.cells, (done, total) => report("save", done, total), loaded.security, tenant);
  } finally {
    bars?.stop();
  }
  return {
    cubeId,
    def,
    dimensions: def.dimensions.length,
    members: def.dimensions.reduce((n, d) => n + d.members.length, 0),
    leafCells: count,
    seconds: (performance.now() - started) / 1000,
  };
}
