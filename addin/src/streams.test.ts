/** The streams' reconnect backoff (pure), and how a stream reconnects around sign-in (a fake API). */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type WatchCellsResponse, WatchCellsResponseSchema } from "../../proto/gen/quantatom/v1/lattice_pb";
import type { QatomApi } from "./contracts";
import { SignInRequiredError } from "./errors";
import { backoffDelay, type StreamSink, StreamRegistry } from "./streams";

describe("stream reconnects", () => {
  it("backs off exponentially with jitter, capped", () => {
    const o = { backoffBaseMs: 1000, backoffMaxMs: 30_000 };
    expect(backoffDelay(0, { ...o, random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { ...o, random: () => 0.999 })).toBeCloseTo(1000, -1);
    expect(backoffDelay(3, { ...o, random: () => 0 })).toBe(4000);
    expect(backoffDelay(50, { ...o, random: () => 0.999 })).toBeLessThanOrEqual(30_000);
    expect(backoffDelay(50, { ...o, random: () => 0 })).toBe(15_000);
  });
});

describe("streams and sign-in", () => {
  /** A fake API whose WatchCells calls each run the next script: a list of messages, then an error (or none: the stream stays open). */
  function fakeApi(scripts: (() => { messages: WatchCellsResponse[]; end?: unknown })[]) {
    let calls = 0;
    const api = {
      serverUrl: "https://x",
      lattice: {
        watchCells: (_req: unknown, opts: { signal: AbortSignal }) =>
          (async function* () {
            const script = scripts[calls++]?.();
            if (!script) throw new Error("no more scripts");
            if (script.end instanceof SignInRequiredError) throw script.end; // before any message, as a missing token does
            for (const m of script.messages) yield m;
            if (script.end) throw script.end;
            await new Promise((resolve) => opts.signal.addEventListener("abort", resolve));
          })(),
      },
    } as unknown as QatomApi;
    return { api: async () => api, calls: () => calls };
  }
  const initial = () => create(WatchCellsResponseSchema, { initial: true, updates: [] });
  const sink = () => {
    const failures: string[] = [];
    let connected = 0;
    const s: StreamSink = {
      onCell: () => undefined,
      onFailure: (_keys, err) => failures.push(err instanceof Error ? err.message : String(err)),
      onConnected: () => connected++,
    };
    return { s, failures, connected: () => connected };
  };
  const opts = { debounceMs: 1, backoffBaseMs: 10_000, backoffMaxMs: 10_000, maxCells: 100, random: () => 0 };
  const until = async (cond: () => boolean) => {
    for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(cond()).toBe(true);
  };

  it("a live stream ended by token expiry reconnects at once (no backoff, no error shown)", async () => {
    const expired = new ConnectError("the access token expired; reconnect with a fresh one", Code.Unauthenticated);
    const fake = fakeApi([() => ({ messages: [initial()], end: expired }), () => ({ messages: [initial()] })]);
    const out = sink();
    const streams = new StreamRegistry(fake.api, out.s, opts);
    streams.watch("demo", "Demo", "k1", ["[Region].[North]"]);
    await until(() => out.connected() === 2);
    expect(fake.calls()).toBe(2);
    expect(out.failures).toEqual([]);
    streams.dispose();
  });

  it("without a sign-in a stream reports it and waits (no retries) until it is restarted after sign-in", async () => {
    const fake = fakeApi([() => ({ messages: [], end: new SignInRequiredError() }), () => ({ messages: [initial()] })]);
    const out = sink();
    const streams = new StreamRegistry(fake.api, out.s, { ...opts, backoffBaseMs: 1, backoffMaxMs: 1 });
    streams.watch("demo", "Demo", "k1", ["[Region].[North]"]);
    await until(() => out.failures.length === 1);
    await new Promise((r) => setTimeout(r, 50)); // a retry would have happened by now (1 ms backoff)
    expect(fake.calls()).toBe(1);
    expect(out.failures).toEqual(["Sign in in the task pane"]);
    streams.restartAll(); // signed in
    await until(() => out.connected() === 1);
    expect(fake.calls()).toBe(2);
    streams.dispose();
  });

  it("a token refused at connect is retried at once with a fresh one; refused again, it backs off as any failure does", async () => {
    const refused = new ConnectError("sign in again: the token is not valid", Code.Unauthenticated);
    const once = fakeApi([() => ({ messages: [], end: refused }), () => ({ messages: [initial()] })]);
    const quiet = sink();
    const first = new StreamRegistry(once.api, quiet.s, opts);
    first.watch("demo", "Demo", "k1", ["[Region].[North]"]);
    await until(() => quiet.connected() === 1);
    expect(quiet.failures).toEqual([]); // no error shown for a token renewed at once
    first.dispose();

    const fake = fakeApi([() => ({ messages: [], end: refused }), () => ({ messages: [], end: refused }), () => ({ messages: [initial()] })]);
    const out = sink();
    const streams = new StreamRegistry(fake.api, out.s, { ...opts, backoffBaseMs: 40, backoffMaxMs: 40 });
    const t0 = Date.now();
    streams.watch("demo", "Demo", "k1", ["[Region].[North]"]);
    await until(() => out.connected() === 1);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(20);
    expect(out.failures).toEqual(["[unauthenticated] sign in again: the token is not valid"]);
    streams.dispose();
  });

  it("reports its live streams (all cubes) and the pending retry, for the connection line", async () => {
    const down = new Error("Not connected to https://x");
    // Cube one streams; cube two fails once, then streams.
    const fake = fakeApi([() => ({ messages: [initial()] }), () => ({ messages: [], end: down }), () => ({ messages: [initial()] })]);
    const out = sink();
    let reports = 0;
    const streams = new StreamRegistry(fake.api, out.s, { ...opts, backoffBaseMs: 60, backoffMaxMs: 60 }, () => reports++);
    expect([streams.liveStreams(), streams.nextRetryAt()]).toEqual([0, null]);
    streams.watch("one", "One", "k1", ["[Region].[North]"]);
    await until(() => streams.liveStreams() === 1);
    const before = Date.now();
    streams.watch("two", "Two", "k2", ["[Region].[North]"]);
    await until(() => streams.nextRetryAt() !== null);
    expect(streams.nextRetryAt()).toBeGreaterThanOrEqual(before);
    expect(streams.liveStreams()).toBe(1);
    expect(out.failures).toEqual(["Not connected to https://x"]);
    await until(() => streams.liveStreams() === 2);
    expect(streams.nextRetryAt()).toBeNull();
    expect(reports).toBeGreaterThanOrEqual(4); // live, retry pending, retry started, live
    streams.dispose();
    expect(streams.liveStreams()).toBe(0);
  });
});
