/**
 * The QATOM custom functions reading and streaming cells as Excel runs them: the functions bundle
 * (esbuild, as the build makes it) loaded with stand-ins for Excel's CustomFunctions, OfficeRuntime
 * and Office/Excel globals, against a real backend on an ephemeral port (the small Demo cube in a
 * temporary PGlite store): one GetCells per wave, shared WatchCells streams, errors, QATOM.MEMBERS,
 * QATOM.COMMENT, and reconnecting after a restart. Writeback is in functions-writeback.test.ts.
 */
import fs from "node:fs";
import net from "node:net";
import { DevIssuer } from "../backend/src/auth";
import { WriteStatus } from "../proto/gen/quantatom/v1/lattice_pb";
import { demoFunctions, newDemoStore, otherClient, startDemoServer, units } from "./helpers/demo-functions";
import { StandInError, StreamingInvocationStub, waitFor } from "./helpers/office-stand-ins";

describe("QATOM functions bundle against a real backend", () => {
  const demo = demoFunctions();
  const { load, cell, loaded } = demo;

  it("sends 1,000 QATOM.CELL calls of one wave as one GetCells of the distinct cells, and streams them on one WatchCells", async () => {
    const f = await load();
    const regions = ["[Region].[All Regions]", "[Region].[North]", "[Region].[North].[Oslo]", "[Region].[North].[Bergen]", "[Region].[South]", "[Region].[South].[Rome]"];
    const products = ["[Product].[All Products]", "[Product].[Widget]", "[Product].[Gadget]", "[Product].[Alpha]"];
    const channels = ["[Channel].[All Channels]", "[Channel].[Web]", "[Channel].[Alpha]"];
    const combos: string[][] = [];
    for (const r of regions) for (const p of products) for (const c of channels) combos.push([units, r, p, c]);
    const calls = Array.from({ length: 1000 }, (_, i) => combos[i % combos.length]);
    const invocations = calls.map((members) => cell(f, "Demo", members));
    await waitFor(() => invocations.every((inv) => inv.results.length > 0), 5000, "every call's first value");

    const gets = f.requests.filter((r) => r.method === "GetCells");
    expect(gets.length).toBeGreaterThanOrEqual(1);
    expect(gets.length).toBeLessThanOrEqual(3);
    const sent = gets.flatMap((g) => g.cells!.map((m) => m.join("|")));
    expect(sent.length).toBe(combos.length);
    expect(new Set(sent)).toEqual(new Set(combos.map((m) => m.join("|"))));

    // the values are the server's
    const truth = await otherClient(demo.server.url).lattice.getCells({ cube: "Demo", cells: combos.map((members) => ({ members })) });
    invocations.forEach((inv, i) => {
      expect(inv.last).toBe(truth.cells[i % combos.length].value ?? 0);
    });

    await waitFor(() => f.context.streamedCellCount("Demo") === combos.length, 5000, "the stream");
    const watches = f.requests.filter((r) => r.method === "WatchCells");
    expect(watches).toHaveLength(1);
    expect(watches[0].cells).toHaveLength(combos.length);
    expect(gets.every((g) => g.user === "tester")).toBe(true);
  });

  it("splits a cube's stream only above the server's cell limit", async () => {
    const f = await load({ tuning: { streams: { debounceMs: 30, backoffBaseMs: 100, backoffMaxMs: 400, maxCells: 2 } } });
    const regions = ["[Region].[North]", "[Region].[South]", "[Region].[North].[Oslo]", "[Region].[North].[Bergen]", "[Region].[South].[Rome]"];
    const invs = regions.map((r) => cell(f, "Demo", [units, r]));
    await waitFor(() => f.context.streamedCellCount("Demo") === 5, 5000, "the streams");
    expect(f.requests.filter((r) => r.method === "WatchCells").map((r) => r.cells!.length)).toEqual([2, 2, 1]);
    expect(invs.every((i) => typeof i.last === "number")).toBe(true);
  });

  it("updates a streaming QATOM.CELL on a consolidated ancestor within one second of another client's WriteCells", async () => {
    const f = await load();
    const total = cell(f, "Demo", [units, "[Region].[North]", "[Scenario].[Plan]"]);
    await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream");
    const before = total.last as number;
    expect(typeof before).toBe("number");

    const bob = otherClient(demo.server.url, "bob").lattice;
    const leaf = [units, "[Region].[North].[Oslo]", "[Product].[Gadget]", "[Channel].[Web]", "[Scenario].[Plan]"];
    const cur = await bob.getCells({ cube: "Demo", cells: [{ members: leaf }] });
    const t0 = Date.now();
    const w = await bob.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 7, baseVersion: cur.cells[0].version }] });
    expect(w.results[0].status).toBe(WriteStatus.APPLIED);
    await waitFor(() => total.last === before + 7, 1000, "the streamed total");
    expect(Date.now() - t0).toBeLessThan(1000);
    // one stream, no further reads
    expect(f.requests.filter((r) => r.method === "WatchCells")).toHaveLength(1);
    expect(f.requests.filter((r) => r.method === "GetCells")).toHaveLength(1);
  });

  it("unsubscribes a canceled formula: the stream restarts without it and it gets no more results", async () => {
    const f = await load();
    const watched = () => demo.server.backend.cube("Demo").cube.watchedCellCount();
    const south = cell(f, "Demo", [units, "[Region].[South]", "[Scenario].[Plan]"]);
    const north = cell(f, "Demo", [units, "[Region].[North]", "[Scenario].[Plan]"]);
    // a second formula on the same cell shares it
    const south2 = cell(f, "Demo", [units, "[Region].[South]", "[Scenario].[Plan]"]);
    await waitFor(() => f.context.streamedCellCount("Demo") === 2, 5000, "the stream");
    const onServer = watched();
    expect(onServer).toBeGreaterThanOrEqual(2);

    south.cancel();
    await new Promise((r) => setTimeout(r, 150));
    expect(f.context.streamedCellCount("Demo")).toBe(2); // south2 still shows it
    south2.cancel();
    await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream without South");
    await waitFor(() => watched() <= onServer - 1, 5000, "the server's watch set to shrink");
    const lastWatch = f.requests.filter((r) => r.method === "WatchCells").at(-1)!;
    expect(lastWatch.cells).toEqual([[units, "[Region].[North]", "[Scenario].[Plan]"]]);

    const southResults = south.results.length;
    const bob = otherClient(demo.server.url).lattice;
    const rome = [units, "[Region].[South].[Rome]", "[Product].[Gadget]", "[Channel].[Alpha]", "[Scenario].[Plan]"];
    const cur = await bob.getCells({ cube: "Demo", cells: [{ members: rome }] });
    await bob.writeCells({ cube: "Demo", writes: [{ members: rome, value: (cur.cells[0].value ?? 0) + 1, baseVersion: cur.cells[0].version }] });
    const oslo = [units, "[Region].[North].[Oslo]", "[Product].[Gadget]", "[Channel].[Web]", "[Scenario].[Plan]"];
    const cur2 = await bob.getCells({ cube: "Demo", cells: [{ members: oslo }] });
    const northBefore = north.last as number;
    await bob.writeCells({ cube: "Demo", writes: [{ members: oslo, value: (cur2.cells[0].value ?? 0) + 1, baseVersion: cur2.cells[0].version }] });
    await waitFor(() => north.last === northBefore + 1, 2000, "North to move");
    expect(south.results.length).toBe(southResults);
    expect(south.resultsAfterCancel + south2.resultsAfterCancel).toBe(0);

    north.cancel();
    await waitFor(() => f.context.streamedCellCount("Demo") === 0, 5000, "the stream to stop");
    expect(north.resultsAfterCancel).toBe(0);
  });

  it("maps errors: unknown and ambiguous members and unknown cubes to #N/A with the server's message, wrong types to #VALUE!, never 0", async () => {
    const f = await load();
    const unknown = cell(f, "Demo", [units, "[Region].[North].[Nowhere]"]);
    const ambiguous = cell(f, "Demo", ["Alpha"]);
    const numberName = cell(f, "Demo", [units, 1997]);
    const unknownCube = cell(f, "Nope", [units]);
    const boolMember = cell(f, "Demo", [units, true]);
    const fraction = cell(f, "Demo", [units, 2.5]);
    const boolCube = cell(f, false, [units]);
    const emptyCube = cell(f, "", [units]);
    const noMembers = cell(f, "Demo", [[["", null]]]);
    const all = [unknown, ambiguous, numberName, unknownCube, boolMember, fraction, boolCube, emptyCube, noMembers];
    await waitFor(() => all.every((i) => i.results.length > 0), 5000, "every result");
    await waitFor(() => f.context.streamedCellCount("Demo") === 3, 5000, "the stream");

    const err = (i: StreamingInvocationStub<number>) => i.last as StandInError;
    expect(err(unknown)).toBeInstanceOf(StandInError);
    expect(err(unknown).code).toBe("#N/A");
    expect(err(unknown).message).toMatch(/unknown member \[Region\]\.\[North\]\.\[Nowhere\]: dimension Region has no member "Nowhere"/);
    expect(err(ambiguous).code).toBe("#N/A");
    expect(err(ambiguous).message).toMatch(/ambiguous member Alpha: it matches 2 members \(\[Product\]\.\[Alpha\], \[Channel\]\.\[Alpha\]\)/);
    // a whole number is a name (Excel stores a typed 1997 as a number); this cube has none so named
    expect(err(numberName).code).toBe("#N/A");
    expect(err(numberName).message).toMatch(/unknown member 1997/);
    expect(err(unknownCube)).toEqual(new StandInError("#N/A", 'cube "Nope" not found; cubes: Demo'));
    expect(err(boolMember)).toEqual(new StandInError("#VALUE!", "member 2 must be text (a name), got boolean true"));
    expect(err(fraction).code).toBe("#VALUE!");
    expect(err(boolCube)).toEqual(new StandInError("#VALUE!", "cube must be text (a name), got boolean false"));
    expect(err(emptyCube).code).toBe("#VALUE!");
    expect(err(noMembers).code).toBe("#VALUE!");
    // the stream re-sends the same errors; none ever became a number
    for (const i of all) expect(i.results.every((r) => r instanceof StandInError)).toBe(true);
    // type errors never reach the server (the unknown cube is a GetCells of its own)
    const sent = f.requests.filter((r) => r.method === "GetCells").flatMap((r) => r.cells!);
    expect(sent).toEqual([[units, "[Region].[North].[Nowhere]"], ["Alpha"], [units, "1997"], [units]]);

    const members = f.functions.get("MEMBERS")!;
    await expect(members("Demo", "Planet")).rejects.toEqual(new StandInError("#N/A", 'cube Demo has no dimension "Planet"; dimensions: Region, Product, Channel, Scenario, Measures'));
    await expect(members("Demo", "Region", "Atlantis")).rejects.toMatchObject({ code: "#N/A", message: expect.stringMatching(/Atlantis/) });
    await expect(members("Demo", "Region", null, -1)).rejects.toMatchObject({ code: "#VALUE!", message: expect.stringMatching(/depth must be a whole number/) });
    await expect(members("Demo", "Region", null, 1.5)).rejects.toMatchObject({ code: "#VALUE!" });
    await expect(members("Demo", "", null, null)).rejects.toMatchObject({ code: "#VALUE!", message: expect.stringMatching(/dimension is required/) });

    const badComment = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", [[["Atlantis"]]], badComment);
    await waitFor(() => badComment.results.length > 0, 5000, "the comment");
    expect(badComment.last).toMatchObject({ code: "#N/A", message: expect.stringMatching(/unknown member Atlantis/) });
  });

  it('shows #N/A "Not connected to <url>" when the server is unreachable, for every function', async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const f = await load({ serverUrl: url });
    const c = cell(f, "Demo", [units]);
    const note = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", [[[units]]], note);
    await waitFor(() => c.results.length > 0 && note.results.length > 0, 5000, "results");
    const expected = new StandInError("#N/A", `Not connected to ${url}`);
    expect(c.last).toEqual(expected);
    expect(note.last).toEqual(expected);
    await expect(f.functions.get("MEMBERS")!("Demo", "Region")).rejects.toEqual(expected);
    expect(f.context.connection.get()).toMatchObject({ status: "disconnected", serverUrl: url, message: `Not connected to ${url}` });
    // the stream keeps retrying with backoff (each try first asks the server how to sign in); nothing ever shows 0
    await waitFor(() => f.requests.filter((r) => r.method === "config").length >= 3, 5000, "stream retries");
    expect(c.results.every((r) => r instanceof StandInError)).toBe(true);

    // the user fixes the server URL in the task pane (it is stored) and signs in to that server:
    // the cells recover by themselves
    await f.context.saveSettings({ serverUrl: `${demo.server.url}/` });
    expect(JSON.parse(f.storage.items.get("quantatom.connection")!)).toEqual({ serverUrl: demo.server.url });
    await waitFor(() => (c.last as StandInError)?.message === "Sign in in the task pane", 5000, "a sign-in to the new server");
    await f.context.auth.signIn({ user: "tester" });
    await waitFor(() => typeof c.last === "number", 5000, "the value from the right server");
    await waitFor(() => typeof note.last === "string", 5000, "the comment");
    expect(f.context.connection.get()).toMatchObject({ status: "connected", serverUrl: demo.server.url });
  });

  it('without a sign-in every function shows #N/A "Sign in in the task pane"; once the user signs in, they recover by themselves; after sign-out, they say so again', async () => {
    const f = await load({ signIn: null });
    const total = cell(f, "Demo", [units, "[Region].[North]", "[Scenario].[Plan]"]);
    const note = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", [[[units]]], note);
    const signIn = new StandInError("#N/A", "Sign in in the task pane");
    await waitFor(() => total.results.length > 0 && note.results.length > 0, 5000, "results");
    expect(total.last).toEqual(signIn);
    expect(note.last).toEqual(signIn);
    await expect(f.functions.get("MEMBERS")!("Demo", "Region")).rejects.toEqual(signIn);
    // nothing reached the server's RPCs without a token
    expect(f.requests.filter((r) => r.method !== "config" && r.method !== "dev-token")).toEqual([]);
    expect(f.context.auth.state.get()).toMatchObject({ status: "signedOut", via: "development" });

    // the user signs in in the task pane: the streams restart with the token, nothing else to do
    await f.context.auth.signIn({ user: "tester" });
    await waitFor(() => typeof total.last === "number" && typeof note.last === "string", 5000, "values after sign-in");
    const truth = await otherClient(demo.server.url).lattice.getCells({ cube: "Demo", cells: [{ members: [units, "[Region].[North]", "[Scenario].[Plan]"] }] });
    expect(total.last).toBe(truth.cells[0].value);
    expect(await f.functions.get("MEMBERS")!("Demo", "Region")).toEqual([["[Region].[All Regions]"]]);
    const rpcs = f.requests.filter((r) => r.method !== "config" && r.method !== "dev-token");
    expect(rpcs.length).toBeGreaterThan(0);
    expect(rpcs.every((r) => r.user === "tester")).toBe(true);

    // signed out: every cell says so again (no value stays on the sheet, looking live)
    await f.context.auth.signOut();
    await waitFor(() => JSON.stringify(total.last) === JSON.stringify(signIn) && JSON.stringify(note.last) === JSON.stringify(signIn), 5000, "the cells to say sign in");
    expect(total.resultsAfterCancel).toBe(0);
  });

  it("QATOM.MEMBERS spills a column of unique names: children by default, any depth, 0 for all", async () => {
    const f = await load();
    const members = f.functions.get("MEMBERS")!;
    expect(await members("Demo", "Region")).toEqual([["[Region].[All Regions]"]]);
    expect(await members("Demo", "Region", "[Region].[All Regions]")).toEqual([["[Region].[North]"], ["[Region].[South]"]]);
    expect(await members("Demo", "Region", "All Regions", 0)).toEqual([
      ["[Region].[North]"],
      ["[Region].[North].[Oslo]"],
      ["[Region].[North].[Bergen]"],
      ["[Region].[South]"],
      ["[Region].[South].[Rome]"],
    ]);
    expect(await members("Demo", "Region", null, 2)).toEqual([["[Region].[All Regions]"], ["[Region].[North]"], ["[Region].[South]"]]);
    await expect(members("Demo", "Region", "[Region].[North].[Oslo]")).rejects.toMatchObject({ code: "#N/A", message: expect.stringMatching(/no members below it/) });
    expect(f.requests.filter((r) => r.method === "GetMembers")).toHaveLength(5);
  });

  it("QATOM.COMMENT streams the newest comment: at once after this user's comment, by polling for others'", async () => {
    const f = await load();
    const members = [units, "[Region].[South].[Rome]", "[Product].[Widget]", "[Channel].[Web]"];
    const note = new StreamingInvocationStub<string>();
    f.functions.get("COMMENT")!("Demo", members.map((m) => [[m]]), note);
    await waitFor(() => note.results.length > 0, 5000, "the first result");
    expect(note.last).toBe("");

    await f.context.addComment({ cube: "Demo", members }, "mine");
    await waitFor(() => note.last === "mine", 200, "this user's comment");
    await otherClient(demo.server.url, "carl").commentary.addComment({ cube: "Demo", members, text: "from carl" });
    await waitFor(() => note.last === "from carl", 2000, "the other user's comment");
    expect(note.results).toEqual(["", "mine", "from carl"]);
    const byUser = await otherClient(demo.server.url).commentary.listComments({ cube: "Demo", members });
    expect(byUser.comments.map((c) => [c.author, c.text])).toEqual([
      ["carl", "from carl"],
      ["tester", "mine"],
    ]);

    note.cancel();
    await otherClient(demo.server.url, "carl").commentary.addComment({ cube: "Demo", members, text: "after cancel" });
    await new Promise((r) => setTimeout(r, 600));
    expect(note.resultsAfterCancel).toBe(0);
  });

  it("reconnects a stream the server ends when its token expires, with a fresh token, without the cells showing an error", async () => {
    const dir = await newDemoStore();
    const s = await startDemoServer(dir);
    try {
      // Tokens of the server's own development issuer (its key is in the data directory), for 3 s.
      const issuer = await DevIssuer.open(dir);
      issuer.setServerUrl(s.url);
      const f = await load({ serverUrl: s.url, devToken: (user) => issuer.issue({ id: user }, 3) });
      const plan = cell(f, "Demo", [units, "[Scenario].[Plan]"]);
      await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream");
      const watchTokens = () => f.requests.filter((r) => r.method === "WatchCells").length;
      await waitFor(() => watchTokens() >= 2 && f.context.streamedCellCount("Demo") === 1, 8000, "the stream after its token expired");
      expect(f.requests.filter((r) => r.method === "dev-token").length).toBeGreaterThanOrEqual(2);
      expect(plan.results.every((r) => typeof r === "number")).toBe(true);
      // and it streams: another user's write arrives
      const v0 = plan.last as number;
      const bob = otherClient(s.url).lattice;
      const leaf = [units, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];
      const cur = await bob.getCells({ cube: "Demo", cells: [{ members: leaf }] });
      await bob.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 2, baseVersion: cur.cells[0].version }] });
      await waitFor(() => plan.last === v0 + 2, 5000, "the write through the new stream");
    } finally {
      for (const f of loaded.splice(0)) f.dispose();
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("re-establishes the stream after the server restarts, and re-sends the current values", async () => {
    const dir = await newDemoStore();
    let s = await startDemoServer(dir);
    try {
      const f = await load({ serverUrl: s.url });
      const plan = cell(f, "Demo", [units, "[Scenario].[Plan]"]);
      await waitFor(() => f.context.streamedCellCount("Demo") === 1, 5000, "the stream");
      const v0 = plan.last as number;
      await s.close();
      await waitFor(() => f.context.connection.get().status === "disconnected", 5000, "the disconnect");
      expect(f.context.streamedCellCount("Demo")).toBe(0);
      expect(plan.last).toBe(v0); // the last value stays (not 0, not an error) while reconnecting

      s = await startDemoServer(dir, s.port);
      const bob = otherClient(s.url).lattice;
      const leaf = [units, "[Region].[North].[Oslo]", "[Product].[Widget]", "[Channel].[Web]", "[Scenario].[Plan]"];
      const cur = await bob.getCells({ cube: "Demo", cells: [{ members: leaf }] });
      await bob.writeCells({ cube: "Demo", writes: [{ members: leaf, value: (cur.cells[0].value ?? 0) + 5, baseVersion: cur.cells[0].version }] });
      await waitFor(() => plan.last === v0 + 5, 10_000, "the value after reconnecting");
      await waitFor(() => f.context.connection.get().status === "connected", 5000, "connected");
      expect(f.requests.filter((r) => r.method === "WatchCells").length).toBeGreaterThanOrEqual(2);
      expect(plan.results.every((r) => typeof r === "number")).toBe(true);
    } finally {
      for (const f of loaded.splice(0)) f.dispose();
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
