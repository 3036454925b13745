/**
 * Connect clients over connect-web's fetch transport (binary protobuf), with the user's name in
 * the `X-Quantatom-User` header, and network failures turned into one recognisable error
 * (`Not connected to <url>`, code unavailable).
 */
import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { USER_HEADER } from "../../common/limits";
import { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";
import type { ConnectionSettings, QatomApi } from "./contracts";
import { notConnectedError } from "./errors";

/** The header that names the user until sign-in exists (common/limits.ts; header names are case-insensitive). */
export { USER_HEADER };

/**
 * Clients for `settings`. `fetch` is looked up on `globalThis` at each call unless given, so a
 * page (or a test) can wrap it.
 */
export function createApi(settings: ConnectionSettings, fetchImpl?: typeof fetch): QatomApi {
  const serverUrl = settings.serverUrl.replace(/\/+$/, "");
  const userName = settings.userName.trim();
  const guardedFetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    try {
      return await (fetchImpl ?? globalThis.fetch)(input, init);
    } catch (err) {
      if (init?.signal?.aborted) throw err;
      throw notConnectedError(serverUrl, err);
    }
  };
  const transport = createConnectTransport({
    baseUrl: serverUrl,
    useBinaryFormat: true,
    fetch: guardedFetch as typeof fetch,
    interceptors: [
      (next) => (req) => {
        if (userName) req.header.set(USER_HEADER, userName);
        return next(req);
      },
    ],
  });
  return { serverUrl, lattice: createClient(LatticeService, transport), commentary: createClient(CommentaryService, transport) };
}
