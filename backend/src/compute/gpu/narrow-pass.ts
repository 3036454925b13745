/**
 * The narrow pass on the GPU (the CPU kernel is `narrowRows` in lattice/evaluate/narrow-kernel.ts):
 * its lookup tables packed into one i32 array, and its WGSL shader. Each row finds the cells listed
 * under its member of a cell's most selective dimension (and bucket of a second one), checks their
 * other dimensions' leaf ranges, and adds its fixed-point value into each cell that holds it.
 *
 * Weights: the shader multiplies by -1, 0 or 1 only (a negated 128-bit integer, or nothing), which
 * keeps sums exact; a pass whose weights include anything else (0.5 allocations) runs on the CPU.
 * Versions are not on the device: the executor takes them from the written rows on the CPU.
 */
import type { NarrowArgs } from "../../lattice";
import { ADD_WORD_WGSL, SLOT_WORDS, WORKGROUP_SIZE } from "./kernels";

/** Words of the header per used dimension: d, buckets, second dimension, and three section bases. */
const USED_WORDS = 6;

/**
 * Packs what the narrow kernel reads besides the rows into one i32 array:
 * `[nUsed, nd, nCells, conStartBase, conDBase, conLoBase, conHiBase, wOffBase, weightBase]`, then
 * per used dimension `[d, nb, second, offsetsBase, listsBase, bucketOfBase]`, then per dimension
 * its leafPos base, then the sections. Returns null when a weight is not -1, 0 or 1.
 */
export function packNarrowTables(a: NarrowArgs, cells: number): Int32Array<ArrayBuffer> | null {
  for (let i = 0; i < a.weights.length; i++) {
    const w = a.weights[i];
    if (w !== 1 && w !== -1 && w !== 0) return null;
  }
  const nd = a.leafPos.length;
  const nUsed = a.used.length;
  const sections: ArrayLike<number>[] = [];
  let at = 9 + nUsed * USED_WORDS + nd;
  const place = (xs: ArrayLike<number>): number => {
    const base = at;
    sections.push(xs);
    at += xs.length;
    return base;
  };
  const header = [nUsed, nd, cells, place(a.conStart), place(a.conD), place(a.conLo), place(a.conHi), place(a.wOff), place(a.weights)];
  for (let u = 0; u < nUsed; u++) {
    header.push(a.used[u], a.buckets[u], a.second[u], place(a.offsets[u]), place(a.lists[u]), place(a.bucketOf[u]));
  }
  for (let d = 0; d < nd; d++) header.push(place(a.leafPos[d]));
  const out = new Int32Array(at);
  out.set(header, 0);
  let p = header.length;
  for (const xs of sections) {
    out.set(xs, p);
    p += xs.length;
  }
  return out;
}

/**
 * The narrow pass over one segment of rows. Bindings: 0 params (rows in the segment, the
 * segment's length in the packed columns), 1 tabs (packNarrowTables), 2 cols (the segment's member
 * ids, dimension-major: `cols[d * stride + row]`), 3 values (one vec4<u32> per row), 4 acc
 * (SLOT_WORDS words per cell).
 */
export function narrowShader(): string {
  return `
struct Params { rows: u32, stride: u32, pad0: u32, pad1: u32 }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> T: array<i32>;
@group(0) @binding(2) var<storage, read> cols: array<u32>;
@group(0) @binding(3) var<storage, read> vals: array<vec4<u32>>;
@group(0) @binding(4) var<storage, read_write> acc: array<atomic<u32>>;

${ADD_WORD_WGSL}
fn member(d: i32, r: u32) -> i32 {
  return i32(cols[u32(d) * P.stride + r]);
}

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= P.rows) { return; }
  let nUsed = T[0];
  let conStart = T[3];
  let conD = T[4];
  let conLo = T[5];
  let conHi = T[6];
  let wOff = T[7];
  let wts = T[8];
  let leafPosBase = 9 + nUsed * ${USED_WORDS};
  let q0 = vals[r];
  let empty = q0.w == 0x80000000u;
  // The value negated (two's complement), for weight -1.
  var n = vec4<u32>(~q0.x, ~q0.y, ~q0.z, ~q0.w);
  n.x = n.x + 1u;
  if (n.x == 0u) { n.y = n.y + 1u; if (n.y == 0u) { n.z = n.z + 1u; if (n.z == 0u) { n.w = n.w + 1u; } } }
  for (var u = 0; u < nUsed; u = u + 1) {
    let h = 9 + u * ${USED_WORDS};
    let d = T[h];
    let nb = T[h + 1];
    let second = T[h + 2];
    let m = member(d, r);
    var ms = m;
    if (second >= 0) { ms = member(second, r); }
    let key = m * nb + T[T[h + 5] + ms];
    let first = T[T[h + 3] + key];
    let last = T[T[h + 3] + key + 1];
    for (var e = first; e < last; e = e + 1) {
      let j = T[T[h + 4] + e];
      var w = 1;
      var k = T[conStart + j];
      let end = T[conStart + j + 1];
      for (; k < end; k = k + 1) {
        let dk = T[conD + k];
        let p = T[T[leafPosBase + dk] + member(dk, r)];
        let lo = T[conLo + k];
        if (p < lo || p >= T[conHi + k]) { break; }
        let wo = T[wOff + k];
        if (wo >= 0) { w = w * T[wts + wo + p - lo]; }
      }
      if (k < end || empty) { continue; }
      let base = u32(j) * ${SLOT_WORDS}u;
      if (w != 0) {
        var q = q0;
        if (w < 0) { q = n; }
        if (q.x != 0u) { addWord(base, 0u, q.x); }
        if (q.y != 0u) { addWord(base, 1u, q.y); }
        if (q.z != 0u) { addWord(base, 2u, q.z); }
        if (q.w != 0u) { addWord(base, 3u, q.w); }
      }
      atomicAdd(&acc[base + 4u], 1u);
    }
  }
}
`;
}
