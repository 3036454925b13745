/**
 * Sign-in with Microsoft Entra ID through MSAL.js's nested app authentication (NAA): Office signs
 * the add-in in with the account the user is already signed in to Office with (single sign-on),
 * asking only for consent the first time. Used where Office supports the `NestedAppAuth 1.1`
 * requirement set; elsewhere the session uses the Office dialog (./dialog-provider.ts).
 *
 * As Microsoft's guide says: one public client application made with
 * `createNestablePublicClientApplication` ({clientId, authority} of the add-in's app registration,
 * here from the server's `/auth/config`), `acquireTokenSilent` first, and `acquireTokenPopup` only
 * when it fails with `InteractionRequiredAuthError`. NAA has no logout (Office owns the account):
 * sign-out forgets the active account, and the session stops signing in silently until the user
 * clicks Sign in again.
 *
 * MSAL itself talks to Entra ID, which tests cannot reach: they pass their own `MsalFactory`.
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/enable-nested-app-authentication-in-your-add-in
 * @see https://learn.microsoft.com/javascript/api/requirement-sets/common/nested-app-auth-requirement-sets
 */
import {
  type AuthenticationResult,
  type Configuration,
  createNestablePublicClientApplication,
  type IPublicClientApplication,
  InteractionRequiredAuthError,
} from "@azure/msal-browser";
import { AddinError } from "../errors";
import type { OidcAuthConfig } from "./config";
import { type AccessToken, accessToken, type TokenProvider } from "./token-provider";

/** The requirement set of nested app authentication, and the version the add-in needs. */
export const NAA_REQUIREMENT = { name: "NestedAppAuth", version: "1.1" } as const;

/** Makes MSAL's public client application (the thin boundary tests replace). */
export type MsalFactory = (configuration: Configuration) => Promise<IPublicClientApplication>;

/** MSAL's configuration for the add-in's app registration (from the server's `/auth/config`). */
export function naaConfiguration(config: OidcAuthConfig): Configuration {
  return {
    auth: { clientId: config.clientId, authority: config.authority },
    // localStorage: the shared runtime and the task pane are one page, and a token survives a reload.
    cache: { cacheLocation: "localStorage" },
  };
}

/** True for MSAL's "the user must interact" error (by class, else by name across bundles). */
export function isInteractionRequired(err: unknown): boolean {
  return err instanceof InteractionRequiredAuthError || (typeof err === "object" && err !== null && (err as { name?: unknown }).name === "InteractionRequiredAuthError");
}

/** The NAA provider of one server's configuration. */
export class NaaTokenProvider implements TokenProvider {
  readonly kind = "naa" as const;
  private app: Promise<IPublicClientApplication> | null = null;

  /**
   * @param factory makes the MSAL application (default `createNestablePublicClientApplication`).
   * @param now the clock (tests).
   */
  constructor(
    private readonly config: OidcAuthConfig,
    private readonly factory: MsalFactory = createNestablePublicClientApplication,
    private readonly now: () => number = () => Date.now(),
  ) {}

  private client(): Promise<IPublicClientApplication> {
    this.app ??= this.factory(naaConfiguration(this.config)).catch((err: unknown) => {
      this.app = null;
      throw err;
    });
    return this.app;
  }

  /** `acquireTokenSilent`; null when MSAL needs the user (or cannot get a token silently at all). */
  async silent(): Promise<AccessToken | null> {
    try {
      const app = await this.client();
      return this.toAccessToken(await app.acquireTokenSilent(this.request(app)), app);
    } catch (err) {
      if (!isInteractionRequired(err)) console.warn("quantatom: silent sign-in failed", err);
      return null;
    }
  }

  /** Silent first; a pop-up (Office's, through NAA) when MSAL says the user must interact. */
  async interactive(): Promise<AccessToken> {
    let app: IPublicClientApplication;
    try {
      app = await this.client();
    } catch (err) {
      throw signInFailed(err);
    }
    try {
      return this.toAccessToken(await app.acquireTokenSilent(this.request(app)), app);
    } catch (err) {
      if (!isInteractionRequired(err)) throw signInFailed(err);
    }
    try {
      return this.toAccessToken(await app.acquireTokenPopup({ scopes: this.config.scopes }), app);
    } catch (err) {
      throw signInFailed(err);
    }
  }

  /** Forgets the active account (NAA has no logout: the account is Office's). */
  async signOut(): Promise<void> {
    if (!this.app) return;
    const app = await this.client();
    app.setActiveAccount(null);
  }

  private request(app: IPublicClientApplication) {
    return { scopes: this.config.scopes, account: app.getActiveAccount() ?? undefined };
  }

  private toAccessToken(r: AuthenticationResult, app: IPublicClientApplication): AccessToken {
    if (r.account) app.setActiveAccount(r.account);
    return accessToken(r.accessToken, this.now(), {
      expiresAt: r.expiresOn?.getTime(),
      user: r.account ? { id: r.account.localAccountId, name: r.account.name ?? r.account.username, tenant: r.account.tenantId } : undefined,
    });
  }
}

/** An MSAL failure as the add-in reports it (the pane shows the message). */
function signInFailed(err: unknown): AddinError {
  const e = err as { errorCode?: unknown; errorMessage?: unknown; message?: unknown };
  if (e?.errorCode === "user_cancelled") return new AddinError("notAvailable", "sign-in was canceled");
  const why = typeof e?.errorMessage === "string" && e.errorMessage ? e.errorMessage : typeof e?.message === "string" ? e.message : String(err);
  return new AddinError("notAvailable", `sign-in with Microsoft failed: ${why}`);
}
