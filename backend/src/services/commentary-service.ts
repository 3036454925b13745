import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { ConnectRouter } from "@connectrpc/connect";
import { CommentaryService } from "../../../proto/gen/quantatom/v1/commentary_pb";
import { type Backend, clampLimit, DomainError, MAX_COMMENT_LENGTH, requireCell } from "../domain";
import type { Cube } from "../lattice";
import { RIGHT } from "../security";
import type { StoredComment } from "../store/types";
import { tenantOfCall, userOf } from "./requests";

/** Longest comment text, in characters (common/limits.ts). */
export { MAX_COMMENT_LENGTH };

/** True when every member of `cell` is `target`'s member or below it, and the two differ. */
function strictlyBelow(cube: Cube, cell: readonly number[], target: Int32Array): boolean {
  let same = true;
  for (let d = 0; d < cube.dims.length; d++) {
    const dim = cube.dims[d];
    let m = cell[d];
    if (m !== target[d]) same = false;
    while (m >= 0 && m !== target[d] && dim.depth[m] > dim.depth[target[d]]) m = dim.parent[m];
    if (m !== target[d]) return false;
  }
  return !same;
}

function toComment(cubeName: string, c: StoredComment) {
  return { id: BigInt(c.id), cube: cubeName, members: c.members, text: c.text, author: c.author, createdAt: timestampFromMs(c.createdAt) };
}

/**
 * Registers quantatom.v1.CommentaryService on a Connect router.
 * @see ../../../proto/quantatom/v1/commentary.proto for the contract of each RPC.
 */
export function registerCommentaryService(backend: Backend) {
  return (router: ConnectRouter) =>
    router.service(CommentaryService, {
      async addComment(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        const { served } = access;
        // Commenting needs Write on the cell (reading a thread needs Read).
        const coords = requireCell(access, req.members, RIGHT.write, "comment on");
        const text = req.text.trim();
        if (!text) throw new DomainError("text is required: the comment is empty", "invalid_argument");
        if (text.length > MAX_COMMENT_LENGTH) {
          throw new DomainError(`the comment has ${text.length} characters; the limit is ${MAX_COMMENT_LENGTH}`, "invalid_argument");
        }
        const stored = await backend.store.addComment(served.id, Array.from(coords), served.cube.uniqueNames(coords), text, userOf(ctx));
        return { comment: toComment(served.cube.name, stored) };
      },

      async listComments(req, ctx) {
        const access = backend.access(req.cube, userOf(ctx), tenantOfCall(ctx));
        const { served, rights } = access;
        const { cube } = served;
        // Reading a cell's comments needs Read on it; comments below it on cells the caller may not
        // read are left out (neither listed nor counted).
        const coords = requireCell(access, req.members, RIGHT.read, "read the comments on");
        const limit = clampLimit(req.limit, 100, 1000, "limit");
        const all = await backend.store.listComments(served.id);
        const own: StoredComment[] = [];
        const below: StoredComment[] = [];
        const consolidated = cube.isConsolidated(coords);
        for (const c of all) {
          if (c.coords.length !== coords.length) continue;
          if (c.coords.every((m, d) => m === coords[d])) own.push(c);
          else if (consolidated && strictlyBelow(cube, c.coords, coords) && rights.cell(c.coords) >= RIGHT.read) below.push(c);
        }
        return {
          comments: own.slice(0, limit).map((c) => toComment(cube.name, c)),
          descendantCommentCount: below.length,
          descendantComments: req.includeDescendants ? below.slice(0, limit).map((c) => toComment(cube.name, c)) : [],
        };
      },
    });
}
