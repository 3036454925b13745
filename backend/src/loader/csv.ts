/**
 * Streaming CSV reading for the loader, on csv-parse: RFC 4180 quoting, a header row, LF or CRLF
 * line ends, an optional UTF-8 BOM. Records are handed over one at a time as arrays of strings and
 * never collected here; errors become {@link LoadError}s with the file, the 1-based line where the
 * record starts and the 1-based column number.
 *
 * Line numbers are not tracked while reading (that costs csv-parse an object per record): an error
 * names the record by its index, and the file is scanned again to find its line.
 */
import { createReadStream } from "node:fs";
import { parse } from "csv-parse";
import { LoadError } from "./errors";

/** Options of csv-parse shared by the reading and the line-finding scans. */
const PARSE_OPTIONS = { bom: true, skip_empty_lines: true } as const;

/**
 * A problem found in a data record, thrown from a record callback of {@link streamCsv}; it becomes
 * a LoadError once the record's line is known.
 */
export class CsvRecordError extends Error {
  /**
   * @param record 0-based index of the data record (the header is not counted).
   * @param column 1-based column number, if the problem is in one field.
   * @param firstRecord an earlier record involved (e.g. the first row with a duplicated key); its
   *   line is added to the message as ` (first on line N)`.
   */
  constructor(
    readonly record: number,
    readonly column: number | undefined,
    readonly detail: string,
    readonly firstRecord?: number,
  ) {
    super(detail);
  }
}

/** Callbacks of {@link streamCsv}. */
export interface CsvHandlers {
  /** The header row (column names). May throw to stop reading. */
  onHeader(header: string[]): void;
  /**
   * One data record, `index` 0-based. The array is only valid during the call. May throw (a
   * CsvRecordError to point at the record) to stop reading.
   */
  onRecord(record: string[], index: number): void;
  /** Bytes read so far, after each chunk. */
  onBytes?(bytes: number): void;
}

/**
 * Reads a CSV file record by record.
 * @returns the number of data records and bytes read.
 * @throws LoadError for a missing or unreadable file, malformed CSV (e.g. a record with the wrong
 *   number of fields, an unclosed quote), an empty file, or a CsvRecordError thrown by a handler;
 *   other errors thrown by a handler are passed through.
 */
export async function streamCsv(file: string, handlers: CsvHandlers): Promise<{ records: number; bytes: number }> {
  let records = 0;
  let bytes = 0;
  let sawHeader = false;
  try {
    await new Promise<void>((resolve, reject) => {
      const input = createReadStream(file, { highWaterMark: 1 << 20 });
      const parser = parse(PARSE_OPTIONS);
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        input.unpipe(parser);
        input.destroy();
        parser.destroy();
        reject(err);
      };
      input.on("error", fail);
      parser.on("error", fail);
      if (handlers.onBytes) {
        const onBytes = handlers.onBytes;
        input.on("data", (chunk) => {
          bytes += chunk.length;
          onBytes(bytes);
        });
      } else {
        input.on("data", (chunk) => {
          bytes += chunk.length;
        });
      }
      parser.on("readable", () => {
        try {
          while (!failed) {
            const record = parser.read() as string[] | null;
            if (record === null) break;
            if (!sawHeader) {
              sawHeader = true;
              handlers.onHeader(record);
            } else {
              handlers.onRecord(record, records);
              records++;
            }
          }
        } catch (err) {
          fail(err);
        }
      });
      parser.on("end", () => {
        if (!failed) resolve();
      });
      input.pipe(parser);
    });
  } catch (err) {
    throw await toLoadError(file, err);
  }
  if (!sawHeader) throw new LoadError(file, undefined, undefined, "the file is empty; expected a header row");
  return { records, bytes };
}

/** Converts a reading failure to a LoadError (see streamCsv). */
async function toLoadError(file: string, err: unknown): Promise<unknown> {
  if (err instanceof LoadError) return err;
  if (err instanceof CsvRecordError) {
    return recordError(file, err.record, err.column, err.detail, err.firstRecord);
  }
  const e = err as NodeJS.ErrnoException & { lines?: number };
  if (e?.code === "ENOENT") return new LoadError(file, undefined, undefined, "file not found");
  if (e?.code === "EISDIR") return new LoadError(file, undefined, undefined, "is a folder, not a file");
  if (typeof e?.code === "string" && e.code.startsWith("CSV_")) {
    return new LoadError(file, e.lines, undefined, `invalid CSV: ${e.message}`);
  }
  return err;
}

/**
 * 1-based line number where data record `index` (0-based, header not counted) starts, by scanning
 * the file again. Correct also when quoted fields span lines. Returns undefined when the file has
 * fewer records.
 */
export async function recordLine(file: string, index: number): Promise<number | undefined> {
  const target = index + 1; // the header is record 0 of the scan
  return new Promise<number | undefined>((resolve, reject) => {
    let seen = 0;
    let found: number | undefined;
    const input = createReadStream(file, { highWaterMark: 1 << 20 });
    const parser = parse({
      ...PARSE_OPTIONS,
      on_record: (record: string[], info: { lines: number }) => {
        if (seen === target) {
          // info.lines is the line where the record ends; subtract its embedded line breaks.
          let breaks = 0;
          for (const field of record) {
            for (let p = field.indexOf("\n"); p !== -1; p = field.indexOf("\n", p + 1)) breaks++;
          }
          found = info.lines - breaks;
          input.unpipe(parser);
          input.destroy();
          parser.end();
        }
        seen++;
        return null;
      },
    });
    input.on("error", reject);
    parser.on("error", (err) => (found === undefined ? reject(err) : resolve(found)));
    parser.on("data", () => {});
    parser.on("end", () => resolve(found));
    parser.on("close", () => resolve(found));
    input.pipe(parser);
  });
}

/**
 * Creates a LoadError for data record `index` of `file` (see {@link recordLine}), e.g. a foreign
 * key without a match found after the file was read. With `firstRecord`, the line of that earlier
 * record is added as ` (first on line N)`.
 */
export async function recordError(
  file: string,
  index: number,
  column: number | undefined,
  detail: string,
  firstRecord?: number,
): Promise<LoadError> {
  const line = await recordLine(file, index);
  const first = firstRecord === undefined ? "" : ` (first on line ${await recordLine(file, firstRecord)})`;
  return new LoadError(file, line, column, `${detail}${first}`);
}
