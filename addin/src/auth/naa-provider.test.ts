/**
 * The MSAL nested-app-authentication provider with MSAL replaced at its factory (Entra ID cannot be
 * reached from tests): configured from the server's /auth/config, silent first, a pop-up only on
 * InteractionRequiredAuthError, sign-out forgets the account.
 */
import { type AccountInfo, type AuthenticationResult, BrowserAuthError, type Configuration, type IPublicClientApplication, InteractionRequiredAuthError } from "@azure/msal-browser";
import { unsignedJwt } from "../../../test/helpers/auth-stand-in";
import type { OidcAuthConfig } from "./config";
import { NaaTokenProvider } from "./naa-provider";

const config: OidcAuthConfig = {
  mode: "oidc",
  issuer: "https://login.microsoftonline.com/tid-1/v2.0",
  audience: "api://quantatom-backend",
  clientId: "addin-client-id",
  scopes: ["api://quantatom-backend/access_as_user"],
  authority: "https://login.microsoftonline.com/organizations",
};

const ada: AccountInfo = { homeAccountId: "oid-ada.tid-1", environment: "login.microsoftonline.com", tenantId: "tid-1", username: "ada@contoso.com", localAccountId: "oid-ada", name: "Ada Admin" };

function result(account: AccountInfo | null, token = unsignedJwt({ oid: "oid-ada", name: "Ada Admin", tid: "tid-1", iat: 1000, exp: 4600 })): AuthenticationResult {
  return { accessToken: token, account, expiresOn: new Date(4_600_000) } as AuthenticationResult;
}

/** A fake MSAL application: scripted silent and pop-up answers, a real active account. */
function fakeMsal(script: { silent: (() => AuthenticationResult)[]; popup?: (() => AuthenticationResult)[] }) {
  const calls: { method: string; request?: unknown }[] = [];
  const configurations: Configuration[] = [];
  let active: AccountInfo | null = null;
  const app = {
    acquireTokenSilent: async (request: unknown) => {
      calls.push({ method: "acquireTokenSilent", request });
      const next = script.silent.shift();
      if (!next) throw new Error("unexpected acquireTokenSilent");
      return next();
    },
    acquireTokenPopup: async (request: unknown) => {
      calls.push({ method: "acquireTokenPopup", request });
      const next = script.popup?.shift();
      if (!next) throw new Error("unexpected acquireTokenPopup");
      return next();
    },
    getActiveAccount: () => active,
    setActiveAccount: (a: AccountInfo | null) => {
      calls.push({ method: "setActiveAccount", request: a?.localAccountId ?? null });
      active = a;
    },
  } as unknown as IPublicClientApplication;
  const factory = async (c: Configuration) => {
    configurations.push(c);
    return app;
  };
  return { factory, calls, configurations, active: () => active };
}

const interactionRequired = () => {
  throw new InteractionRequiredAuthError("interaction_required", "corr-1", "AADSTS65001: consent required");
};

describe("the NAA provider", () => {
  it("makes one MSAL application with the client id and authority of the server's configuration", async () => {
    const msal = fakeMsal({ silent: [() => result(ada), () => result(ada)] });
    const p = new NaaTokenProvider(config, msal.factory);
    await p.silent();
    await p.silent();
    expect(msal.configurations).toEqual([{ auth: { clientId: "addin-client-id", authority: "https://login.microsoftonline.com/organizations" }, cache: { cacheLocation: "localStorage" } }]);
  });

  it("signs in silently with the scopes of the configuration, and names the user from the token", async () => {
    const msal = fakeMsal({ silent: [() => result(ada)] });
    const t = await new NaaTokenProvider(config, msal.factory).silent();
    expect(t).toMatchObject({ expiresAt: 4_600_000, issuedAt: 1_000_000, user: { id: "oid-ada", name: "Ada Admin", tenant: "tid-1" } });
    expect(msal.calls[0]).toEqual({ method: "acquireTokenSilent", request: { scopes: ["api://quantatom-backend/access_as_user"], account: undefined } });
    expect(msal.active()).toBe(ada);
  });

  it("silent: null (no pop-up) when MSAL needs the user, or cannot get a token at all", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const msal = fakeMsal({
        silent: [
          interactionRequired,
          () => {
            throw new BrowserAuthError("no_network_connectivity", "corr-1");
          },
        ],
      });
      const p = new NaaTokenProvider(config, msal.factory);
      expect(await p.silent()).toBeNull();
      expect(await p.silent()).toBeNull();
      expect(msal.calls.map((c) => c.method)).toEqual(["acquireTokenSilent", "acquireTokenSilent"]);
      expect(warn).toHaveBeenCalledTimes(1); // the unexpected failure, not the consent
    } finally {
      warn.mockRestore();
    }
  });

  it("interactive: silent first, the pop-up only after InteractionRequiredAuthError", async () => {
    const msal = fakeMsal({ silent: [interactionRequired], popup: [() => result(ada)] });
    const t = await new NaaTokenProvider(config, msal.factory).interactive();
    expect(t.user.name).toBe("Ada Admin");
    expect(msal.calls.map((c) => c.method)).toEqual(["acquireTokenSilent", "acquireTokenPopup", "setActiveAccount"]);
    expect(msal.calls[1].request).toEqual({ scopes: ["api://quantatom-backend/access_as_user"] });

    const quiet = fakeMsal({ silent: [() => result(ada)] });
    await new NaaTokenProvider(config, quiet.factory).interactive();
    expect(quiet.calls.map((c) => c.method)).toEqual(["acquireTokenSilent", "setActiveAccount"]);
  });

  it("interactive: any other silent failure is reported, without a pop-up; a canceled pop-up says so", async () => {
    const broken = fakeMsal({
      silent: [
        () => {
          throw new BrowserAuthError("monitor_window_timeout", "corr-1");
        },
      ],
    });
    await expect(new NaaTokenProvider(config, broken.factory).interactive()).rejects.toThrow(/sign-in with Microsoft failed/);
    expect(broken.calls.map((c) => c.method)).toEqual(["acquireTokenSilent"]);

    const canceled = fakeMsal({
      silent: [interactionRequired],
      popup: [
        () => {
          throw new BrowserAuthError("user_cancelled", "corr-1");
        },
      ],
    });
    await expect(new NaaTokenProvider(config, canceled.factory).interactive()).rejects.toThrow("sign-in was canceled");
  });

  it("MSAL that cannot start: silent gives up quietly (the cells ask for a sign-in), Sign in says why", async () => {
    const warn = jest.spyOn(console, "warn").mockImplementation(() => undefined);
    try {
      const broken = async () => {
        throw new BrowserAuthError("uninitialized_public_client_application", "corr-1");
      };
      const p = new NaaTokenProvider(config, broken);
      expect(await p.silent()).toBeNull();
      await expect(p.interactive()).rejects.toThrow(/sign-in with Microsoft failed/);
    } finally {
      warn.mockRestore();
    }
  });

  it("sign-out clears the active account; the next silent call asks MSAL without one", async () => {
    const msal = fakeMsal({ silent: [() => result(ada), interactionRequired] });
    const p = new NaaTokenProvider(config, msal.factory);
    await p.silent();
    expect(msal.active()).toBe(ada);
    await p.signOut();
    expect(msal.active()).toBeNull();
    expect(await p.silent()).toBeNull();
    expect(msal.calls.at(-1)).toEqual({ method: "acquireTokenSilent", request: { scopes: config.scopes, account: undefined } });
    // a provider that never made its application has nothing to sign out of
    const unused = fakeMsal({ silent: [] });
    await new NaaTokenProvider(config, unused.factory).signOut();
    expect(unused.configurations).toEqual([]);
  });
});
