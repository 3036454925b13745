/**
 * Reading a model file: YAML parsed with positions kept, validated against {@link ModelFileSchema},
 * and wrapped as a {@link ModelSource} that can point at any of its parts in an error.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { LineCounter, parseDocument } from "yaml";
import { LoadError } from "../errors";
import { formatPath, nodeOffset, scalarCharOffset, valueNode } from "./positions";
import { type ModelFile, ModelFileSchema, type ModelPath } from "./schema";

/** A parsed model file with the means to point at its parts. */
export interface ModelSource {
  /** Absolute path of the model file. */
  file: string;
  /** Folder of the model file: CSV paths are relative to it. */
  dir: string;
  /** The validated content. */
  model: ModelFile;
  /**
   * 1-based line and column of the node at `p`: of the key when the last step is a map key, of the
   * item when it is a sequence index. When `p` does not exist in the document (e.g. a missing
   * required key), of the deepest node on the way that does.
   */
  position(p: ModelPath): { line: number; column: number };
  /** A LoadError in the model file at `p`. */
  error(p: ModelPath, detail: string): LoadError;
  /**
   * 1-based line and column of the `column`-th character (1-based) of the string value at `p`
   * (e.g. a formula), when the value is a one-line plain or quoted scalar whose escapes can be
   * followed; otherwise of the value's start.
   */
  textPosition(p: ModelPath, column: number): { line: number; column: number };
}

/**
 * Reads and validates a model file.
 * @param modelPath path of the YAML or JSON file (relative paths resolve against the working folder).
 * @throws LoadError when the file is missing, is not valid YAML, or does not match the schema
 *   (e.g. `model.yaml:12:9: dimensions[2].levels[0]: Unrecognized key: "colum"`).
 */
export async function readModelFile(modelPath: string): Promise<ModelSource> {
  const file = path.resolve(modelPath);
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new LoadError(
      file,
      undefined,
      undefined,
      code === "ENOENT" ? "model file not found" : `cannot read model file: ${(err as Error).message}`,
    );
  }
  return parseModelText(text, file);
}

/**
 * Parses and validates model file text; `file` is used for error messages and as the base of the
 * CSV paths. See {@link readModelFile}.
 */
export function parseModelText(text: string, file: string): ModelSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = lineCounter.linePos(e.pos[0]);
    throw new LoadError(file, pos.line, pos.col, `invalid YAML: ${e.message.split("\n")[0]}`);
  }
  const position = (p: ModelPath): { line: number; column: number } => {
    const offset = nodeOffset(doc.contents, p);
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };
  const error = (p: ModelPath, detail: string): LoadError => {
    const pos = position(p);
    return new LoadError(file, pos.line, pos.column, detail);
  };
  const textPosition = (p: ModelPath, column: number): { line: number; column: number } => {
    const pos = lineCounter.linePos(scalarCharOffset(text, valueNode(doc.contents, p), column) ?? nodeOffset(doc.contents, p));
    return { line: pos.line, column: pos.col };
  };
  const raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  const parsed = ModelFileSchema.safeParse(raw);
  if (!parsed.success) {
    // An unknown key is usually why a required one is missing (a typo): report it first.
    const issues = parsed.error.issues;
    const issue = issues.find((i) => i.code === "unrecognized_keys") ?? issues[0];
    let p: ModelPath = issue.path.filter((s): s is string | number => typeof s !== "symbol");
    if (issue.code === "unrecognized_keys" && issue.keys.length > 0) p = [...p, issue.keys[0]];
    const where = formatPath(p);
    throw error(p, `${where ? `${where}: ` : ""}${issue.message}`);
  }
  return { file, dir: path.dirname(file), model: parsed.data, position, error, textPosition };
}
