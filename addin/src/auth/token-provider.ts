/**
 * Where access tokens come from, and the cache every call goes through. A `TokenProvider` gets a
 * token one way (the development issuer, MSAL's nested app authentication, or the Office dialog);
 * the `TokenCache` in front of it hands out the current token until shortly before it expires, then
 * asks the provider again, silently. Only a click in the task pane may sign in interactively: the
 * functions never open a window, they show `#N/A` "Sign in in the task pane" instead.
 *
 * @see https://learn.microsoft.com/entra/identity-platform/msal-acquire-cache-tokens (acquire silently, renew before expiry)
 */
import { readClaims } from "./claims";

/** The error of a call without a token, and its message (defined with the other errors, ../errors.ts). */
export { isSignInRequired, SIGN_IN_MESSAGE, SignInRequiredError } from "../errors";

/** Who a token names (its claims; see ./claims.ts). */
export interface SignedInUser {
  /** `oid` or `sub`. */
  id: string;
  /** Display name. */
  name: string;
  /** `tid`, when the token has one. */
  tenant?: string;
}

/** An access token with what the add-in needs to know about it. */
export interface AccessToken {
  /** The bearer token (a JWT). */
  token: string;
  /** When it expires, ms since the epoch. */
  expiresAt: number;
  /** When it was issued (or received), ms since the epoch. */
  issuedAt: number;
  user: SignedInUser;
}

/** How a provider signs in: the backend's development issuer, MSAL nested app auth, or the Office dialog. */
export type ProviderKind = "development" | "naa" | "dialog";

/** One way of getting tokens (see the module comment). */
export interface TokenProvider {
  readonly kind: ProviderKind;
  /**
   * A token without involving the user (never opens a window), or null when only the user can
   * sign in (never signed in here, signed out, consent needed, expired beyond silent renewal).
   * @throws the `Not connected to <url>` error when the issuer cannot be reached.
   */
  silent(): Promise<AccessToken | null>;
  /**
   * Signs in with the user (after a click: may open a pop-up or a dialog). `user` picks the
   * development user; other providers ignore it.
   * @throws AddinError with the reason when sign-in fails or is canceled.
   */
  interactive(choice?: { user?: string }): Promise<AccessToken>;
  /** Forgets the signed-in account, so that `silent` returns null until the next `interactive`. */
  signOut(): Promise<void>;
}

/** Lifetime assumed for a token whose expiry is unknown (neither `exp` nor `expiresIn`). */
const DEFAULT_LIFETIME_MS = 5 * 60_000;

/**
 * An AccessToken from a raw token: user and expiry from its claims, else from `fallback` (MSAL's
 * `expiresOn` and account, the dev endpoint's `expiresIn`).
 */
export function accessToken(token: string, now: number, fallback: { expiresAt?: number; user?: Partial<SignedInUser> } = {}): AccessToken {
  const claims = readClaims(token);
  const id = claims?.userId || fallback.user?.id || "";
  return {
    token,
    expiresAt: claims?.expiresAt ?? fallback.expiresAt ?? now + DEFAULT_LIFETIME_MS,
    issuedAt: claims?.issuedAt ?? now,
    user: { id, name: (claims?.name !== claims?.userId ? claims?.name : undefined) || fallback.user?.name || id, tenant: claims?.tenant ?? fallback.user?.tenant },
  };
}

/** When the cache renews. */
export interface RenewalOptions {
  /** Renew at most this long before expiry (default 2 minutes)... */
  maxLeadMs: number;
  /** ...and at most this share of the token's lifetime before it (default 0.2: a 60 s token at 48 s). */
  leadShare: number;
  /** The clock (tests). */
  now: () => number;
}

/** Defaults: renew 2 minutes before expiry, or at 80% of a shorter token's life. */
export const DEFAULT_RENEWAL: RenewalOptions = { maxLeadMs: 120_000, leadShare: 0.2, now: () => Date.now() };

/** True when `t` should be renewed at `now` (see RenewalOptions). */
export function needsRenewal(t: AccessToken, now: number, o: Pick<RenewalOptions, "maxLeadMs" | "leadShare"> = DEFAULT_RENEWAL): boolean {
  const lifetime = Math.max(0, t.expiresAt - t.issuedAt);
  return now >= t.expiresAt - Math.min(o.maxLeadMs, lifetime * o.leadShare);
}

/**
 * The current token of one provider: handed out until it needs renewal, then renewed silently (one
 * renewal at a time, whoever asks). Dropped when the server refuses it (`invalidate`) or the user
 * signs out (`clear`).
 */
export class TokenCache {
  private current: AccessToken | null = null;
  private renewing: Promise<AccessToken | null> | null = null;
  /** Bumped by set/clear, so that a renewal that started before them is not kept. */
  private generation = 0;

  constructor(
    private readonly provider: TokenProvider,
    private readonly opts: RenewalOptions = DEFAULT_RENEWAL,
  ) {}

  /** The token in hand (possibly due for renewal), or null. */
  peek(): AccessToken | null {
    return this.current;
  }

  /**
   * A valid token: the cached one, else a silent renewal.
   * @returns null when the provider needs the user (the caller reports "Sign in in the task pane").
   * @throws what the provider throws (e.g. `Not connected to <url>`).
   */
  async get(): Promise<AccessToken | null> {
    const now = this.opts.now();
    const c = this.current;
    if (c && !needsRenewal(c, now, this.opts)) return c;
    if (!this.renewing) {
      const generation = this.generation;
      this.renewing = this.provider.silent().then(
        (t) => {
          this.renewing = null;
          if (generation !== this.generation) return this.current;
          if (t) this.current = t;
          // A token due for renewal is still good until it expires: keep it while silent renewal fails.
          else if (this.current && this.opts.now() >= this.current.expiresAt) this.current = null;
          return t ?? this.current;
        },
        (err: unknown) => {
          this.renewing = null;
          throw err;
        },
      );
    }
    try {
      return await this.renewing;
    } catch (err) {
      // The issuer is unreachable: a token due for renewal still works until it expires.
      if (c && this.current === c && this.opts.now() < c.expiresAt) return c;
      throw err;
    }
  }

  /** Keeps a token got interactively. */
  set(t: AccessToken): void {
    this.generation++;
    this.renewing = null;
    this.current = t;
  }

  /** Drops `token` if it is the current one (the server refused it): the next `get` renews. */
  invalidate(token: string): void {
    if (this.current?.token === token) {
      this.generation++;
      this.renewing = null;
      this.current = null;
    }
  }

  /** Drops everything (sign-out). */
  clear(): void {
    this.generation++;
    this.renewing = null;
    this.current = null;
  }
}
