/**
 * The sign-in of the shared runtime: one per page, shared by the custom functions (which only ever
 * ask for a token silently) and the task pane (whose buttons sign in and out). It reads the
 * server's `/auth/config`, picks the provider, keeps the token cache, and publishes the state the
 * pane shows. Every RPC asks it for a token (addin/src/transport.ts).
 *
 * Which provider:
 * - `development` mode: the backend's development issuer (./dev-provider.ts);
 * - `oidc` mode where Office supports `NestedAppAuth 1.1`: MSAL nested app authentication
 *   (./naa-provider.ts), as Microsoft recommends for Office add-ins;
 * - `oidc` mode elsewhere: the Office dialog (./dialog-provider.ts).
 *
 * Between sessions it remembers, in the runtime's storage (`quantatom.signin`), the server it
 * signed in to, the development user, and whether the user signed out: on the next start it signs
 * in again silently (development user, or MSAL's silent single sign-on) unless the user had signed
 * out, so a reopened workbook's QATOM cells fill in without a click.
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/enable-nested-app-authentication-in-your-add-in
 */
import { toQatomError } from "../errors";
import type { Host } from "../host";
import { ObservableValue } from "../observable";
import { type AuthConfig, fetchAuthConfig } from "./config";
import { DevTokenProvider } from "./dev-provider";
import { DIALOG_PAGE, DialogTokenProvider } from "./dialog-provider";
import { type MsalFactory, NAA_REQUIREMENT, NaaTokenProvider } from "./naa-provider";
import { DEFAULT_RENEWAL, type ProviderKind, type RenewalOptions, type SignedInUser, SignInRequiredError, TokenCache, type TokenProvider } from "./token-provider";

/** Storage key of the remembered sign-in: JSON `{ "serverUrl": ..., "user"?: ..., "signedOut"?: true }`. */
export const SIGNIN_KEY = "quantatom.signin";

/** Shown (and told to the functions) when a token expired and could not be renewed silently. */
export const EXPIRED_MESSAGE = "Your sign-in expired: sign in again";

/** Where sign-in stands; the pane renders it. */
export type AuthState =
  /** Reading the server's `/auth/config` (and signing in silently). */
  | { status: "loading"; serverUrl: string }
  /** The configuration could not be read: the server is unreachable, or offers no sign-in. */
  | { status: "unavailable"; serverUrl: string; message: string }
  /** Nobody is signed in; `message` says why when it is news (expired, failed, canceled). */
  | { status: "signedOut"; serverUrl: string; config: AuthConfig; via: ProviderKind; message?: string }
  /** The user clicked Sign in; a pop-up or dialog may be open. */
  | { status: "signingIn"; serverUrl: string; config: AuthConfig; via: ProviderKind }
  | { status: "signedIn"; serverUrl: string; config: AuthConfig; via: ProviderKind; user: SignedInUser };

/** What the session remembers between runs (see the module comment). */
interface Remembered {
  serverUrl: string;
  user?: string;
  signedOut?: boolean;
}

/** Everything the session is given. */
export interface AuthSessionOptions {
  host: Host;
  /** The current server URL (from the settings). */
  serverUrl: () => Promise<string>;
  fetch?: typeof fetch;
  /** Makes MSAL's nested application (tests pass their own; see ./naa-provider.ts). */
  msal?: MsalFactory;
  renewal?: Partial<RenewalOptions>;
}

/** A failure's message for a person (a Connect error's without its `[code]` prefix). */
function messageOf(err: unknown, serverUrl: string): string {
  return toQatomError(err, serverUrl).message;
}

/** One server's sign-in machinery. */
interface Loaded {
  serverUrl: string;
  config: AuthConfig;
  provider: TokenProvider;
  cache: TokenCache;
}

/** The runtime's sign-in (see the module comment). */
export class AuthSession {
  /** The state, for the pane (and for the runtime, which restarts streams when the user changes). */
  readonly state = new ObservableValue<AuthState>({ status: "loading", serverUrl: "" });
  private loading: { serverUrl: string; promise: Promise<Loaded> } | null = null;
  /** The current server's machinery once loaded (for synchronous invalidation). */
  private loaded: Loaded | null = null;
  private readonly renewal: RenewalOptions;

  constructor(private readonly opts: AuthSessionOptions) {
    this.renewal = { ...DEFAULT_RENEWAL, ...opts.renewal };
  }

  /**
   * Reads the server's sign-in configuration and signs in silently when it may (idempotent; again
   * after a failure or a change of server).
   * @returns the state after that.
   */
  async start(): Promise<AuthState> {
    try {
      await this.load();
    } catch {
      // the state says why
    }
    return this.state.get();
  }

  /**
   * A token for an RPC, silently (renewed shortly before it expires).
   * @throws SignInRequiredError ("Sign in in the task pane") when nobody is signed in or the token
   *   expired beyond silent renewal; `Not connected to <url>` when the server cannot be reached.
   */
  async getToken(): Promise<string> {
    const l = await this.load();
    const s = this.state.get();
    if (s.status !== "signedIn" || s.serverUrl !== l.serverUrl) throw new SignInRequiredError();
    const t = await l.cache.get();
    if (!t) {
      if (this.current(l)) this.state.set({ status: "signedOut", serverUrl: l.serverUrl, config: l.config, via: l.provider.kind, message: EXPIRED_MESSAGE });
      throw new SignInRequiredError();
    }
    return t.token;
  }

  /** Drops `token` if it is the current one (the server refused it); the next call renews it. */
  invalidate(token: string): void {
    this.loaded?.cache.invalidate(token);
  }

  /**
   * Signs in with the user (a click in the pane): the development user `choice.user`, or Microsoft's
   * sign-in (NAA or the dialog).
   * @throws AddinError with the reason (canceled, refused, not reachable); the state says it too.
   */
  async signIn(choice: { user?: string } = {}): Promise<SignedInUser> {
    const l = await this.load();
    this.state.set({ status: "signingIn", serverUrl: l.serverUrl, config: l.config, via: l.provider.kind });
    try {
      const t = await l.provider.interactive(choice);
      if (!this.current(l)) throw new Error("the server changed during sign-in");
      l.cache.set(t);
      await this.remember({ serverUrl: l.serverUrl, user: l.provider instanceof DevTokenProvider ? (l.provider.signedInUser ?? undefined) : undefined });
      this.state.set({ status: "signedIn", serverUrl: l.serverUrl, config: l.config, via: l.provider.kind, user: t.user });
      return t.user;
    } catch (err) {
      if (this.current(l)) {
        this.state.set({ status: "signedOut", serverUrl: l.serverUrl, config: l.config, via: l.provider.kind, message: messageOf(err, l.serverUrl) });
      }
      throw err;
    }
  }

  /** Signs out: forgets the token and the account, and stops signing in silently until the next Sign in. */
  async signOut(): Promise<void> {
    const l = await this.load();
    l.cache.clear();
    await l.provider.signOut();
    await this.remember({ serverUrl: l.serverUrl, signedOut: true });
    if (this.current(l)) this.state.set({ status: "signedOut", serverUrl: l.serverUrl, config: l.config, via: l.provider.kind });
  }

  /** The server changed (settings saved): sign-in starts over for the new one. */
  reset(): void {
    this.loading = null;
    this.loaded = null;
    void this.start();
  }

  private current(l: Loaded): boolean {
    return this.loading !== null && this.loading.serverUrl === l.serverUrl;
  }

  /** The current server's machinery, loaded once (again after a failure or a change of server). */
  private async load(): Promise<Loaded> {
    const serverUrl = await this.opts.serverUrl();
    if (this.loading?.serverUrl !== serverUrl) {
      const promise = this.loadServer(serverUrl);
      const entry = { serverUrl, promise };
      this.loading = entry;
      promise.catch(() => {
        if (this.loading === entry) this.loading = null; // retried by the next call
      });
    }
    return this.loading!.promise;
  }

  private async loadServer(serverUrl: string): Promise<Loaded> {
    this.state.set({ status: "loading", serverUrl });
    let config: AuthConfig;
    let provider: TokenProvider;
    let remembered: Remembered | null;
    try {
      [config, remembered] = await Promise.all([fetchAuthConfig(serverUrl, this.opts.fetch), this.recall()]);
      if (remembered?.serverUrl !== serverUrl) remembered = null;
      provider = await this.providerFor(serverUrl, config, remembered);
    } catch (err) {
      if (this.loading?.serverUrl === serverUrl) this.state.set({ status: "unavailable", serverUrl, message: messageOf(err, serverUrl) });
      throw err;
    }
    const cache = new TokenCache(provider, this.renewal);
    const l: Loaded = { serverUrl, config, provider, cache };
    const signedOut = (message?: string): AuthState => ({ status: "signedOut", serverUrl, config, via: provider.kind, message });
    let next: AuthState = signedOut();
    if (!remembered?.signedOut) {
      try {
        const t = await cache.get();
        if (t) next = { status: "signedIn", serverUrl, config, via: provider.kind, user: t.user };
      } catch (err) {
        next = signedOut(messageOf(err, serverUrl));
      }
    }
    if (this.loading?.serverUrl === serverUrl) {
      this.loaded = l;
      this.state.set(next);
    }
    return l;
  }

  private async providerFor(serverUrl: string, config: AuthConfig, remembered: Remembered | null): Promise<TokenProvider> {
    if (config.mode === "development") return new DevTokenProvider(serverUrl, remembered?.signedOut ? null : (remembered?.user ?? null), this.opts.fetch, this.renewal.now);
    // Requirement sets can be asked only once Office is ready.
    await this.opts.host.ready();
    if (this.opts.host.isSetSupported(NAA_REQUIREMENT.name, NAA_REQUIREMENT.version)) return new NaaTokenProvider(config, this.opts.msal, this.renewal.now);
    // The dialog's page must be on the add-in's own origin (Office error 12004 otherwise).
    const origin = this.opts.host.pageOrigin() ?? serverUrl;
    return new DialogTokenProvider(this.opts.host, `${origin}/${DIALOG_PAGE}`, this.renewal.now);
  }

  private async recall(): Promise<Remembered | null> {
    try {
      const raw = await this.opts.host.storage?.getItem(SIGNIN_KEY);
      if (!raw) return null;
      const r = JSON.parse(raw) as Partial<Remembered>;
      if (typeof r.serverUrl !== "string") return null;
      return { serverUrl: r.serverUrl, user: typeof r.user === "string" && r.user ? r.user : undefined, signedOut: r.signedOut === true };
    } catch {
      return null;
    }
  }

  private async remember(r: Remembered): Promise<void> {
    try {
      await this.opts.host.storage?.setItem(SIGNIN_KEY, JSON.stringify(r));
    } catch (err) {
      console.warn("quantatom: could not store the sign-in", err);
    }
  }
}
