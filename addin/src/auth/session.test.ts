/**
 * The runtime's sign-in session against stand-ins of the backend's sign-in routes
 * (test/helpers/auth-stand-in.ts) and of Office (test/helpers/office-stand-ins.ts): development
 * sign-in, remembering it, sign-out, silent renewal and expiry, an unreachable or old server, and
 * the choice between MSAL nested app authentication and the Office dialog by what Office's
 * `isSetSupported("NestedAppAuth", "1.1")` answers.
 */
import type { AccountInfo, AuthenticationResult, Configuration, IPublicClientApplication } from "@azure/msal-browser";
import { authFetch, unsignedJwt } from "../../../test/helpers/auth-stand-in";
import { officeStandIn, storageStandIn } from "../../../test/helpers/office-stand-ins";
import { officeHost } from "../host";
import { readClaims } from "./claims";
import { EXPIRED_MESSAGE, AuthSession, SIGNIN_KEY } from "./session";

const ORIGIN = "https://localhost:3000";
const USERS: { id: string; name: string; groups?: string[]; admin?: boolean }[] = [
  { id: "admin", name: "Ada Admin", groups: ["planners"], admin: true },
  { id: "ann", name: "Ann Analyst", groups: ["planners"] },
];

function session(o: { fetch: typeof fetch; storage?: ReturnType<typeof storageStandIn>; office?: object; now?: () => number; msal?: (c: Configuration) => Promise<IPublicClientApplication>; serverUrl?: () => string }) {
  const storage = o.storage ?? storageStandIn();
  const host = officeHost({ OfficeRuntime: { storage }, location: { origin: ORIGIN, protocol: "https:" }, ...(o.office ? { Office: o.office } : {}) });
  const s = new AuthSession({ host, serverUrl: async () => (o.serverUrl ? o.serverUrl() : ORIGIN), fetch: o.fetch, msal: o.msal, renewal: o.now ? { now: o.now } : undefined });
  return { s, storage };
}

const sub = async (s: AuthSession) => readClaims(await s.getToken())?.userId;

describe("development sign-in", () => {
  it("starts signed out; Sign in as a seeded user; every token names them; remembered, so the next run signs in silently", async () => {
    const server = authFetch({ origin: ORIGIN, users: USERS });
    const { s, storage } = session({ fetch: server.fetch });
    expect(await s.start()).toMatchObject({ status: "signedOut", serverUrl: ORIGIN, via: "development", config: { mode: "development", users: [{ id: "admin", name: "Ada Admin", admin: true }, { id: "ann", admin: false }] } });
    await expect(s.getToken()).rejects.toThrow("Sign in in the task pane");
    await expect(s.getToken()).rejects.toMatchObject({ name: "SignInRequiredError", code: "notAvailable" });

    expect(await s.signIn({ user: "admin" })).toEqual({ id: "admin", name: "Ada Admin", tenant: "default" });
    expect(s.state.get()).toMatchObject({ status: "signedIn", user: { name: "Ada Admin" }, via: "development" });
    expect(await sub(s)).toBe("admin");
    expect(await sub(s)).toBe("admin");
    expect(server.requests.filter((r) => r.path === "/auth/dev-token").map((r) => r.body)).toEqual([{ user: "admin" }]); // cached
    expect(JSON.parse(storage.items.get(SIGNIN_KEY)!)).toEqual({ serverUrl: ORIGIN, user: "admin" });

    const again = session({ fetch: server.fetch, storage }).s;
    expect(await again.start()).toMatchObject({ status: "signedIn", user: { id: "admin" } });
    expect(await sub(again)).toBe("admin");
  });

  it("Sign out: calls fail with 'Sign in in the task pane', and the next run stays signed out", async () => {
    const server = authFetch({ origin: ORIGIN, users: USERS });
    const { s, storage } = session({ fetch: server.fetch });
    await s.start();
    await s.signIn({ user: "ann" });
    await s.signOut();
    expect(s.state.get()).toMatchObject({ status: "signedOut" });
    expect((s.state.get() as { message?: string }).message).toBeUndefined(); // no news: the user did it
    await expect(s.getToken()).rejects.toThrow("Sign in in the task pane");
    expect(JSON.parse(storage.items.get(SIGNIN_KEY)!)).toEqual({ serverUrl: ORIGIN, signedOut: true });
    expect(await session({ fetch: server.fetch, storage }).s.start()).toMatchObject({ status: "signedOut" });
    // a different user signs in afterwards
    await s.signIn({ user: "admin" });
    expect(await sub(s)).toBe("admin");
  });

  it("a refused sign-in says why, and leaves nobody signed in", async () => {
    const server = authFetch({ origin: ORIGIN, users: USERS });
    const { s } = session({ fetch: server.fetch });
    await s.start();
    await expect(s.signIn({ user: "mallory" })).rejects.toThrow("development sign-in as mallory refused: unknown user mallory");
    expect(s.state.get()).toMatchObject({ status: "signedOut", message: "development sign-in as mallory refused: unknown user mallory" });
    await expect(s.signIn({ user: " " })).rejects.toThrow("choose a user to sign in as");
  });

  it("renews the token shortly before it expires; once it cannot be renewed, the user must sign in again", async () => {
    let now = 1_000_000;
    const server = authFetch({ origin: ORIGIN, users: USERS, ttlSec: 60, now: () => now });
    const { s } = session({ fetch: server.fetch, now: () => now });
    await s.start();
    await s.signIn({ user: "admin" });
    const first = await s.getToken();
    now += 40_000;
    expect(await s.getToken()).toBe(first);
    now += 9_000; // 49 s of 60: renewed
    const second = await s.getToken();
    expect(second).not.toBe(first);
    expect(readClaims(second)?.expiresAt).toBe(1_049_000 + 60_000);
    // the server refuses a dropped token; the next call gets another
    now += 1_000;
    s.invalidate(second);
    expect(await s.getToken()).not.toBe(second);
    // the user is gone from the server: silent renewal fails; once the token expires, sign in again
    server.requests.length = 0;
    USERS.push({ id: "gone", name: "Gone" });
    await s.signIn({ user: "gone" });
    USERS.pop();
    now += 70_000;
    await expect(s.getToken()).rejects.toThrow("Sign in in the task pane");
    expect(s.state.get()).toMatchObject({ status: "signedOut", message: EXPIRED_MESSAGE });
  });

  it("an unreachable server: 'Not connected', tried again on the next call; a server without sign-in says so", async () => {
    const server = authFetch({ origin: ORIGIN, users: USERS });
    server.available.value = false;
    const { s } = session({ fetch: server.fetch });
    expect(await s.start()).toMatchObject({ status: "unavailable", message: "Not connected to https://localhost:3000" });
    await expect(s.getToken()).rejects.toThrow("Not connected to https://localhost:3000");
    server.available.value = true;
    expect(await s.start()).toMatchObject({ status: "signedOut" });

    const old = session({ fetch: (async () => new Response("not found", { status: 404 })) as typeof fetch }).s;
    expect(await old.start()).toMatchObject({ status: "unavailable", message: expect.stringContaining("does not offer sign-in (GET /auth/config: 404)") });
  });

  it("a new server starts over: its own configuration, nobody signed in", async () => {
    let url = ORIGIN;
    const a = authFetch({ origin: ORIGIN, users: USERS });
    const b = authFetch({ origin: "https://other:3000", users: [{ id: "zed", name: "Zed" }] });
    const routed = (async (input: RequestInfo | URL, init?: RequestInit) => (String(input).startsWith(ORIGIN) ? a.fetch(input, init) : b.fetch(input, init))) as typeof fetch;
    const { s } = session({ fetch: routed, serverUrl: () => url });
    await s.start();
    await s.signIn({ user: "admin" });
    url = "https://other:3000";
    s.reset();
    await expect(s.getToken()).rejects.toThrow("Sign in in the task pane");
    expect(s.state.get()).toMatchObject({ status: "signedOut", serverUrl: "https://other:3000", config: { users: [{ id: "zed" }] } });
  });
});

describe("Entra ID sign-in: nested app authentication or the Office dialog", () => {
  const oidc = { clientId: "addin-client-id", scopes: ["api://quantatom-backend/access_as_user"], authority: "https://login.microsoftonline.com/organizations", audience: "api://quantatom-backend", issuer: "https://login.microsoftonline.com/tid-1/v2.0" };
  const ada: AccountInfo = { homeAccountId: "h", environment: "login.microsoftonline.com", tenantId: "tid-1", username: "ada@contoso.com", localAccountId: "oid-ada", name: "Ada Admin" };

  function msalStub() {
    const configurations: Configuration[] = [];
    let active: AccountInfo | null = null;
    const factory = async (c: Configuration) => {
      configurations.push(c);
      return {
        acquireTokenSilent: async () => ({ accessToken: unsignedJwt({ oid: "oid-ada", name: "Ada Admin", tid: "tid-1", exp: 4_000_000_000 }), account: ada, expiresOn: null }) as unknown as AuthenticationResult,
        getActiveAccount: () => active,
        setActiveAccount: (a: AccountInfo | null) => {
          active = a;
        },
      } as unknown as IPublicClientApplication;
    };
    return { factory, configurations };
  }

  it("NestedAppAuth 1.1 supported: MSAL's nestable application, signed in silently at start (single sign-on)", async () => {
    const office = officeStandIn({ pageOrigin: ORIGIN, requirementSets: { NestedAppAuth: "1.1", SharedRuntime: "1.1" } });
    const msal = msalStub();
    const { s } = session({ fetch: authFetch({ origin: ORIGIN, mode: oidc }).fetch, office: office.office, msal: msal.factory });
    expect(await s.start()).toMatchObject({ status: "signedIn", via: "naa", user: { id: "oid-ada", name: "Ada Admin", tenant: "tid-1" } });
    expect(msal.configurations).toEqual([{ auth: { clientId: "addin-client-id", authority: "https://login.microsoftonline.com/organizations" }, cache: { cacheLocation: "localStorage" } }]);
    expect(await sub(s)).toBe("oid-ada");
    expect(office.dialogs).toEqual([]);
  });

  it("NestedAppAuth not supported (or only an older version): the dialog, only when the user clicks Sign in", async () => {
    const cases: Record<string, string>[] = [{ SharedRuntime: "1.1" }, { NestedAppAuth: "1.0" }];
    for (const requirementSets of cases) {
      const office = officeStandIn({ pageOrigin: ORIGIN, requirementSets, onDialog: (d) => d.office.context.ui.messageParent(JSON.stringify({ type: "token", accessToken: unsignedJwt({ oid: "oid-ada", name: "Ada Admin", exp: 4_000_000_000 }) })) });
      const msal = msalStub();
      const { s } = session({ fetch: authFetch({ origin: ORIGIN, mode: oidc }).fetch, office: office.office, msal: msal.factory });
      expect(await s.start()).toMatchObject({ status: "signedOut", via: "dialog" });
      expect(office.dialogs).toEqual([]); // never opened without a click
      expect(await s.signIn()).toMatchObject({ name: "Ada Admin" });
      expect(office.dialogs.map((d) => d.url)).toEqual(["https://localhost:3000/signin-dialog.html"]);
      expect(await sub(s)).toBe("oid-ada");
      expect(msal.configurations).toEqual([]); // the runtime's MSAL is the nested one: not used here
    }
  });

  it("an Entra ID server that names no client id for the add-in cannot be signed in to, and says what to set", async () => {
    const office = officeStandIn({ pageOrigin: ORIGIN, requirementSets: { NestedAppAuth: "1.1" } });
    const { s } = session({ fetch: authFetch({ origin: ORIGIN, mode: { ...oidc, clientId: null } }).fetch, office: office.office });
    expect(await s.start()).toMatchObject({ status: "unavailable", message: expect.stringContaining("QATOM_OIDC_CLIENT_ID") });
  });
});
