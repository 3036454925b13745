/**
 * Sign-in over HTTP, against a real OpenID provider (oauth2-mock-server on 127.0.0.1, started
 * here) configured as the backend's issuer: every RPC of every service, WatchCells included, is
 * `unauthenticated` without a valid token and served with one; a stream ends when its token
 * expires; the development routes are absent. Then development mode: its routes, and its refusal
 * to run beyond localhost.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { create } from "@bufbuild/protobuf";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Client } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { generateKeyPair, SignJWT } from "jose";
import { OAuth2Server } from "oauth2-mock-server";
import { isLoopback } from "../backend/src/auth/routes";
import { startServer } from "../backend/src/server/main";
import type { LatticeService } from "../proto/gen/quantatom/v1/lattice_pb";
import { SERVICES } from "../backend/src/services";
import { CubeServer } from "./helpers/cube-server";
import { quietStart, testConfig } from "./helpers/server";
import { smallCubeCells, smallCubeDef } from "./helpers/small-cube";

const AUDIENCE = "api://quantatom-auth-test";

/** Calls `method` of a client with an empty request; resolves with the first message of a stream. */
async function call(client: Client<DescService>, method: DescMethod): Promise<unknown> {
  const fn = (client as unknown as Record<string, (req: unknown, opts?: unknown) => unknown>)[method.localName];
  const req = create(method.input, method.name === "GetCells" || method.name === "WatchCells" ? { cube: "Demo", cells: [{ members: ["[Measures].[Units]"] }] } : { cube: "Demo" });
  if (method.methodKind === "server_streaming") {
    const controller = new AbortController();
    try {
      for await (const m of fn(req, { signal: controller.signal }) as AsyncIterable<unknown>) return m;
      return null;
    } finally {
      controller.abort();
    }
  }
  return fn(req);
}

function clientsWith(url: string, authorization?: string) {
  const transport = createConnectTransport({
    baseUrl: url,
    useBinaryFormat: true,
    interceptors: [
      (next) => (req) => {
        if (authorization !== undefined) req.header.set("authorization", authorization);
        return next(req);
      },
    ],
  });
  return SERVICES.map((s) => [s, createClient(s, transport)] as const);
}

describe("sign-in with an OpenID provider", () => {
  let idp: OAuth2Server;
  let server: CubeServer;

  function token(claims: Record<string, unknown> = {}, expiresIn?: number): Promise<string> {
    return idp.issuer.buildToken({
      expiresIn,
      scopesOrTransform: (_h, payload) => {
        Object.assign(payload, { aud: AUDIENCE, sub: "u-ann", name: "Ann Lee", ...claims });
      },
    });
  }

  beforeAll(async () => {
    idp = new OAuth2Server();
    await idp.issuer.keys.generate("RS256");
    await idp.start(0, "127.0.0.1");
    server = await CubeServer.start("PGlite", smallCubeDef, smallCubeCells(), { QATOM_OIDC_ISSUER: idp.issuer.url!, QATOM_OIDC_AUDIENCE: AUDIENCE });
  });

  afterAll(async () => {
    await server?.close();
    await idp?.stop();
  });

  it("refuses every RPC, streams included, without a valid token, and serves each with one", async () => {
    const now = Math.floor(Date.now() / 1000);
    const { privateKey } = await generateKeyPair("RS256");
    const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString("base64url");
    const valid = await token();
    const bad: Record<string, string | undefined> = {
      missing: undefined,
      "not bearer": `Basic ${Buffer.from("ann:pw").toString("base64")}`,
      expired: `Bearer ${await token({ exp: now - 3600 })}`,
      "not yet valid": `Bearer ${await token({ nbf: now + 3600 })}`,
      "wrong audience": `Bearer ${await token({ aud: "api://other" })}`,
      "wrong issuer": `Bearer ${await token({ iss: "https://login.example.com/" })}`,
      "badly signed": `Bearer ${await new SignJWT({ sub: "cfo" }).setProtectedHeader({ alg: "RS256" }).setIssuer(idp.issuer.url!).setAudience(AUDIENCE).setExpirationTime("5m").sign(privateKey)}`,
      "alg none": `Bearer ${b64({ alg: "none" })}.${b64({ iss: idp.issuer.url, aud: AUDIENCE, sub: "cfo", exp: now + 600 })}.`,
    };
    const outcomes: string[] = [];
    for (const [kind, header] of Object.entries(bad)) {
      for (const [service, client] of clientsWith(server.url, header)) {
        for (const method of service.methods) {
          const err = await call(client, method).then(
            () => null,
            (e: unknown) => e,
          );
          outcomes.push(`${kind} ${method.name}: ${err instanceof ConnectError ? Code[err.code] : "served"}`);
        }
      }
    }
    expect(outcomes.filter((o) => !o.endsWith(": Unauthenticated"))).toEqual([]);
    expect(outcomes.length).toBe(Object.keys(bad).length * SERVICES.reduce((n, s) => n + s.methods.length, 0));

    for (const [service, client] of clientsWith(server.url, `Bearer ${valid}`)) {
      for (const method of service.methods) {
        const err = await call(client, method).then(
          () => null,
          (e: unknown) => e,
        );
        // Served: at most a complaint about the empty request, never about sign-in.
        if (err) expect({ method: method.name, code: (err as ConnectError).code }).not.toMatchObject({ code: Code.Unauthenticated });
      }
    }
  });

  it("ends a stream with 'unauthenticated' when its token expires", async () => {
    const [[, lattice]] = clientsWith(server.url, `Bearer ${await token({}, 2)}`);
    const stream = (lattice as unknown as Client<typeof LatticeService>).watchCells({ cube: "Demo", cells: [{ members: ["[Measures].[Units]"] }] });
    const it = stream[Symbol.asyncIterator]();
    expect((await it.next()).value.initial).toBe(true);
    const err = await it.next().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.Unauthenticated);
    expect((err as ConnectError).rawMessage).toMatch(/expired/);
  });

  it("records the token's subject, not a name the client sends", async () => {
    const [[, raw]] = clientsWith(server.url, `Bearer ${await token({ sub: "pairwise", oid: "oid-ann" })}`);
    const lattice = raw as unknown as Client<typeof LatticeService>;
    const leaf = ["[Measures].[Units]", "Oslo", "Widget", "Web", "Plan"];
    const cur = await lattice.getCells({ cube: "Demo", cells: [{ members: leaf }] }, { headers: { "X-Quantatom-User": "cfo" } });
    const w = await lattice.writeCells({ cube: "Demo", writes: [{ members: leaf, value: 11, baseVersion: cur.cells[0].version }] }, { headers: { "X-Quantatom-User": "cfo" } });
    expect(w.results[0].updatedBy).toBe("oid-ann");
  });

  it("serves the add-in's sign-in settings, and no development routes", async () => {
    const config = await (await fetch(`${server.url}/auth/config`)).json();
    expect(config).toMatchObject({ mode: "oidc", issuer: idp.issuer.url, audience: AUDIENCE });
    expect(config).not.toHaveProperty("users");
    const res = await fetch(`${server.url}/auth/dev-token`, { method: "POST", body: JSON.stringify({ user: "admin" }) });
    expect(res.status).toBe(404);
  });
});

describe("development sign-in", () => {
  it("issues tokens on this machine, publishes its keys, and refuses to run beyond localhost", async () => {
    const server = await CubeServer.start("PGlite", smallCubeDef, smallCubeCells());
    try {
      const config = (await (await fetch(`${server.url}/auth/config`)).json()) as { mode: string; issuer: string };
      expect(config).toMatchObject({ mode: "development", issuer: `${server.url}/auth/dev` });
      const meta = await (await fetch(`${config.issuer}/.well-known/openid-configuration`)).json();
      expect(meta).toMatchObject({ issuer: config.issuer, jwks_uri: `${config.issuer}/jwks` });
      const jwks = (await (await fetch(meta.jwks_uri)).json()) as { keys: { d?: string; kty: string }[] };
      expect(jwks.keys).toHaveLength(1);
      expect(jwks.keys[0].kty).toBe("EC");
      expect(jwks.keys[0].d).toBeUndefined();
      const bad = await fetch(`${server.url}/auth/dev-token`, { method: "POST", body: JSON.stringify({ user: "no spaces allowed" }) });
      expect(bad.status).toBe(400);
      const ok = await fetch(`${server.url}/auth/dev-token`, { method: "POST", body: JSON.stringify({ user: "ann" }) });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ accessToken: expect.stringMatching(/^ey/), expiresIn: 3600 });
    } finally {
      await server.close();
    }
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "qatom-auth-"));
    try {
      await expect(startServer(testConfig({ QATOM_DATA_DIR: dir, QATOM_HOST: "0.0.0.0" }), quietStart())).rejects.toThrow(/bound to localhost/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it("counts only loopback addresses as this machine", () => {
    expect(["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"].every(isLoopback)).toBe(true);
    expect(["10.0.0.1", "::ffff:10.0.0.1", "192.168.1.2", "", undefined, "fe80::1"].some((a) => isLoopback(a))).toBe(false);
  });
});
