/**
 * Embedded PGlite in a thread of its own. PGlite runs every statement synchronously in WebAssembly;
 * in the server's thread a large commit (seconds, in statements of tens to hundreds of milliseconds)
 * held every other request of the process for a statement at a time. Here the database lives in a
 * `worker_threads` Worker and the server's thread only posts statements and awaits their answers, so
 * reads served from the lattice go on while the database works.
 *
 * One thread per database: PGlite is a single connection, so statements run one after another in
 * the order posted. The thread loads PGlite with its own `require` (plain Node, outside jest's module
 * sandbox, where PGlite's dynamic `import()` of its WebAssembly works).
 */
import { Worker } from "node:worker_threads";

/**
 * The thread's program (CommonJS, evaluated as the Worker's source). Messages in:
 * `{id, op: "open"|"query"|"exec"|"copy"|"close", sql?, params?, parts?}` (`parts`: a COPY's data, text or bytes); out: `{id, ok: true, result}`
 * or `{id, ok: false, error: {message, name, code, detail, ...}}` (PostgreSQL's error fields, which
 * structured cloning of an Error would drop).
 */
const THREAD_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { PGlite } = require(workerData.module);
let db = null;
let chain = Promise.resolve();
const FIELDS = ["name", "code", "detail", "hint", "position", "severity", "schema", "table", "column", "constraint", "where"];
function describe(err) {
  // Emscripten's file-system errors are plain objects {name: "ErrnoError", errno}.
  const bare = err && err.message === undefined && err.errno !== undefined ? (err.name || "error") + " (errno " + err.errno + ")" : undefined;
  const out = { message: bare ?? (err && err.message !== undefined ? String(err.message) : String(err)) };
  for (const f of FIELDS) if (err && err[f] !== undefined && err[f] !== null) out[f] = String(err[f]);
  return out;
}
async function run(msg) {
  switch (msg.op) {
    case "open": db = await PGlite.create(workerData.dataDir); return null;
    case "query": return (await db.query(msg.sql, msg.params)).rows;
    case "exec": await db.exec(msg.sql); return null;
    case "copy": return (await db.query(msg.sql, [], { blob: new Blob(msg.parts) })).affectedRows ?? 0;
    case "close": { const open = db; db = null; if (open) await open.close(); return null; }
    default: throw new Error("unknown operation " + msg.op);
  }
}
parentPort.on("message", (msg) => {
  chain = chain.then(async () => {
    try {
      parentPort.postMessage({ id: msg.id, ok: true, result: await run(msg) });
    } catch (err) {
      parentPort.postMessage({ id: msg.id, ok: false, error: describe(err) });
    }
  });
});
`;

/** A message to the thread, less its id. */
type Request =
  | { op: "open" | "close" }
  | { op: "exec"; sql: string }
  | { op: "query"; sql: string; params: unknown[] }
  | { op: "copy"; sql: string; parts: (string | Uint8Array)[] };

/** The thread's answer. */
type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: Record<string, string> & { message: string } };

/**
 * The server's end of a PGlite database running in its own thread: statements go in order, one at
 * a time. Errors the database raises arrive as Errors carrying PostgreSQL's fields (`code` is the
 * SQLSTATE, e.g. `40P01`; `detail`, `constraint`, ...). When the thread dies (a WebAssembly abort, an
 * out-of-memory), every waiting and later statement rejects with `the embedded database (PGlite)
 * stopped: <why>`.
 */
export class PgliteThread {
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | null = null;

  private constructor(dataDir: string) {
    this.worker = new Worker(THREAD_SOURCE, { eval: true, workerData: { dataDir, module: require.resolve("@electric-sql/pglite") } });
    // The thread keeps the process alive only while a statement is waited for (see call).
    this.worker.unref();
    this.worker.on("message", (reply: Reply) => this.settle(reply));
    this.worker.on("error", (err) => this.stop(err.message));
    this.worker.on("exit", (code) => this.stop(`its thread exited with code ${code}`));
  }

  /**
   * Starts the thread and opens (creating when missing) the database in `dataDir`.
   * @throws Error `the embedded database (PGlite) in DIR could not be opened: WHY` when the
   *   directory holds no usable database (the thread is ended; the PGlite error is its `cause`).
   */
  static async open(dataDir: string): Promise<PgliteThread> {
    const thread = new PgliteThread(dataDir);
    try {
      await thread.call({ op: "open" });
    } catch (err) {
      await thread.worker.terminate();
      throw new Error(`the embedded database (PGlite) in ${dataDir} could not be opened: ${(err as Error).message}`, { cause: err });
    }
    return thread;
  }

  /** Runs one statement with `$1..` parameters and resolves to its rows. */
  query<R>(sql: string, params: unknown[]): Promise<R[]> {
    return this.call({ op: "query", sql, params }) as Promise<R[]>;
  }

  /** Runs `;`-separated statements without parameters. */
  async exec(sql: string): Promise<void> {
    await this.call({ op: "exec", sql });
  }

  /** Runs `sql` (a `COPY ... FROM '/dev/blob'` statement) over the data `parts` (text or bytes, in order); resolves to the rows copied. */
  copyBlob(sql: string, parts: (string | Uint8Array)[]): Promise<number> {
    return this.call({ op: "copy", sql, parts }) as Promise<number>;
  }

  /** Closes the database and ends the thread. */
  async close(): Promise<void> {
    try {
      if (this.stopped === null) await this.call({ op: "close" });
    } finally {
      this.stopped ??= new Error("the embedded database (PGlite) is closed");
      await this.worker.terminate();
    }
  }

  private call(request: Request): Promise<unknown> {
    if (this.stopped !== null) return Promise.reject(new Error(this.stopped.message));
    const id = this.nextId++;
    if (this.waiting.size === 0) this.worker.ref();
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ id, ...request });
      } catch (err) {
        // A parameter that cannot be sent (a function, a symbol): this statement fails, nothing waits on it.
        this.settle({ id, ok: false, error: { message: `the statement cannot be sent to the embedded database: ${(err as Error).message}` } });
      }
    });
  }

  private settle(reply: Reply): void {
    const waiter = this.waiting.get(reply.id);
    if (waiter === undefined) return;
    this.waiting.delete(reply.id);
    if (this.waiting.size === 0) this.worker.unref();
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(Object.assign(new Error(reply.error.message), reply.error));
  }

  private stop(why: string): void {
    if (this.stopped !== null) return;
    this.stopped = new Error(`the embedded database (PGlite) stopped: ${why}`);
    for (const waiter of this.waiting.values()) waiter.reject(new Error(this.stopped.message));
    this.waiting.clear();
    this.worker.unref();
  }
}
