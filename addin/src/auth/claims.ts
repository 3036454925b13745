/**
 * What the add-in reads from an access token: who it names and when it expires. The add-in never
 * trusts these claims for security (the backend verifies every token's signature); it reads them to
 * show who is signed in and to renew the token before it expires.
 *
 * The claims are those of the backend's contract: `oid` (Entra ID's object id) or else `sub` is the
 * user id, `name` the display name, `tid` the tenant, `exp` the expiry (seconds since the epoch).
 * @see https://www.rfc-editor.org/rfc/rfc7519#section-4.1 (JWT registered claims)
 * @see https://learn.microsoft.com/entra/identity-platform/access-token-claims-reference
 */

/** The claims of an access token the add-in uses. */
export interface TokenClaims {
  /** `oid`, else `sub`; "" when the token has neither. */
  userId: string;
  /** `name`, else `preferred_username`, else the user id. */
  name: string;
  /** `tid`, when present. */
  tenant?: string;
  /** `exp` in ms since the epoch, when present. */
  expiresAt?: number;
  /** `iat` in ms since the epoch, when present. */
  issuedAt?: number;
}

/** base64url (RFC 4648 §5) to text, through `atob` (browsers and Node both have it). */
function base64UrlDecode(part: string): string {
  const b64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const padded = b64 + "=".repeat((4 - (b64.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new TextDecoder().decode(bytes);
}

/**
 * Reads the claims of a JWT (header.payload.signature) without verifying it.
 * @returns null when `token` is not a JWT with a JSON object payload (an opaque token).
 * @example readClaims(token)?.expiresAt // ms since the epoch
 */
export function readClaims(token: string): TokenClaims | null {
  const parts = token.split(".");
  if (parts.length !== 3) return null;
  let payload: Record<string, unknown>;
  try {
    const parsed = JSON.parse(base64UrlDecode(parts[1])) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return null;
    payload = parsed as Record<string, unknown>;
  } catch {
    return null;
  }
  const text = (k: string) => (typeof payload[k] === "string" && payload[k] ? (payload[k] as string) : undefined);
  const seconds = (k: string) => (typeof payload[k] === "number" && Number.isFinite(payload[k]) ? (payload[k] as number) * 1000 : undefined);
  const userId = text("oid") ?? text("sub") ?? "";
  return {
    userId,
    name: text("name") ?? text("preferred_username") ?? userId,
    tenant: text("tid"),
    expiresAt: seconds("exp"),
    issuedAt: seconds("iat"),
  };
}
