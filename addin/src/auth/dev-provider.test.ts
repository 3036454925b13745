/** The development provider against a stand-in of the backend's /auth/dev-token contract. */
import { authFetch } from "../../../test/helpers/auth-stand-in";
import { DevTokenProvider } from "./dev-provider";

const ORIGIN = "http://127.0.0.1:3000";

describe("the development provider", () => {
  it("POSTs {user} to /auth/dev-token and names the user and expiry from the token (expiresIn when it has no exp)", async () => {
    const server = authFetch({ origin: ORIGIN, users: [{ id: "admin", name: "Ada Admin" }], ttlSec: 600, now: () => 1_000_000 });
    const p = new DevTokenProvider(ORIGIN, null, server.fetch, () => 1_000_000);
    expect(await p.silent()).toBeNull(); // nobody to sign in as yet
    const t = await p.interactive({ user: " admin " });
    expect(t).toMatchObject({ expiresAt: 1_600_000, issuedAt: 1_000_000, user: { id: "admin", name: "Ada Admin", tenant: "default" } });
    expect(server.requests).toEqual([{ method: "POST", path: "/auth/dev-token", body: { user: "admin" } }]);
    expect(p.signedInUser).toBe("admin");
    expect((await p.silent())?.user.id).toBe("admin");
    await p.signOut();
    expect(await p.silent()).toBeNull();

    const opaque = (async () => new Response(JSON.stringify({ accessToken: "opaque", expiresIn: 60 }), { status: 200 })) as typeof fetch;
    expect(await new DevTokenProvider(ORIGIN, null, opaque, () => 5).interactive({ user: "bob" })).toMatchObject({ expiresAt: 60_005, user: { id: "bob", name: "bob" } });
  });

  it("says why the server refused; silent gives up quietly; an unreachable server is 'Not connected'", async () => {
    const server = authFetch({ origin: ORIGIN, users: [{ id: "admin", name: "Ada Admin" }] });
    await expect(new DevTokenProvider(ORIGIN, null, server.fetch).interactive({ user: "eve" })).rejects.toThrow("development sign-in as eve refused: unknown user eve");
    expect(await new DevTokenProvider(ORIGIN, "eve", server.fetch).silent()).toBeNull();
    const oidc = authFetch({ origin: ORIGIN, mode: { clientId: "c", scopes: ["s"], authority: "a", audience: "api://x", issuer: "i" } });
    await expect(new DevTokenProvider(ORIGIN, null, oidc.fetch).interactive({ user: "admin" })).rejects.toThrow("does not issue development tokens");
    server.available.value = false;
    await expect(new DevTokenProvider(ORIGIN, "admin", server.fetch).silent()).rejects.toThrow(`Not connected to ${ORIGIN}`);
  });
});
