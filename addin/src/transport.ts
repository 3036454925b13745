/**
 * Connect clients over connect-web's fetch transport (binary protobuf), signed in: every call
 * carries `Authorization: Bearer <token>` (RFC 6750 §2.1), asked of the token source at each call
 * (it caches the token and renews it shortly before it expires; see addin/src/auth/). When the
 * server answers `unauthenticated`, the token is dropped and a unary call is retried once with a
 * fresh one; a stream is reconnected by its owner (addin/src/streams.ts), whose next call asks
 * for a token again. Network failures become one recognisable error (`Not connected to <url>`,
 * code unavailable).
 */
import { createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";
import { SandboxService } from "../../proto/gen/quantatom/v1/sandbox_pb";
import type { QatomApi } from "./contracts";
import { isUnauthenticated, notConnectedError } from "./errors";

/** Where the transport gets its tokens (the runtime's AuthSession). */
export interface TokenSource {
  /**
   * The token to send now.
   * @throws SignInRequiredError ("Sign in in the task pane") when nobody is signed in; the call
   *   then fails with it, without reaching the server.
   */
  getToken(): Promise<string>;
  /** The server refused `token` (`unauthenticated`): drop it, so that the next call renews it. */
  invalidate(token: string): void;
}

/** Options of {@link createApi}. */
export interface ApiOptions {
  /** Tokens for every call. */
  tokens: TokenSource;
  /** The fetch to send with (default: `globalThis.fetch` at each call, so a page or a test can wrap it). */
  fetch?: typeof fetch;
}

/**
 * The interceptor that signs every call (see the module comment). A stream's messages are watched
 * too: a stream the server ends with `unauthenticated` (its token expired) drops that token.
 */
export function bearerAuth(tokens: TokenSource): Interceptor {
  return (next) => async (req) => {
    for (let attempt = 0; ; attempt++) {
      const token = await tokens.getToken();
      req.header.set("Authorization", `Bearer ${token}`);
      try {
        const res = await next(req);
        if (!res.stream) return res;
        const messages = res.message;
        async function* watched() {
          try {
            yield* messages;
          } catch (err) {
            if (isUnauthenticated(err)) tokens.invalidate(token);
            throw err;
          }
        }
        return { ...res, message: watched() } as typeof res;
      } catch (err) {
        if (!isUnauthenticated(err)) throw err;
        tokens.invalidate(token);
        // A stream's request body has been read: its owner reconnects instead.
        if (attempt > 0 || req.stream) throw err;
      }
    }
  };
}

/** Clients for the backend at `serverUrl` (trailing slashes ignored). */
export function createApi(serverUrl: string, options: ApiOptions): QatomApi {
  const base = serverUrl.trim().replace(/\/+$/, "");
  const fetchImpl = options.fetch;
  const guardedFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await (fetchImpl ?? globalThis.fetch)(input, init);
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      throw notConnectedError(base, err);
    }
  };
  const transport = createConnectTransport({
    baseUrl: base,
    useBinaryFormat: true,
    fetch: guardedFetch as typeof fetch,
    interceptors: [bearerAuth(options.tokens)],
  });
  return { serverUrl: base, lattice: createClient(LatticeService, transport), commentary: createClient(CommentaryService, transport), sandbox: createClient(SandboxService, transport) };
}
