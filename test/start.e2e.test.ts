/**
 * End to end, as a user runs it: `quantatom serve` (what `npm start` runs) with no configuration
 * but a fresh data folder, over HTTPS with the development certificates it makes, on FoodMart.
 * Checks /healthz, development sign-in as the README shows it (`POST /auth/dev-token`), that an
 * RPC without a token is refused, the documented GetCells call against an independent sum over the
 * CSV, a Plan write, and that the write survives `kill -9` and a restart.
 */
import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import https from "node:https";
import os from "node:os";
import path from "node:path";
import { parse } from "csv-parse/sync";

const root = path.resolve(__dirname, "..");
let tmp: string;
let ca: Buffer;

interface Started {
  proc: ChildProcess;
  url: string;
  output: () => string;
}

/** Bearer tokens per server URL (from its development issuer), sent with every RPC to it. */
const tokens = new Map<string, string>();

/** Signs in as `user` on the server at `url`, as the README's curl example does. */
async function signIn(url: string, user: string): Promise<void> {
  const res = await request(`${url}/auth/dev-token`, { user });
  expect(res.status).toBe(200);
  const { accessToken, expiresIn } = res.json as { accessToken: string; expiresIn: number };
  expect(expiresIn).toBeGreaterThan(0);
  tokens.set(url, accessToken);
}

function request(url: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown }> {
  const token = url.includes("/quantatom.v1.") ? tokens.get(new URL(url).origin) : undefined;
  if (token) headers = { authorization: `Bearer ${token}`, ...headers };
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method: body === undefined ? "GET" : "POST",
        ca,
        headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) });
          } catch {
            resolve({ status: res.statusCode ?? 0, json: text });
          }
        });
      },
    );
    req.on("error", reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

async function startCli(): Promise<Started> {
  let out = "";
  const proc = spawn(process.execPath, [path.join(root, "bin", "quantatom.cjs"), "serve"], {
    cwd: tmp,
    env: { ...process.env, PORT: "0", QATOM_DATA_DIR: path.join(tmp, "data"), QATOM_CERTS_DIR: path.join(tmp, "certs"), QATOM_HTTP: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  proc.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  proc.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const deadline = Date.now() + 120_000;
  let url = "";
  while (!url) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`server did not start listening:\n${out}`);
    const m = /"url":"(https:\/\/[^"]+)"/.exec(out);
    if (m) url = m[1];
    else await new Promise((r) => setTimeout(r, 100));
  }
  ca = fs.readFileSync(path.join(tmp, "certs", "ca.crt"));
  for (;;) {
    if (Date.now() > deadline || proc.exitCode !== null) throw new Error(`server did not become healthy:\n${out}`);
    const h = await request(`${url}/healthz`).catch(() => null);
    if (h?.status === 200) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return { proc, url, output: () => out };
}

/** Unit sales of California stores, summed straight from the CSVs. */
function californiaUnitSales(): number {
  const dir = path.join(root, "data", "foodmart");
  const stores = parse(fs.readFileSync(path.join(dir, "store.csv")), { columns: true }) as Record<string, string>[];
  const ca = new Set(stores.filter((s) => s.store_state === "CA").map((s) => s.store_id));
  const facts = parse(fs.readFileSync(path.join(dir, "sales_fact_1997.csv")), { columns: true }) as Record<string, string>[];
  return facts.filter((f) => ca.has(f.store_id)).reduce((sum, f) => sum + Number(f.unit_sales), 0);
}

/** A leaf address: the first leaf of each dimension, Plan scenario and Unit Sales. */
async function firstLeafAddress(url: string): Promise<string[]> {
  const cubes = (await request(`${url}/quantatom.v1.LatticeService/ListCubes`, {})).json as {
    cubes: { name: string; dimensions: { name: string }[] }[];
  };
  const sales = cubes.cubes.find((c) => c.name === "Sales")!;
  const members: string[] = [];
  for (const dim of sales.dimensions) {
    if (dim.name === "Scenario") {
      members.push("[Scenario].[Plan]");
      continue;
    }
    if (dim.name === "Measures") {
      members.push("[Measures].[Unit Sales]");
      continue;
    }
    let parent = "";
    for (;;) {
      const res = (await request(`${url}/quantatom.v1.LatticeService/GetMembers`, { cube: "Sales", dimension: dim.name, parent })).json as {
        members: { uniqueName: string; isLeaf?: boolean }[];
      };
      const first = res.members[0];
      if (first.isLeaf) {
        members.push(first.uniqueName);
        break;
      }
      parent = first.uniqueName;
    }
  }
  return members;
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-e2e-"));
});

afterAll(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

const getCells = (url: string, cells: string[][]) =>
  request(`${url}/quantatom.v1.LatticeService/GetCells`, { cube: "Sales", cells: cells.map((members) => ({ members })) });

it("serves FoodMart over HTTPS, and a Plan write survives kill -9 and a restart", async () => {
  const first = await startCli();
  try {
    expect(first.output()).toMatch(/=QATOM\.CELL\("Sales"/);
    const health = await request(`${first.url}/healthz`);
    // The default QATOM_GPU=auto takes no software adapter: FoodMart's scans run on the CPU pool, and /healthz says why.
    expect(health).toEqual({ status: 200, json: { status: "ok", cubes: ["Sales"], calc: [{ cube: "Sales", executor: "cpu", reason: expect.any(String) }] } });
    const anonymous = await getCells(first.url, [["[Measures].[Unit Sales]"]]);
    expect(anonymous.status).toBe(401);
    expect(anonymous.json).toMatchObject({ code: "unauthenticated" });
    await signIn(first.url, "admin");

    const ca = await getCells(first.url, [["[Measures].[Unit Sales]", "[Store].[USA].[CA]"]]);
    expect(ca.status).toBe(200);
    const cells = (ca.json as { cells: { value: number; consolidated: boolean }[] }).cells;
    expect(cells[0].value).toBe(californiaUnitSales());
    expect(cells[0].consolidated).toBe(true);
    // Rights (the model's security section): walt, Washington's planner, reads California but not
    // Canada, hidden from him; a user the model does not declare does not see the cube.
    const as = async (user: string, members: string[][]) => {
      const token = ((await request(`${first.url}/auth/dev-token`, { user })).json as { accessToken: string }).accessToken;
      return request(`${first.url}/quantatom.v1.LatticeService/GetCells`, { cube: "Sales", cells: members.map((m) => ({ members: m })) }, { authorization: `Bearer ${token}` });
    };
    const walt = (await as("walt", [["[Store].[USA].[CA]"], ["[Store].[Canada]"]])).json as { cells: { value?: number; error?: { code: string } }[] };
    expect(walt.cells[0].value).toBe(californiaUnitSales());
    expect(walt.cells[1].error?.code).toBe("CELL_ERROR_CODE_UNKNOWN_MEMBER");
    expect((await as("stranger", [["[Store].[USA].[CA]"]])).status).toBe(404);

    const leaf = await firstLeafAddress(first.url);
    const total = ["[Measures].[Unit Sales]", "[Scenario].[Plan]"];
    const before = (await getCells(first.url, [leaf, total])).json as { cells: { value?: number; version: string }[] };
    const write = await request(
      `${first.url}/quantatom.v1.LatticeService/WriteCells`,
      { cube: "Sales", writes: [{ members: leaf, value: (before.cells[0].value ?? 0) + 5, baseVersion: before.cells[0].version }] },
      { "X-Quantatom-User": "cfo" },
    );
    const result = (write.json as { results: { status: string; version: string; updatedBy: string }[] }).results[0];
    expect(result.status).toBe("APPLIED");
    // The author is the token's subject; the name in the header is ignored.
    expect(result.updatedBy).toBe("admin");

    first.proc.kill("SIGKILL");
    await new Promise((r) => first.proc.once("exit", r));

    const second = await startCli();
    try {
      await signIn(second.url, "admin");
      const after = (await getCells(second.url, [leaf, total])).json as { cells: { value?: number; version: string }[] };
      expect(after.cells[0].value).toBe((before.cells[0].value ?? 0) + 5);
      expect(after.cells[0].version).toBe(result.version);
      expect(after.cells[1].value).toBeCloseTo((before.cells[1].value ?? 0) + 5, 6);
      // Plan started as Actual plus 5% (the model's seedFactor); the write moved Plan only.
      const actual = (await getCells(second.url, [["[Measures].[Unit Sales]"]])).json as { cells: { value: number }[] };
      expect(actual.cells[0].value * 1.05).toBeCloseTo(before.cells[1].value ?? 0, 6);
    } finally {
      second.proc.kill("SIGTERM");
      await new Promise((r) => second.proc.once("exit", r));
    }
  } finally {
    if (first.proc.exitCode === null && first.proc.signalCode === null) first.proc.kill("SIGKILL");
  }
}, 300_000);
