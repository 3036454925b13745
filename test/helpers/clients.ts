import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";
import { SecurityService } from "../../proto/gen/quantatom/v1/security_pb";

/**
 * Connect clients (binary protobuf over fetch) of the services at `baseUrl`, acting as `user`
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
  return {
    lattice: createClient(LatticeService, transport),
    commentary: createClient(CommentaryService, transport),
    security: createClient(SecurityService, transport),
  };
}
