/**
 * The ribbon buttons' glyphs (manifest.xml's Submit, Discard, Refresh and Sign in icons), drawn as
 * functions over the unit square: a colour where the glyph is, null where it is transparent.
 * ./make-icons.ts renders them at 16, 32 and 80 px (every ribbon `Icon` needs those three sizes),
 * into addin/public/assets/<name>-<size>.png.
 *
 * Simple, heavy strokes in the spirit of Fluent's ribbon icons (one shape, two colours at most),
 * so that they still read at 16 px; on a transparent background, as Office draws icons over its
 * own ribbon colour.
 * @see https://learn.microsoft.com/office/dev/add-ins/design/add-in-icons-fresh
 */

/** A colour, 8-bit RGBA. */
export type Rgba = [number, number, number, number];

/** The sizes the manifest names for a ribbon button (small, large, and for high-DPI screens). */
export const GLYPH_SIZES = [16, 32, 80] as const;

const NAVY: Rgba = [20, 50, 92, 255];
/** The mark's teal, darkened to read on a white ribbon. */
const TEAL: Rgba = [0, 128, 118, 255];
const RED: Rgba = [196, 43, 28, 255];

/** Distance from (x, y) to the segment from (ax, ay) to (bx, by). */
function segment(x: number, y: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax;
  const dy = by - ay;
  const t = Math.min(Math.max(((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy), 0), 1);
  return Math.hypot(x - (ax + t * dx), y - (ay + t * dy));
}

/** Whether (x, y) is inside the triangle a, b, c (either winding). */
function inTriangle(x: number, y: number, [ax, ay]: number[], [bx, by]: number[], [cx, cy]: number[]): boolean {
  const s1 = (bx - ax) * (y - ay) - (by - ay) * (x - ax);
  const s2 = (cx - bx) * (y - by) - (cy - by) * (x - bx);
  const s3 = (ax - cx) * (y - cy) - (ay - cy) * (x - cx);
  return (s1 >= 0 && s2 >= 0 && s3 >= 0) || (s1 <= 0 && s2 <= 0 && s3 <= 0);
}

/** Submit: an arrow up from a base line (send to the server). */
function submit(x: number, y: number): Rgba | null {
  const w = 0.075;
  if (segment(x, y, 0.5, 0.7, 0.5, 0.18) <= w) return TEAL;
  if (segment(x, y, 0.5, 0.16, 0.27, 0.39) <= w || segment(x, y, 0.5, 0.16, 0.73, 0.39) <= w) return TEAL;
  if (segment(x, y, 0.2, 0.86, 0.8, 0.86) <= w) return NAVY;
  return null;
}

/** Discard: a cross. */
function discard(x: number, y: number): Rgba | null {
  const w = 0.08;
  if (segment(x, y, 0.24, 0.24, 0.76, 0.76) <= w || segment(x, y, 0.76, 0.24, 0.24, 0.76) <= w) return RED;
  return null;
}

/** Refresh: a circular arrow, open at the top right, its head pointing clockwise. */
function refresh(x: number, y: number): Rgba | null {
  const cx = 0.5;
  const cy = 0.53;
  const r = 0.29;
  const w = 0.07;
  // The head: a triangle at the ring's end (angle -60 degrees, i.e. upper right), pointing down along the ring.
  const ex = cx + r * Math.cos(-Math.PI / 3);
  const ey = cy + r * Math.sin(-Math.PI / 3);
  if (inTriangle(x, y, [ex - 0.19, ey - 0.06], [ex + 0.13, ey - 0.13], [ex + 0.05, ey + 0.2])) return NAVY;
  const d = Math.abs(Math.hypot(x - cx, y - cy) - r);
  if (d > w) return null;
  const angle = Math.atan2(y - cy, x - cx); // -pi..pi, 0 to the right, positive downwards
  const gapFrom = -Math.PI / 3; // the ring is open between -60 and -10 degrees
  const gapTo = -Math.PI / 18;
  return angle > gapFrom && angle < gapTo ? null : NAVY;
}

/** Sign in: a person (head and shoulders). */
function signin(x: number, y: number): Rgba | null {
  if (Math.hypot(x - 0.5, y - 0.32) <= 0.17) return NAVY;
  // Shoulders: the top of an ellipse, cut flat at the bottom.
  const ex = (x - 0.5) / 0.33;
  const ey = (y - 0.9) / 0.34;
  if (y <= 0.88 && ex * ex + ey * ey <= 1) return NAVY;
  return null;
}

/** Every glyph, by the file name it is written under. */
export const GLYPHS: Record<string, (x: number, y: number) => Rgba | null> = { submit, discard, refresh, signin };
