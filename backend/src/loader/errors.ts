/**
 * The loader's error type: every problem with a model file or its CSV data is reported as one
 * `LoadError` that names the file and, where it has one, the 1-based line and column.
 */

/**
 * Bad input to the model loader: a malformed or invalid model file, a missing file, an unknown
 * column, an unparsable number, a foreign key without a match, a duplicate key, and so on.
 *
 * The message is one line, `file:line:column: detail` (or `file: detail` when there is no position),
 * so that editors and terminals can jump to it.
 * - For problems in the model file, `file` is the model file and `line`/`column` point at the
 *   offending YAML key (or value).
 * - For problems in the data, `file` is the CSV file, `line` the 1-based line of the record where it
 *   starts (the header is line 1), and `column` the 1-based column number of the field.
 */
export class LoadError extends Error {
  override readonly name = "LoadError";
  /** Absolute path of the file at fault. */
  readonly file: string;
  /** 1-based line number, when known. */
  readonly line: number | undefined;
  /** 1-based column number, when known (a character column in the model file, a field number in a CSV file). */
  readonly column: number | undefined;
  /** The message without the `file:line:column: ` prefix. */
  readonly detail: string;

  constructor(file: string, line: number | undefined, column: number | undefined, detail: string) {
    super(`${formatLocation(file, line, column)}: ${detail}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.detail = detail;
  }
}

/** `file:line:column`, `file:line` or `file`, whichever the known parts allow. */
export function formatLocation(file: string, line?: number, column?: number): string {
  if (line === undefined) return file;
  if (column === undefined) return `${file}:${line}`;
  return `${file}:${line}:${column}`;
}
