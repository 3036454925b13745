/**
 * The Office dialog fallback end to end, with Office's dialog API played by the stand-in that
 * behaves as Microsoft documents it (test/helpers/office-stand-ins.ts) and MSAL's standard
 * application replaced at its factory: the provider opens signin-dialog.html on the add-in's
 * origin, the page (./dialog-page.ts) redirects to Entra ID and back, and its messageParent brings
 * the token home. Also: the user closing the dialog, a page error, a dialog already open.
 */
import type { AuthenticationResult, Configuration, IPublicClientApplication } from "@azure/msal-browser";
import { authFetch, unsignedJwt } from "../../../test/helpers/auth-stand-in";
import { officeStandIn, type StandInDialog } from "../../../test/helpers/office-stand-ins";
import { officeHost } from "../host";
import { DIALOG_PAGE, DialogTokenProvider, parseDialogMessage } from "./dialog-provider";
import { runDialogSignIn } from "./dialog-page";

const ORIGIN = "https://localhost:3000";
const oidc = {
  clientId: "addin-client-id",
  scopes: ["api://quantatom-backend/access_as_user"],
  authority: "https://login.microsoftonline.com/organizations",
  audience: "api://quantatom-backend",
  issuer: "https://login.microsoftonline.com/tid-1/v2.0",
};
const TOKEN = unsignedJwt({ oid: "oid-ada", name: "Ada Admin", tid: "tid-1", iat: 1000, exp: 4600 });

/**
 * MSAL's standard application in the dialog: the first load finds no redirect response and
 * redirects to "Entra ID", which comes back to the page (a second load) with the response.
 */
function fakeRedirectMsal(outcome: "token" | "error") {
  const configurations: Configuration[] = [];
  const redirects: unknown[] = [];
  let returning = false;
  const factory = async (c: Configuration) => {
    configurations.push(c);
    return {
      handleRedirectPromise: async () => {
        if (!returning) return null;
        if (outcome === "error") throw Object.assign(new Error("AADSTS50105: not assigned to a role for the application"), { errorMessage: "AADSTS50105: not assigned" });
        return { accessToken: TOKEN, expiresOn: new Date(4_600_000), account: { localAccountId: "oid-ada", name: "Ada Admin", username: "ada@contoso.com", tenantId: "tid-1" } } as unknown as AuthenticationResult;
      },
      acquireTokenRedirect: async (request: unknown) => {
        redirects.push(request);
        returning = true;
      },
      setActiveAccount: () => undefined,
    } as unknown as IPublicClientApplication;
  };
  return { factory, configurations, redirects };
}

/** Loads the dialog page as the dialog's browser would, again after each redirect. */
function dialogPage(msal: ReturnType<typeof fakeRedirectMsal>, f: typeof fetch) {
  return async (dialog: StandInDialog) => {
    const url = new URL(dialog.url);
    const run = () => runDialogSignIn({ host: officeHost({ Office: dialog.office }), location: url, fetch: f, msal: msal.factory });
    if ((await run()) === null) await run(); // back from Entra ID
  };
}

describe("sign-in through the Office dialog", () => {
  it("opens signin-dialog.html on the add-in's origin; the page signs in by redirect and returns the token with messageParent", async () => {
    const server = authFetch({ origin: ORIGIN, mode: oidc });
    const msal = fakeRedirectMsal("token");
    const office = officeStandIn({ pageOrigin: ORIGIN, onDialog: dialogPage(msal, server.fetch) });
    const provider = new DialogTokenProvider(officeHost({ Office: office.office }), `${ORIGIN}/${DIALOG_PAGE}`);

    expect(await provider.silent()).toBeNull(); // a dialog needs the user
    const t = await provider.interactive();
    expect(t).toMatchObject({ token: TOKEN, expiresAt: 4_600_000, user: { id: "oid-ada", name: "Ada Admin", tenant: "tid-1" } });

    const [dialog] = office.dialogs;
    expect(dialog.url).toBe("https://localhost:3000/signin-dialog.html");
    expect(dialog.options).toMatchObject({ height: 60, width: 30, displayInIframe: false });
    expect(dialog.closed).toBe(true); // closed by the provider once the token arrived
    // MSAL in the dialog: the add-in's registration, the page itself as the redirect URI
    expect(msal.configurations[0]).toEqual({
      auth: { clientId: "addin-client-id", authority: "https://login.microsoftonline.com/organizations", redirectUri: "https://localhost:3000/signin-dialog.html" },
      cache: { cacheLocation: "localStorage" },
    });
    expect(msal.redirects).toEqual([{ scopes: oidc.scopes, redirectUri: "https://localhost:3000/signin-dialog.html", prompt: "select_account" }]);
    expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(["GET /auth/config", "GET /auth/config"]);
  });

  it("reports Entra ID's refusal, the user closing the dialog, and a page that did not load", async () => {
    const server = authFetch({ origin: ORIGIN, mode: oidc });
    const refused = officeStandIn({ pageOrigin: ORIGIN, onDialog: dialogPage(fakeRedirectMsal("error"), server.fetch) });
    await expect(new DialogTokenProvider(officeHost({ Office: refused.office }), `${ORIGIN}/${DIALOG_PAGE}`).interactive()).rejects.toThrow(
      "sign-in with Microsoft failed: AADSTS50105: not assigned",
    );
    expect(refused.dialogs[0].closed).toBe(true);

    const closed = officeStandIn({ pageOrigin: ORIGIN, onDialog: (d) => d.userCloses() });
    await expect(new DialogTokenProvider(officeHost({ Office: closed.office }), `${ORIGIN}/${DIALOG_PAGE}`).interactive()).rejects.toThrow(
      "sign-in was canceled (the window was closed)",
    );

    const missing = officeStandIn({ pageOrigin: ORIGIN, onDialog: (d) => d.failsToLoad() });
    await expect(new DialogTokenProvider(officeHost({ Office: missing.office }), `${ORIGIN}/${DIALOG_PAGE}`).interactive()).rejects.toThrow("Office dialog error 12002");
  });

  it("explains why a dialog cannot open: another origin (12004), http (12005), one already open (12007)", async () => {
    const office = officeStandIn({ pageOrigin: ORIGIN });
    const host = officeHost({ Office: office.office });
    await expect(new DialogTokenProvider(host, `https://elsewhere.example.com/${DIALOG_PAGE}`).interactive()).rejects.toThrow("not on the add-in's domain");
    await expect(new DialogTokenProvider(host, `http://localhost:3000/${DIALOG_PAGE}`).interactive()).rejects.toThrow("must be served over HTTPS");
    const first = new DialogTokenProvider(host, `${ORIGIN}/${DIALOG_PAGE}`).interactive();
    await new Promise((r) => setTimeout(r, 5));
    await expect(new DialogTokenProvider(host, `${ORIGIN}/${DIALOG_PAGE}`).interactive()).rejects.toThrow("a sign-in window is already open");
    office.dialogs[0].userCloses();
    await expect(first).rejects.toThrow("canceled");
    // no dialog API at all (a plain page)
    await expect(new DialogTokenProvider(officeHost({}), `${ORIGIN}/${DIALOG_PAGE}`).interactive()).rejects.toThrow("Office's dialog API is not available here");
  });

  it("the page refuses a server that is not in Entra ID mode, and anything but its own messages is ignored", async () => {
    const sent: string[] = [];
    const m = await runDialogSignIn({
      host: { ready: async () => false, messageParent: (x) => sent.push(x) },
      location: new URL(`${ORIGIN}/${DIALOG_PAGE}`),
      fetch: authFetch({ origin: ORIGIN }).fetch,
      msal: fakeRedirectMsal("token").factory,
    });
    expect(m).toEqual({ type: "error", message: "the server at https://localhost:3000 is in development mode, not Entra ID" });
    expect(sent.map(parseDialogMessage)).toEqual([m]);
    expect(parseDialogMessage("hello")).toBeNull();
    expect(parseDialogMessage('{"type":"token"}')).toBeNull();
  });
});
