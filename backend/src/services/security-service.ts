import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { Right, SecurityService } from "../../../proto/gen/quantatom/v1/security_pb";
import { type Backend, type ChangeOutcome, DomainError } from "../domain";
import type { RightName, SecurityChange } from "../security";
import { tenantOfCall, userOf } from "./requests";

/** Proto rights by name, and back. */
const TO_PROTO: Record<RightName, Right> = { none: Right.NONE, read: Right.READ, write: Right.WRITE, spread: Right.SPREAD };
const FROM_PROTO: Partial<Record<Right, RightName>> = { [Right.NONE]: "none", [Right.READ]: "read", [Right.WRITE]: "write", [Right.SPREAD]: "spread" };

function changed(o: ChangeOutcome) {
  return { version: BigInt(o.version), auditId: BigInt(o.auditId), summary: o.summary, at: timestampFromMs(o.at) };
}

/**
 * Registers quantatom.v1.SecurityService on a Connect router: every call as the caller (`userOf`),
 * for admins of the cube only (domain/security-admin.ts).
 * @see ../../../proto/quantatom/v1/security.proto for the contract of each RPC.
 */
export function registerSecurityService(backend: Backend) {
  const change = async (cube: string, ctx: Parameters<typeof userOf>[0], c: SecurityChange) => changed(await backend.security.change(cube, userOf(ctx), c, tenantOfCall(ctx)));
  return (router: ConnectRouter) =>
    router.service(SecurityService, {
      listSecurity(req, ctx) {
        const v = backend.security.list(req.cube, userOf(ctx), tenantOfCall(ctx));
        return {
          cube: v.cube,
          secured: v.secured,
          version: BigInt(v.version),
          admins: v.model.admins,
          groups: v.model.groups.map((g) => ({
            name: g.name,
            rights: Object.entries(g.rights).flatMap(([dimension, members]) =>
              Object.entries(members).map(([member, right]) => ({ dimension, member, right: TO_PROTO[right] })),
            ),
          })),
          users: v.model.users,
          serverAdmins: [...v.serverAdmins],
        };
      },

      async listSecurityAudit(req, ctx) {
        const records = await backend.security.audit(req.cube, userOf(ctx), req.limit, tenantOfCall(ctx));
        return {
          records: records.map((r) => ({
            id: BigInt(r.id),
            version: BigInt(r.version),
            actor: r.actor,
            at: timestampFromMs(r.at),
            action: r.action,
            summary: r.summary,
            detailJson: JSON.stringify(r.detail),
          })),
        };
      },

      setRight(req, ctx) {
        let right: RightName | null = null;
        if (!req.clear) {
          const r = FROM_PROTO[req.right];
          if (r === undefined) {
            throw new DomainError(`right is required (RIGHT_NONE, RIGHT_READ, RIGHT_WRITE or RIGHT_SPREAD), or set clear to remove the group's right`, "invalid_argument");
          }
          right = r;
        }
        return change(req.cube, ctx, { kind: "set_right", group: req.group, member: req.member, right });
      },
      createGroup: (req, ctx) => change(req.cube, ctx, { kind: "create_group", group: req.group }),
      deleteGroup: (req, ctx) => change(req.cube, ctx, { kind: "delete_group", group: req.group }),
      putUser: (req, ctx) => change(req.cube, ctx, { kind: "put_user", user: req.user, name: req.name }),
      removeUser: (req, ctx) => change(req.cube, ctx, { kind: "remove_user", user: req.user }),
      addUserToGroup: (req, ctx) => change(req.cube, ctx, { kind: "add_to_group", user: req.user, group: req.group }),
      removeUserFromGroup: (req, ctx) => change(req.cube, ctx, { kind: "remove_from_group", user: req.user, group: req.group }),
      setAdmin: (req, ctx) => change(req.cube, ctx, { kind: "set_admin", user: req.user, admin: req.admin }),
    });
}
