/**
 * quantatom.v1.SandboxService (sandbox.proto) over the backend's sandboxes (domain/sandboxes.ts):
 * requests to domain calls, outcomes to messages. Rights, roles and conflicts are the domain's.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { WriteStatus } from "../../../proto/gen/quantatom/v1/lattice_pb";
import { SandboxAccess, type SandboxSchema, SandboxService, SandboxState } from "../../../proto/gen/quantatom/v1/sandbox_pb";
import { type Backend, DomainError, requireLeaf } from "../domain";
import type { SandboxView } from "../domain/sandboxes";
import type { SandboxShareAccess } from "../store/types";
import type { SandboxCommitOutcome } from "../writes/commit-sandbox";
import { tenantOfCall, userOf } from "./requests";

const ROLE: Record<SandboxView["role"], SandboxAccess> = { owner: SandboxAccess.OWNER, write: SandboxAccess.WRITE, read: SandboxAccess.READ };

/** A sandbox as the caller sees it, as a `Sandbox` message (its shares are listed to its owner only). */
function toSandbox(cube: string, s: SandboxView): MessageInitShape<typeof SandboxSchema> {
  return {
    id: s.id,
    cube,
    name: s.name,
    owner: s.owner,
    createdAt: timestampFromMs(s.createdAt),
    state: s.state === "open" ? SandboxState.OPEN : SandboxState.COMMITTED,
    committedTransactionId: s.committedTx ?? "",
    committedAt: s.committedAt === null ? undefined : timestampFromMs(s.committedAt),
    access: ROLE[s.role],
    shares: s.role === "owner" ? s.shares.map((h) => ({ user: h.user, access: h.canWrite ? SandboxAccess.WRITE : SandboxAccess.READ })) : [],
    leavesChanged: BigInt(s.cells),
  };
}

/** The share a request asks for. @throws DomainError invalid_argument for OWNER or unset. */
function shareAccess(a: SandboxAccess): SandboxShareAccess {
  if (a === SandboxAccess.NONE) return "none";
  if (a === SandboxAccess.READ) return "read";
  if (a === SandboxAccess.WRITE) return "write";
  throw new DomainError("access must be SANDBOX_ACCESS_READ, SANDBOX_ACCESS_WRITE or SANDBOX_ACCESS_NONE", "invalid_argument");
}

function toCommitResponse(o: SandboxCommitOutcome) {
  const conflicts = o.conflicts.map((c) => ({
    members: c.members,
    sandboxValue: c.sandboxValue ?? undefined,
    baseValue: c.baseValue ?? undefined,
    baseVersion: BigInt(c.baseVersion),
    updatedBy: c.updatedBy,
    updatedAt: timestampFromMs(c.updatedAt),
  }));
  if (o.status === "CONFLICT") return { status: WriteStatus.CONFLICT, conflicts, conflictCount: BigInt(o.conflictCount), message: o.message };
  return {
    status: WriteStatus.APPLIED,
    transactionId: o.txId,
    leavesCommitted: BigInt(o.leavesCommitted),
    version: BigInt(o.version),
    conflicts,
    conflictCount: BigInt(o.conflictCount),
  };
}

/** Registers SandboxService over `backend`. */
export function registerSandboxService(backend: Backend) {
  return (router: ConnectRouter) =>
    router.service(SandboxService, {
      async createSandbox(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        return { sandbox: toSandbox(access.served.cube.name, await backend.sandboxes.create(access, req.name)) };
      },
      async listSandboxes(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        return { sandboxes: (await backend.sandboxes.list(access)).map((s) => toSandbox(access.served.cube.name, s)) };
      },
      async shareSandbox(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        return { sandbox: toSandbox(access.served.cube.name, await backend.sandboxes.share(access, req.sandbox, req.user, shareAccess(req.access))) };
      },
      async commitSandbox(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        const keepMine = req.keepMine.map((c, i) => requireLeaf(access, c.members, `keep_mine[${i}]`));
        const out = await backend.sandboxes.commit(access, req.sandbox, { onlyUnconflicted: req.onlyUnconflicted, keepMine }, () => access.security.forUser(access.user));
        return toCommitResponse(out);
      },
      async discardSandbox(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        await backend.sandboxes.discard(access, req.sandbox);
        return {};
      },
    });
}
