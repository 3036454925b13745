/**
 * The declarative model file: a YAML (or JSON, which is YAML) document that maps the CSV tables of
 * a star or snowflake schema to one cube. Read and validated in ./source.ts (zod shape in
 * ./schema.ts, line and column lookup in ./positions.ts), then compiled into a {@link ModelPlan}
 * (./plan.ts) by ./compile.ts, every problem a LoadError with the model file's path and the
 * YAML line and column of the offending key.
 *
 * The format, with a full example and every option: docs/model-file.md (and
 * data/foodmart/model.yaml).
 * @see ../../../../docs/model-file.md
 */
export { compileModel } from "./compile";
export type {
  ColumnRef,
  ModelPlan,
  PlanDimension,
  PlanExpr,
  PlanFactor,
  PlanFormula,
  PlanJoin,
  PlanLevel,
  PlanMeasure,
  PlanMeasuresDimension,
  PlanStaticDimension,
  PlanStaticMember,
  PlanTable,
  PlanTableDimension,
} from "./plan";
export { formatPath } from "./positions";
export { type ModelFile, ModelFileSchema, type ModelLevel, type ModelMeasure, type ModelPath, type ModelStaticMember } from "./schema";
export { type ModelSource, parseModelText, readModelFile } from "./source";
