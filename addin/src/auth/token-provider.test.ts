/** Token claims and the token cache: renewal shortly before expiry, one renewal at a time, invalidation (pure, with a fake clock). */
import { unsignedJwt } from "../../../test/helpers/auth-stand-in";
import { readClaims } from "./claims";
import { type AccessToken, accessToken, needsRenewal, TokenCache, type TokenProvider } from "./token-provider";

describe("readClaims", () => {
  it("reads oid (else sub), name, tid, exp and iat; null for a token that is not a JWT", () => {
    expect(readClaims(unsignedJwt({ sub: "s-1", oid: "o-1", name: "Ada Admin", tid: "t-1", exp: 2000, iat: 1000 }))).toEqual({
      userId: "o-1",
      name: "Ada Admin",
      tenant: "t-1",
      expiresAt: 2_000_000,
      issuedAt: 1_000_000,
    });
    expect(readClaims(unsignedJwt({ sub: "ann", preferred_username: "ann@contoso.com" }))).toMatchObject({ userId: "ann", name: "ann@contoso.com", tenant: undefined, expiresAt: undefined });
    expect(readClaims(unsignedJwt({ sub: "bob" }))?.name).toBe("bob");
    expect(readClaims(unsignedJwt({ name: "Zoë 😀" }))?.name).toBe("Zoë 😀");
    expect(readClaims("opaque-token")).toBeNull();
    expect(readClaims("a.b.c")).toBeNull();
    expect(readClaims(`x.${Buffer.from("[1]").toString("base64url")}.y`)).toBeNull();
  });

  it("makes an AccessToken from the claims, else from what the issuer said", () => {
    const t = accessToken(unsignedJwt({ sub: "admin", name: "Ada Admin", iat: 100, exp: 160 }), 5);
    expect(t).toMatchObject({ expiresAt: 160_000, issuedAt: 100_000, user: { id: "admin", name: "Ada Admin" } });
    expect(accessToken("opaque", 1000, { expiresAt: 9000, user: { id: "u", name: "U" } })).toEqual({ token: "opaque", expiresAt: 9000, issuedAt: 1000, user: { id: "u", name: "U", tenant: undefined } });
    // no expiry known at all: assumed short (5 minutes), so it is renewed soon
    expect(accessToken("opaque", 1000).expiresAt).toBe(1000 + 300_000);
  });
});

describe("the token cache", () => {
  const token = (n: number, issuedAt: number, lifetimeMs: number): AccessToken => ({ token: `t${n}`, issuedAt, expiresAt: issuedAt + lifetimeMs, user: { id: "u", name: "U" } });

  function fakeProvider(make: (call: number) => AccessToken | null | Promise<AccessToken | null>) {
    let calls = 0;
    const provider: TokenProvider = {
      kind: "development",
      silent: async () => make(++calls),
      interactive: async () => {
        throw new Error("not in these tests");
      },
      signOut: async () => undefined,
    };
    return { provider, calls: () => calls };
  }

  it("renews 2 minutes before expiry, or at 80% of a short token's life", () => {
    const hour = token(1, 0, 3_600_000);
    expect(needsRenewal(hour, 3_600_000 - 120_001)).toBe(false);
    expect(needsRenewal(hour, 3_600_000 - 120_000)).toBe(true);
    const minute = token(2, 0, 60_000);
    expect(needsRenewal(minute, 47_999)).toBe(false);
    expect(needsRenewal(minute, 48_000)).toBe(true);
  });

  it("hands out the same token until it is due, then renews it once for all callers", async () => {
    let now = 0;
    const { provider, calls } = fakeProvider((n) => token(n, now, 60_000));
    const cache = new TokenCache(provider, { maxLeadMs: 120_000, leadShare: 0.2, now: () => now });
    expect((await cache.get())?.token).toBe("t1");
    now = 40_000;
    expect((await cache.get())?.token).toBe("t1");
    expect(calls()).toBe(1);
    now = 50_000; // 80% of the minute has passed
    const [a, b, c] = await Promise.all([cache.get(), cache.get(), cache.get()]);
    expect([a?.token, b?.token, c?.token]).toEqual(["t2", "t2", "t2"]);
    expect(calls()).toBe(2);
  });

  it("drops a refused token (invalidate) and only that one; clear drops everything, even a renewal under way", async () => {
    const now = 0;
    let release: (() => void) | null = null;
    const { provider, calls } = fakeProvider(async (n) => {
      if (n === 3) await new Promise<void>((r) => (release = r));
      return token(n, now, 3_600_000);
    });
    const cache = new TokenCache(provider, { maxLeadMs: 120_000, leadShare: 0.2, now: () => now });
    expect((await cache.get())?.token).toBe("t1");
    cache.invalidate("t0"); // an older token: no effect
    expect((await cache.get())?.token).toBe("t1");
    cache.invalidate("t1");
    expect((await cache.get())?.token).toBe("t2");
    cache.invalidate("t2");
    const pending = cache.get();
    await new Promise((r) => setTimeout(r, 0));
    cache.clear(); // signed out while the renewal was under way: its token is not kept
    release!();
    expect(await pending).toBeNull();
    expect(cache.peek()).toBeNull();
    expect(calls()).toBe(3);
  });

  it("keeps a token due for renewal while the issuer cannot be reached or says no, until it expires", async () => {
    let now = 0;
    let mode: "ok" | "down" | "no" = "ok";
    const { provider } = fakeProvider((n) => {
      if (mode === "down") throw new TypeError("fetch failed");
      return mode === "no" ? null : token(n, now, 60_000);
    });
    const cache = new TokenCache(provider, { maxLeadMs: 120_000, leadShare: 0.2, now: () => now });
    expect((await cache.get())?.token).toBe("t1");
    now = 55_000;
    mode = "down";
    expect((await cache.get())?.token).toBe("t1");
    mode = "no";
    expect((await cache.get())?.token).toBe("t1");
    now = 60_000; // expired: nothing to hand out
    expect(await cache.get()).toBeNull();
    mode = "down";
    await expect(cache.get()).rejects.toThrow("fetch failed");
  });
});
