/**
 * Line and column lookup in a parsed YAML document: where a model path's key or item is, and where
 * a character inside a one-line string value is (for errors inside a formula).
 */
import { isMap, isScalar, isSeq, type Node } from "yaml";
import type { ModelPath } from "./schema";

/** `dimensions[2].levels[0].column`: a model path as one would write it. */
export function formatPath(p: ModelPath): string {
  let s = "";
  for (const seg of p) {
    if (typeof seg === "number") s += `[${seg}]`;
    else s += s === "" ? seg : `.${seg}`;
  }
  return s;
}

/** Offset of the node at `p` (see ModelSource.position). */
export function nodeOffset(root: Node | null, p: ModelPath): number {
  let node: Node | null = root;
  let offset = root?.range?.[0] ?? 0;
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return offset;
      offset = (pair.key as Node).range?.[0] ?? offset;
      node = (pair.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      node = node.items[seg] as Node | null;
      offset = node?.range?.[0] ?? offset;
    } else {
      return offset;
    }
  }
  return offset;
}

/** The value node at `p` (for a map key, the value under it), or null. */
export function valueNode(root: Node | null, p: ModelPath): Node | null {
  let node: Node | null = root;
  for (const seg of p) {
    if (isMap(node)) {
      const pair = node.items.find((it) => isScalar(it.key) && String(it.key.value) === String(seg));
      if (!pair) return null;
      node = (pair.value as Node | null) ?? null;
    } else if (isSeq(node) && typeof seg === "number" && seg < node.items.length) {
      node = node.items[seg] as Node | null;
    } else {
      return null;
    }
  }
  return node;
}

/**
 * Offset in `text` of the `column`-th character (1-based) of the value of a one-line scalar node:
 * plain, single-quoted (`''` is one character) or double-quoted (a backslash and the character after
 * it are one character; longer escapes give up). Null when the node is not such a scalar.
 */
export function scalarCharOffset(text: string, node: Node | null, column: number): number | null {
  if (!isScalar(node) || !node.range || typeof node.value !== "string") return null;
  const [start, end] = node.range;
  const src = text.slice(start, end);
  if (src.includes("\n") || src.includes("\r")) return null;
  if (node.type === "PLAIN") return src === node.value && column <= src.length + 1 ? start + column - 1 : null;
  if (node.type !== "QUOTE_SINGLE" && node.type !== "QUOTE_DOUBLE") return null;
  let i = 1; // after the opening quote
  for (let c = 1; c < column; c++) {
    if (i >= src.length - 1) return null;
    if (node.type === "QUOTE_SINGLE" && src[i] === "'" && src[i + 1] === "'") i += 2;
    else if (node.type === "QUOTE_DOUBLE" && src[i] === "\\") {
      if ("xuUN_LP".includes(src[i + 1])) return null;
      i += 2;
    } else i++;
  }
  return start + i;
}
