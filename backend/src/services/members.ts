import type { MessageInitShape } from "@bufbuild/protobuf";
import { type GetMembersRequest, type GetMembersResponseSchema, MemberRelation } from "../../../proto/gen/quantatom/v1/lattice_pb";
import type { Cube, MemberFilter } from "../lattice";
import { clampLimit, DomainError } from "../domain";
import { dimensionOf, memberOf } from "../domain/addresses";

type MembersResponse = MessageInitShape<typeof GetMembersResponseSchema>;

/**
 * A member as GetMembers reports it; `formula` is the member's formula as declared, or "" for a
 * stored member; `childCount` counts the children the caller sees.
 */
function info(cube: Cube, d: number, id: number, visible: MemberFilter) {
  const dim = cube.dims[d];
  const p = dim.parent[id];
  return {
    uniqueName: dim.uniqueName(id),
    name: dim.names[id],
    caption: dim.captions[id],
    level: dim.levels[dim.level[id]] ?? "",
    depth: dim.depth[id],
    isLeaf: dim.isLeaf(id),
    parentUniqueName: p < 0 ? "" : dim.uniqueName(p),
    weight: dim.weight[id],
    childCount: dim.children[id].filter((c) => visible(d, c)).length,
    aliases: [...dim.aliases[id]],
    formula: cube.memberFormula(d, id)?.expression ?? "",
  };
}

/**
 * Implements GetMembers: children, descendants to a depth, or a name search in one dimension, among
 * the members the caller sees (`visible`: a hidden member is never listed, and a hidden parent is
 * unknown; the members below a hidden one are hidden too).
 * @throws DomainError not_found for an unknown dimension or parent; invalid_argument for a bad
 *   parent name, depth or limit, or a search without a query.
 */
export function getMembers(cube: Cube, req: GetMembersRequest, visible: MemberFilter = () => true): MembersResponse {
  const d = dimensionOf(cube, req.dimension, "dimension");
  const dim = cube.dims[d];
  const limit = clampLimit(req.limit, 1000, 100_000, "limit");
  if (req.depth < 0) throw new DomainError(`depth must be 0 or more, got ${req.depth}`, "invalid_argument");

  let parent = -1;
  if (req.parent.trim()) parent = memberOf(cube, d, req.parent, "parent", visible);

  const out: number[] = [];
  let truncated = false;
  const push = (id: number): boolean => {
    if (!visible(d, id)) return true;
    if (out.length >= limit) {
      truncated = true;
      return false;
    }
    out.push(id);
    return true;
  };

  switch (req.relation) {
    case MemberRelation.SEARCH: {
      const q = req.query.trim().toLowerCase();
      if (!q) throw new DomainError("query is required for a SEARCH", "invalid_argument");
      const scored: { id: number; score: number }[] = [];
      for (let id = 0; id < dim.size; id++) {
        if (parent >= 0 && !(dim.leafLo[id] >= dim.leafLo[parent] && dim.leafHi[id] <= dim.leafHi[parent] && dim.depth[id] > dim.depth[parent])) continue;
                const texts = [dim.names[id].toLowerCase(), dim.captions[id].toLowerCase(), ...dim.aliases[id].map((a) => a.toLowerCase())];
        let score = -1;
        if (texts.includes(q)) score = 0;
        else if (texts.some((t) => t.startsWith(q))) score = 1;
        else if (texts.some((t) => t.includes(q))) score = 2;
        if (score >= 0) scored.push({ id, score });
      }
      scored.sort((a, b) => a.score - b.score || dim.depth[a.id] - dim.depth[b.id] || a.id - b.id);
      for (const s of scored) if (!push(s.id)) break;
      break;
    }
    case MemberRelation.DESCENDANTS: {
      const top = parent >= 0 ? Array.from(dim.children[parent]) : Array.from(dim.roots);
      const base = parent >= 0 ? dim.depth[parent] : -1;
      const stack = top.reverse();
      while (stack.length > 0) {
        const id = stack.pop()!;
        if (!visible(d, id)) continue;
        if (!push(id)) break;
        if (req.depth === 0 || dim.depth[id] - base < req.depth) {
          const kids = dim.children[id];
          for (let k = kids.length - 1; k >= 0; k--) stack.push(kids[k]);
        }
      }
      break;
    }
    default: {
      const kids = parent >= 0 ? dim.children[parent] : dim.roots;
      for (const id of kids) if (!push(id)) break;
    }
  }
  return { members: out.map((id) => info(cube, d, id, visible)), truncated };
}
