/**
 * The sign-in dialog's page (`signin-dialog.html`, opened by ./dialog-provider.ts with Office's
 * dialog API where nested app authentication is not supported). It signs in with MSAL's redirect
 * flow, which Microsoft recommends in a dialog (a pop-up from a dialog is blocked on some
 * platforms), and returns the result to the task pane with `messageParent`:
 *
 * 1. first load: no redirect response, so `acquireTokenRedirect` sends the dialog to Entra ID
 *    (`prompt: select_account`, so that after a sign-out the user picks the account again);
 * 2. Entra ID redirects back to this page (the redirect URI: this page's URL, registered as a
 *    single-page-application redirect), `handleRedirectPromise` redeems the code, and the token
 *    goes to the opener as a `DialogSignInMessage`. Any failure goes back as `{type: "error"}`.
 *
 * The page reads the server's `/auth/config` from its own origin (the backend serves the add-in).
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/auth-with-office-dialog-api
 * @see https://github.com/OfficeDev/Office-Add-in-samples/tree/main/Samples/auth/Office-Add-in-SSO-NAA (its fallback dialog)
 */
import { type Configuration, createStandardPublicClientApplication, type IPublicClientApplication } from "@azure/msal-browser";
import type { Host } from "../host";
import { fetchAuthConfig } from "./config";
import type { DialogSignInMessage } from "./dialog-provider";
import { readClaims } from "./claims";

/** What the page needs; tests pass their own. */
export interface DialogPageDeps {
  /** Office (ready, messageParent); see addin/src/host.ts. */
  host: Pick<Host, "ready" | "messageParent">;
  /** The page's own address: its origin serves `/auth/config`, origin + path is the redirect URI. */
  location: { origin: string; pathname: string };
  fetch?: typeof fetch;
  /** Makes MSAL's standard (non-nested) application; default `createStandardPublicClientApplication`. */
  msal?: (configuration: Configuration) => Promise<IPublicClientApplication>;
  /** Shows progress on the page. */
  status?: (text: string) => void;
}

/**
 * Runs the dialog's sign-in (see the module comment).
 * @returns the message sent to the opener, or null when the page navigated to Entra ID instead.
 */
export async function runDialogSignIn(deps: DialogPageDeps): Promise<DialogSignInMessage | null> {
  const status = deps.status ?? (() => {});
  const send = (m: DialogSignInMessage) => {
    deps.host.messageParent(JSON.stringify(m));
    return m;
  };
  await deps.host.ready();
  try {
    const config = await fetchAuthConfig(deps.location.origin, deps.fetch);
    if (config.mode !== "oidc") return send({ type: "error", message: `the server at ${deps.location.origin} is in ${config.mode} mode, not Entra ID` });
    const redirectUri = `${deps.location.origin}${deps.location.pathname}`;
    const app = await (deps.msal ?? createStandardPublicClientApplication)({
      auth: { clientId: config.clientId, authority: config.authority, redirectUri },
      cache: { cacheLocation: "localStorage" },
    });
    const result = await app.handleRedirectPromise();
    if (result) {
      if (result.account) app.setActiveAccount(result.account);
      const claims = readClaims(result.accessToken);
      status("Signed in. This window closes by itself.");
      return send({
        type: "token",
        accessToken: result.accessToken,
        expiresOn: result.expiresOn?.getTime(),
        account: result.account ? { id: claims?.userId || result.account.localAccountId, name: result.account.name ?? result.account.username, tenant: result.account.tenantId } : undefined,
      });
    }
    status("Going to Microsoft sign-in…");
    await app.acquireTokenRedirect({ scopes: config.scopes, redirectUri, prompt: "select_account" });
    return null;
  } catch (err) {
    const e = err as { errorMessage?: unknown; message?: unknown };
    const message = typeof e?.errorMessage === "string" && e.errorMessage ? e.errorMessage : typeof e?.message === "string" ? e.message : String(err);
    status(`Sign-in failed: ${message}`);
    return send({ type: "error", message });
  }
}
