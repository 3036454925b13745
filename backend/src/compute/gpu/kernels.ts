/**
 * WGSL compute shaders of the GPU executor. Kept as text so that the device compiles them; the
 * CPU kernel they mirror is `scanRows` in lattice/evaluate/scan-kernel.ts.
 */

/** Invocations per workgroup: the most the compatibility profile guarantees once requested (256). */
export const WORKGROUP_SIZE = 256;

/** Words per accumulator slot: the four words of a fixed-point sum, then the count of non-empty rows. */
export const SLOT_WORDS = 5;

/**
 * WGSL: adds a 32-bit word at position `word` of the four-word sum at `acc[base..base+4)`,
 * carrying into the next word when the atomic addition overflows (the kernels' exact 128-bit sums).
 */
export const ADD_WORD_WGSL = `
fn addWord(base: u32, word: u32, value: u32) {
  var k = word;
  var add = value;
  loop {
    let old = atomicAdd(&acc[base + k], add);
    if (old <= 0xffffffffu - add || k == 3u) { break; }
    k = k + 1u;
    add = 1u;
  }
}
`;

/**
 * Axes one pass takes: a stage may bind 8 storage buffers (WebGPU's minimum), one per axis column
 * besides the tables, the partial keys, the values and the accumulator the pass binds.
 */
export const PASS_AXES = { keysOut: 6, accumulate: 5, accumulateWithKeys: 4 } as const;

/** What one pass of a scan does: its axes, whether it reads partial keys, and whether it writes them (else it accumulates). */
export interface PassShape {
  axes: number;
  keyIn: boolean;
  keyOut: boolean;
}

/**
 * The passes of a scan over `axes` axes: one pass when the axes fit one, else passes that add
 * their axes' table entries into a partial key per row, and a last pass that adds the remaining
 * axes and accumulates.
 */
export function scanPasses(axes: number): PassShape[] {
  if (axes < 1) throw new RangeError("a GPU scan takes at least one axis");
  const passes: PassShape[] = [];
  let done = 0;
  for (;;) {
    const left = axes - done;
    const last = done === 0 ? PASS_AXES.accumulate : PASS_AXES.accumulateWithKeys;
    if (left <= last) {
      passes.push({ axes: left, keyIn: done > 0, keyOut: false });
      return passes;
    }
    const chunk = Math.min(PASS_AXES.keysOut, left - 1);
    passes.push({ axes: chunk, keyIn: done > 0, keyOut: true });
    done += chunk;
  }
}

/**
 * One pass of the batch consolidation scan over a segment of rows, as scanRows: a row's key is the
 * sum of its members' table entries, and a row whose partial sum turns negative is skipped (its
 * key stays negative in the partial keys). The accumulating pass adds a non-empty value's four
 * fixed-point words (fixed-point.ts) into slot `key` with carry, and its count by one: atomic
 * 32-bit additions with the carry propagated on overflow give the exact 128-bit sum in any order.
 *
 * Bindings: 0 params (rows in the segment, then each axis's offset into `tabs`), 1 tabs (the axes'
 * tables, concatenated), 2 keys (partial keys, one i32 per row; with keyIn or keyOut), 3 values
 * (one vec4<u32> per row) and 4 acc (SLOT_WORDS words per slot) when accumulating, then from 5
 * one member-id column (u32 per row) per axis.
 */
export function scanShader(shape: PassShape): string {
  const { axes, keyIn, keyOut } = shape;
  const most = keyOut ? PASS_AXES.keysOut : keyIn ? PASS_AXES.accumulateWithKeys : PASS_AXES.accumulate;
  if (axes < 1 || axes > most) throw new RangeError(`this pass takes 1 to ${most} axes, not ${axes}`);
  const bindings: string[] = [];
  if (keyIn || keyOut) bindings.push(`@group(0) @binding(2) var<storage, ${keyOut ? "read_write" : "read"}> keys: array<i32>;`);
  if (!keyOut) {
    bindings.push("@group(0) @binding(3) var<storage, read> vals: array<vec4<u32>>;");
    bindings.push("@group(0) @binding(4) var<storage, read_write> acc: array<atomic<u32>>;");
  }
  const body: string[] = [];
  for (let k = 0; k < axes; k++) {
    bindings.push(`@group(0) @binding(${5 + k}) var<storage, read> c${k}: array<u32>;`);
    body.push(`  if (key >= 0) { key = key + tabs[P.off[${k >> 2}][${k & 3}] + c${k}[r]]; }`);
  }
  const start = keyIn ? "keys[r]" : "0";
  const end = keyOut
    ? "  keys[r] = key;"
    : `  if (key < 0) { return; }
  let q = vals[r];
  if (q.w == 0x80000000u) { return; }
  let base = u32(key) * ${SLOT_WORDS}u;
  if (q.x != 0u) { addWord(base, 0u, q.x); }
  if (q.y != 0u) { addWord(base, 1u, q.y); }
  if (q.z != 0u) { addWord(base, 2u, q.z); }
  if (q.w != 0u) { addWord(base, 3u, q.w); }
  atomicAdd(&acc[base + 4u], 1u);`;
  const addWord = keyOut ? "" : ADD_WORD_WGSL;
  return `
struct Params { rows: u32, pad0: u32, pad1: u32, pad2: u32, off: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> tabs: array<i32>;
${bindings.join("\n")}
${addWord}
@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  let r = gid.x;
  if (r >= P.rows) { return; }
  var key: i32 = ${start};
${body.join("\n")}
${end}
}
`;
}

/**
 * The apply kernel: writes changed leaf values (a spread's, a copy's, any write's) into the
 * resident value column of one segment. `changes` holds five words per change: the row, then its
 * value's four fixed-point words. Params: first change and count of this dispatch, the segment's
 * first row and its length.
 */
export function applyShader(): string {
  return `
struct Params { first: u32, count: u32, lo: u32, n: u32, pad: array<vec4<u32>, 2> }
@group(0) @binding(0) var<uniform> P: Params;
@group(0) @binding(1) var<storage, read> changes: array<u32>;
@group(0) @binding(2) var<storage, read_write> vals: array<vec4<u32>>;

@compute @workgroup_size(${WORKGROUP_SIZE})
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x >= P.count) { return; }
  let i = (P.first + gid.x) * 5u;
  let row = changes[i];
  if (row < P.lo || row >= P.lo + P.n) { return; }
  vals[row - P.lo] = vec4<u32>(changes[i + 1u], changes[i + 2u], changes[i + 3u], changes[i + 4u]);
}
`;
}
