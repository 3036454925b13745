/**
 * The bearer-token interceptor against an in-memory Connect server (createRouterTransport) that
 * checks `Authorization` as the backend does: every call carries the current token, a refused one
 * is dropped and a unary call retried once with a fresh one, a stream the server ends with
 * `unauthenticated` drops its token, and no token at all fails before the server is reached.
 */
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import { GetCellsResponseSchema, LatticeService, WatchCellsResponseSchema } from "../../proto/gen/quantatom/v1/lattice_pb";
import { isAuthFailure, SignInRequiredError, toQatomError } from "./errors";
import { bearerAuth, type TokenSource } from "./transport";

/** Tokens t1, t2, ... handed out until invalidated, as the session does. */
function tokenSource(opts: { signedIn?: boolean } = {}) {
  let n = 1;
  const invalidated: string[] = [];
  const source: TokenSource = {
    getToken: async () => {
      if (opts.signedIn === false) throw new SignInRequiredError();
      return `t${n}`;
    },
    invalidate: (token) => {
      invalidated.push(token);
      if (token === `t${n}`) n++;
    },
  };
  return { source, invalidated };
}

/** A server that accepts only the tokens in `valid`, and records the Authorization headers it saw. */
function server(valid: Set<string>) {
  const seen: (string | null)[] = [];
  const check = (header: string | null) => {
    seen.push(header);
    const token = header?.replace(/^Bearer /, "");
    if (!token || !valid.has(token)) throw new ConnectError("sign in again: the token is not valid", Code.Unauthenticated);
    return token;
  };
  const transport = (tokens: TokenSource) =>
    createRouterTransport(
      (router) =>
        router.service(LatticeService, {
          getCells: (_req, ctx) => {
            check(ctx.requestHeader.get("authorization"));
            return create(GetCellsResponseSchema, { cells: [] });
          },
          async *watchCells(_req, ctx) {
            check(ctx.requestHeader.get("authorization"));
            yield create(WatchCellsResponseSchema, { initial: true });
            // the token expires: the server ends the stream
            throw new ConnectError("the access token expired; reconnect with a fresh one", Code.Unauthenticated);
          },
        }),
      { transport: { interceptors: [bearerAuth(tokens)] } },
    );
  return { seen, transport };
}

describe("the bearer-token interceptor", () => {
  it("sends Authorization: Bearer <token> on every call", async () => {
    const t = tokenSource();
    const s = server(new Set(["t1"]));
    const client = createClient(LatticeService, s.transport(t.source));
    await client.getCells({ cube: "Demo" });
    await client.getCells({ cube: "Demo" });
    expect(s.seen).toEqual(["Bearer t1", "Bearer t1"]);
    expect(t.invalidated).toEqual([]);
  });

  it("drops a refused token and retries a unary call once with a fresh one; a second refusal is the caller's", async () => {
    const t = tokenSource();
    const s = server(new Set(["t2"]));
    const client = createClient(LatticeService, s.transport(t.source));
    await client.getCells({ cube: "Demo" });
    expect(s.seen).toEqual(["Bearer t1", "Bearer t2"]);
    expect(t.invalidated).toEqual(["t1"]);

    const never = server(new Set());
    const t2 = tokenSource();
    const err = await createClient(LatticeService, never.transport(t2.source))
      .getCells({ cube: "Demo" })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: Code.Unauthenticated });
    expect(never.seen).toEqual(["Bearer t1", "Bearer t2"]);
    expect(t2.invalidated).toEqual(["t1", "t2"]);
    expect(toQatomError(err, "https://x")).toEqual({ code: "notAvailable", message: "Sign in in the task pane" });
  });

  it("a stream ended with unauthenticated drops its token (its owner reconnects with a fresh one)", async () => {
    const t = tokenSource();
    const s = server(new Set(["t1", "t2"]));
    const client = createClient(LatticeService, s.transport(t.source));
    const got: boolean[] = [];
    const err = await (async () => {
      for await (const m of client.watchCells({ cube: "Demo" })) got.push(m.initial);
    })().catch((e: unknown) => e);
    expect(got).toEqual([true]);
    expect(err).toMatchObject({ code: Code.Unauthenticated });
    expect(t.invalidated).toEqual(["t1"]);
    expect(await t.source.getToken()).toBe("t2");
  });

  it("without a sign-in the call fails before reaching the server, with 'Sign in in the task pane'", async () => {
    const t = tokenSource({ signedIn: false });
    const s = server(new Set(["t1"]));
    const client = createClient(LatticeService, s.transport(t.source));
    const err = await client.getCells({ cube: "Demo" }).catch((e: unknown) => e);
    expect(s.seen).toEqual([]);
    expect(isAuthFailure(err)).toBe(true);
    expect(toQatomError(err, "https://x")).toEqual({ code: "notAvailable", message: "Sign in in the task pane" });
    const streamErr = await (async () => {
      for await (const _ of client.watchCells({ cube: "Demo" })) {
        // no message
      }
    })().catch((e: unknown) => e);
    expect(isAuthFailure(streamErr)).toBe(true);
  });
});
