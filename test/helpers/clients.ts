import { createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-web";
import { devSignIn } from "../../backend/src/auth/dev-client";
import { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";
import { SandboxService } from "../../proto/gen/quantatom/v1/sandbox_pb";
import { SecurityService } from "../../proto/gen/quantatom/v1/security_pb";

/**
 * Connect clients (binary protobuf over fetch) of the services at `baseUrl`, signed in as `user`
 * through the server's development issuer (`POST /auth/dev-token`, fetched on the first call and
 * sent as `Authorization: Bearer`), optionally in `tenant`: "another user" beside the one a test drives.
 */
export function apiClients(baseUrl: string, user: string, tenant?: string) {
  const transport = createConnectTransport({ baseUrl, useBinaryFormat: true, interceptors: [devSignIn(baseUrl, user, tenant)] });
  return {
    lattice: createClient(LatticeService, transport),
    commentary: createClient(CommentaryService, transport),
    security: createClient(SecurityService, transport),
    sandbox: createClient(SandboxService, transport),
  };
}
