import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { devTokenSource } from "../../backend/src/auth/dev-client";
import { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";

/**
 * Connect clients (binary protobuf over fetch) of both services at `baseUrl`, signed in as `user`
 * through the server's development issuer (`POST /auth/dev-token`, fetched on the first call and
 * sent as `Authorization: Bearer`), optionally in `tenant`: "another user" beside the one a test drives.
 */
export function apiClients(baseUrl: string, user: string, tenant?: string) {
  const token = devTokenSource(baseUrl, user, tenant);
  const transport = createConnectTransport({
    baseUrl,
    useBinaryFormat: true,
    interceptors: [
      (next) => async (req) => {
        req.header.set("Authorization", `Bearer ${await token()}`);
        return next(req);
      },
    ],
  });
  return { lattice: createClient(LatticeService, transport), commentary: createClient(CommentaryService, transport) };
}
