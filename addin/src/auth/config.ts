/**
 * How a backend wants its callers to sign in: its public `GET /auth/config`, read before any
 * token exists. Two modes (the backend's contract):
 *
 * - `development` (the default of `npm start`, localhost only): the backend issues tokens itself
 *   to whoever asks from this machine (`POST /auth/dev-token`), for the seeded users it lists.
 * - `oidc`: Microsoft Entra ID (or another OpenID Connect issuer); the add-in signs in with MSAL
 *   using the app registration's client id, authority and scopes given here.
 */
import { AddinError, notConnectedError } from "../errors";

/** A user development sign-in offers (from the cubes' security sections). */
export interface SeededUser {
  id: string;
  /** Display name (the id when the server gives none). */
  name: string;
  groups: string[];
  admin: boolean;
}

/** Development mode: the backend signs tokens for users of this machine. */
export interface DevelopmentAuthConfig {
  mode: "development";
  /** The backend's own issuer, `<origin>/auth/dev`. */
  issuer: string;
  audience: string;
  /** The users to choose from (may be empty: any user id is accepted). */
  users: SeededUser[];
}

/** OpenID Connect mode (Entra ID): what MSAL needs. */
export interface OidcAuthConfig {
  mode: "oidc";
  /** e.g. `https://login.microsoftonline.com/<tenant-id>/v2.0`. */
  issuer: string;
  /** The backend's audience, e.g. `api://<backend-app-id>`. */
  audience: string;
  /** The add-in's app registration (client) id. */
  clientId: string;
  /** What to ask for, e.g. `api://<backend-app-id>/access_as_user`; `<audience>/.default` when the server names none. */
  scopes: string[];
  /** The MSAL authority, e.g. `https://login.microsoftonline.com/organizations`. */
  authority: string;
}

/** A backend's sign-in configuration. */
export type AuthConfig = DevelopmentAuthConfig | OidcAuthConfig;

/** The MSAL authority when the server names none (work and school accounts of any tenant). */
export const DEFAULT_AUTHORITY = "https://login.microsoftonline.com/organizations";

function str(v: unknown): string {
  return typeof v === "string" ? v.trim() : "";
}

/**
 * Checks the JSON of `GET /auth/config`.
 * @throws AddinError naming what is missing (e.g. an oidc server without the add-in's client id).
 */
export function parseAuthConfig(json: unknown): AuthConfig {
  if (typeof json !== "object" || json === null) throw new AddinError("notAvailable", "the server's sign-in configuration is not a JSON object");
  const o = json as Record<string, unknown>;
  if (o.mode === "development") {
    const users = Array.isArray(o.users) ? o.users : [];
    return {
      mode: "development",
      issuer: str(o.issuer),
      audience: str(o.audience),
      users: users
        .filter((u): u is Record<string, unknown> => typeof u === "object" && u !== null && str((u as Record<string, unknown>).id) !== "")
        .map((u) => ({
          id: str(u.id),
          name: str(u.name) || str(u.id),
          groups: Array.isArray(u.groups) ? u.groups.filter((g): g is string => typeof g === "string") : [],
          admin: u.admin === true,
        })),
    };
  }
  if (o.mode === "oidc") {
    const clientId = str(o.clientId);
    if (!clientId) {
      throw new AddinError("notAvailable", "the server signs in with Entra ID but names no client id for the add-in (set QATOM_OIDC_CLIENT_ID on the server)");
    }
    const audience = str(o.audience);
    const scopes = Array.isArray(o.scopes) ? o.scopes.map(str).filter(Boolean) : [];
    if (scopes.length === 0 && !audience) throw new AddinError("notAvailable", "the server names neither scopes nor an audience to sign in for (QATOM_OIDC_SCOPES)");
    return {
      mode: "oidc",
      issuer: str(o.issuer),
      audience,
      clientId,
      scopes: scopes.length > 0 ? scopes : [`${audience.replace(/\/+$/, "")}/.default`],
      authority: str(o.authority) || DEFAULT_AUTHORITY,
    };
  }
  throw new AddinError("notAvailable", `the server's sign-in mode ${JSON.stringify(o.mode)} is not one the add-in knows (development, oidc)`);
}

/**
 * Reads `GET <serverUrl>/auth/config`.
 * @throws the `Not connected to <url>` ConnectError when the server cannot be reached; AddinError
 *   when it answers with an error (a server without sign-in answers 404) or a bad configuration.
 */
export async function fetchAuthConfig(serverUrl: string, fetchImpl?: typeof fetch): Promise<AuthConfig> {
  let res: Response;
  try {
    res = await (fetchImpl ?? globalThis.fetch)(`${serverUrl}/auth/config`, { headers: { accept: "application/json" } });
  } catch (err) {
    throw notConnectedError(serverUrl, err);
  }
  if (res.status === 404) throw new AddinError("notAvailable", `${serverUrl} does not offer sign-in (GET /auth/config: 404); is it a QuantatomAI server of this version?`);
  if (res.status >= 500) throw notConnectedError(serverUrl, new Error(`GET /auth/config: HTTP ${res.status}`));
  if (!res.ok) throw new AddinError("notAvailable", `${serverUrl} refused GET /auth/config (HTTP ${res.status})`);
  let json: unknown;
  try {
    json = await res.json();
  } catch {
    throw new AddinError("notAvailable", `${serverUrl}/auth/config is not JSON`);
  }
  return parseAuthConfig(json);
}
