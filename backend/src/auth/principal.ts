/**
 * The verified caller of an RPC: who they are according to a checked token, never according to
 * anything else the client sends. Put on each request's context by the authentication interceptor
 * (auth/interceptor.ts) and read by the services with `principalOf`.
 */
import { Code, ConnectError, createContextKey, type HandlerContext } from "@connectrpc/connect";

/** A signed-in user, from the claims of a verified token. */
export interface Principal {
  /**
   * The user's stable id: the token's `oid` claim where present (Entra ID's object id, the same
   * for the user in every application), else its `sub`. Audit records, comments and history carry it.
   */
  subject: string;
  /** Display name: the `name` claim, else `preferred_username`, else the subject. */
  name: string;
  /** The tenant: the `tid` claim (Entra ID's directory id), else `"default"`. */
  tenant: string;
  /** When the token expires, ms since the epoch (its `exp`). */
  expiresAt: number;
}

/** The tenant of tokens that carry no `tid` claim (common/tenants.ts). */
export { DEFAULT_TENANT } from "../../../common/tenants";

/** Context key of the verified caller; unset before the interceptor ran (and for unauthenticated routes). */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "the verified caller" });

/**
 * The verified caller of the current RPC.
 * @throws ConnectError unauthenticated when no verified principal is on the context (a handler
 *   reached without the authentication interceptor: never answered with data).
 */
export function principalOf(ctx: Pick<HandlerContext, "values">): Principal {
  const p = ctx.values.get(principalKey);
  if (!p) throw new ConnectError("sign in first: this call needs a valid access token", Code.Unauthenticated);
  return p;
}
