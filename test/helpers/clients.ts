import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";

/**
 * Connect clients (binary protobuf over fetch) of both services at `baseUrl`, acting as `user`
 * (the `X-Quantatom-User` header): "another user" beside the one a test drives.
 */
export function apiClients(baseUrl: string, user: string) {
  const transport = createConnectTransport({
    baseUrl,
    useBinaryFormat: true,
    interceptors: [
      (next) => (req) => {
        req.header.set("X-Quantatom-User", user);
        return next(req);
      },
    ],
  });
  return { lattice: createClient(LatticeService, transport), commentary: createClient(CommentaryService, transport) };
}
