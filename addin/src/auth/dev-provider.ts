/**
 * Development sign-in: the backend of `npm start` (development mode, localhost only) issues tokens
 * itself, for a user the caller names: `POST /auth/dev-token` with `{"user": "admin"}` answers
 * `{"accessToken": "<JWT>", "expiresIn": <seconds>}`; a bad body or user is 400 `{code, message}`,
 * and a server not in development mode answers 404. Anyone on the machine may sign in as anyone:
 * it exists so the whole add-in (rights included) runs with no identity provider.
 */
import { AddinError, notConnectedError } from "../errors";
import { type AccessToken, accessToken, type TokenProvider } from "./token-provider";

/** The development provider of one server. */
export class DevTokenProvider implements TokenProvider {
  readonly kind = "development" as const;

  /**
   * @param user the user signed in before (remembered by the session), or null.
   * @param now the clock (tests).
   */
  constructor(
    private readonly serverUrl: string,
    private user: string | null,
    private readonly fetchImpl?: typeof fetch,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** The user this provider signs in as, or null when signed out. */
  get signedInUser(): string | null {
    return this.user;
  }

  /** A token for the remembered user; null when there is none, or the server no longer issues one for them. */
  async silent(): Promise<AccessToken | null> {
    if (!this.user) return null;
    try {
      return await this.request(this.user);
    } catch (err) {
      if (err instanceof AddinError) return null; // refused (user unknown now, or not development mode)
      throw err;
    }
  }

  /** Signs in as `choice.user` (required). */
  async interactive(choice: { user?: string } = {}): Promise<AccessToken> {
    const user = choice.user?.trim();
    if (!user) throw new AddinError("notAvailable", "choose a user to sign in as");
    const t = await this.request(user);
    this.user = user;
    return t;
  }

  async signOut(): Promise<void> {
    this.user = null;
  }

  /**
   * @throws AddinError with the server's message when it refuses; `Not connected to <url>` when it
   *   cannot be reached.
   */
  private async request(user: string): Promise<AccessToken> {
    let res: Response;
    try {
      res = await (this.fetchImpl ?? globalThis.fetch)(`${this.serverUrl}/auth/dev-token`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ user }),
      });
    } catch (err) {
      throw notConnectedError(this.serverUrl, err);
    }
    let body: { accessToken?: unknown; expiresIn?: unknown; message?: unknown } = {};
    try {
      body = (await res.json()) as typeof body;
    } catch {
      // not JSON: handled below by status
    }
    if (res.status >= 500) throw notConnectedError(this.serverUrl, new Error(`POST /auth/dev-token: HTTP ${res.status}`));
    if (!res.ok || typeof body.accessToken !== "string" || !body.accessToken) {
      const why = typeof body.message === "string" && body.message ? body.message : `HTTP ${res.status}`;
      throw new AddinError("notAvailable", res.status === 404 ? `${this.serverUrl} does not issue development tokens (it is not in development mode)` : `development sign-in as ${user} refused: ${why}`);
    }
    const now = this.now();
    const expiresIn = typeof body.expiresIn === "number" && body.expiresIn > 0 ? body.expiresIn : undefined;
    return accessToken(body.accessToken, now, { expiresAt: expiresIn ? now + expiresIn * 1000 : undefined, user: { id: user } });
  }
}
