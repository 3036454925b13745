/**
 * The comment feed behind QATOM.COMMENT: the newest comment on each followed cell. The protocol
 * has no comment stream yet, so the feed reads each cell once when it is first followed, again
 * every `pollMs` while followed, and at once after this runtime adds a comment to the cube.
 */
import type { CellRef, CommentOutcome, QatomApi } from "./contracts";
import { isNetworkFailure, toQatomError } from "./errors";
import { cubeKey, refKey } from "./observable";
import type { ConnectionReporter } from "./cells";

/** Timing and concurrency of the comment feed. */
export interface CommentOptions {
  /** How often every followed cell is read again. */
  pollMs: number;
  /** Most ListComments calls in flight at once. */
  concurrency: number;
}

/** Defaults: read again every 15 s, 4 calls at a time. */
export const DEFAULT_COMMENT_OPTIONS: CommentOptions = { pollMs: 15_000, concurrency: 4 };

interface Entry {
  key: string;
  cubeKey: string;
  ref: CellRef;
  current: CommentOutcome | null;
  listeners: Set<(o: CommentOutcome) => void>;
  queued: boolean;
}

function same(a: CommentOutcome | null, b: CommentOutcome): boolean {
  if (!a || a.ok !== b.ok) return false;
  return a.ok ? a.text === (b as { text: string }).text : a.error.message === (b as typeof a).error.message;
}

/** Newest comments by cell; see the module comment. */
export class CommentFeed {
  private readonly entries = new Map<string, Entry>();
  private readonly queue: Entry[] = [];
  private running = 0;
  private poll: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly api: () => Promise<QatomApi>,
    private readonly connection: ConnectionReporter,
    private readonly opts: CommentOptions = DEFAULT_COMMENT_OPTIONS,
  ) {}

  /** Follows one cell's newest comment; returns the function that stops following. */
  subscribe(ref: CellRef, listener: (o: CommentOutcome) => void): () => void {
    const key = refKey(ref);
    let e = this.entries.get(key);
    if (!e) {
      e = { key, cubeKey: cubeKey(ref.cube), ref, current: null, listeners: new Set(), queued: false };
      this.entries.set(key, e);
      this.enqueue(e);
      this.poll ??= setInterval(() => this.refreshAll(), this.opts.pollMs);
    }
    const entry = e;
    entry.listeners.add(listener);
    if (entry.current) listener(entry.current);
    return () => {
      entry.listeners.delete(listener);
      if (entry.listeners.size === 0 && this.entries.get(key) === entry) this.entries.delete(key);
      if (this.entries.size === 0 && this.poll) {
        clearInterval(this.poll);
        this.poll = null;
      }
    };
  }

  /** Reads the followed cells of one cube again now (after a comment was added to it). */
  refreshCube(cube: string): void {
    const k = cubeKey(cube);
    for (const e of this.entries.values()) if (e.cubeKey === k) this.enqueue(e);
  }

  /** Reads every followed cell again now. */
  refreshAll(): void {
    for (const e of this.entries.values()) this.enqueue(e);
  }

  dispose(): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = null;
    this.entries.clear();
    this.queue.length = 0;
  }

  private enqueue(e: Entry): void {
    if (e.queued) return;
    e.queued = true;
    this.queue.push(e);
    this.pump();
  }

  private pump(): void {
    while (this.running < this.opts.concurrency && this.queue.length > 0) {
      const e = this.queue.shift()!;
      e.queued = false;
      if (this.entries.get(e.key) !== e) continue;
      this.running++;
      void this.read(e).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async read(e: Entry): Promise<void> {
    let next: CommentOutcome;
    let url = "";
    try {
      const api = await this.api();
      url = api.serverUrl;
      const res = await api.commentary.listComments({ cube: e.ref.cube, members: e.ref.members, limit: 1 });
      this.connection.succeeded();
      next = { ok: true, text: res.comments[0]?.text ?? "" };
    } catch (err) {
      this.connection.failed(err, url);
      // A comment already shown stays while the server is unreachable; anything else shows why.
      if (isNetworkFailure(err) && e.current?.ok) return;
      next = { ok: false, error: toQatomError(err, url) };
    }
    if (this.entries.get(e.key) !== e || same(e.current, next)) return;
    e.current = next;
    for (const fn of Array.from(e.listeners)) fn(next);
  }
}
