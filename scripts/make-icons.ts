/**
 * Draws the QuantatomAI mark (a white "Q" orbit with a teal nucleus on a navy rounded square) and
 * writes it as PNG files under addin/public/assets/: icon-16, -32, -64, -80 and -128 px, the sizes the
 * manifest names (16/32/80 for the ribbon, 32 and 64 for the add-in icon) plus one for web pages.
 * The ribbon buttons' glyphs (./ribbon-glyphs.ts: submit, discard, refresh, signin) are written
 * beside it at 16, 32 and 80 px, the sizes every ribbon Icon needs.
 *
 * Plain Node (zlib), no image library; deterministic, so the committed files only change when this
 * script does. Run: `node bin/run-ts.cjs scripts/make-icons.ts`.
 */
import fs from "node:fs";
import path from "node:path";
import zlib from "node:zlib";
import { GLYPHS, GLYPH_SIZES, type Rgba } from "./ribbon-glyphs";

export const ICON_SIZES = [16, 32, 64, 80, 128] as const;

const NAVY: Rgba = [20, 50, 92, 255];
const WHITE: Rgba = [255, 255, 255, 255];
const TEAL: Rgba = [46, 196, 182, 255];

/** Which colour the mark has at a point of the unit square, or null outside it. */
function colourAt(x: number, y: number): Rgba | null {
  // Rounded square (corner radius 0.2).
  const r = 0.2;
  const cx = Math.min(Math.max(x, r), 1 - r);
  const cy = Math.min(Math.max(y, r), 1 - r);
  if ((x - cx) ** 2 + (y - cy) ** 2 > r * r) return null;
  const d = Math.hypot(x - 0.47, y - 0.47);
  if (d <= 0.1) return TEAL; // nucleus
  if (d >= 0.2 && d <= 0.3) return WHITE; // orbit
  // Tail of the Q: a thick segment from (0.6, 0.6) to (0.8, 0.8).
  const t = Math.min(Math.max((x - 0.6 + (y - 0.6)) / 0.4, 0), 1);
  const px = 0.6 + 0.2 * t;
  const py = 0.6 + 0.2 * t;
  if (Math.hypot(x - px, y - py) <= 0.055) return WHITE;
  return NAVY;
}

/** RGBA pixels of the mark at `size` px, 4x4 supersampled. */
export function renderMark(size: number): Buffer {
  return render(size, colourAt);
}

/** RGBA pixels of a drawing over the unit square (null: transparent) at `size` px, 4x4 supersampled. */
function render(size: number, colourAt: (x: number, y: number) => Rgba | null): Buffer {
  const px = Buffer.alloc(size * size * 4);
  const n = 4;
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let rr = 0;
      let gg = 0;
      let bb = 0;
      let aa = 0;
      for (let sj = 0; sj < n; sj++) {
        for (let si = 0; si < n; si++) {
          const c = colourAt((i + (si + 0.5) / n) / size, (j + (sj + 0.5) / n) / size);
          if (!c) continue;
          rr += c[0] * c[3];
          gg += c[1] * c[3];
          bb += c[2] * c[3];
          aa += c[3];
        }
      }
      const o = (j * size + i) * 4;
      if (aa > 0) {
        px[o] = Math.round(rr / aa);
        px[o + 1] = Math.round(gg / aa);
        px[o + 2] = Math.round(bb / aa);
      }
      px[o + 3] = Math.round(aa / (n * n));
    }
  }
  return px;
}

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** Encodes RGBA pixels as a PNG (8-bit RGBA, no interlace, filter 0 on every row). */
export function encodePng(width: number, height: number, rgba: Buffer): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 6; // colour type RGBA
  const raw = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++) rgba.copy(raw, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", ihdr),
    chunk("IDAT", zlib.deflateSync(raw, { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** Writes every icon into `dir` (the mark, then each ribbon glyph); returns the paths written. */
export function writeIcons(dir: string): string[] {
  fs.mkdirSync(dir, { recursive: true });
  const marks = ICON_SIZES.map((size) => {
    const file = path.join(dir, `icon-${size}.png`);
    fs.writeFileSync(file, encodePng(size, size, renderMark(size)));
    return file;
  });
  const glyphs = Object.entries(GLYPHS).flatMap(([name, draw]) =>
    GLYPH_SIZES.map((size) => {
      const file = path.join(dir, `${name}-${size}.png`);
      fs.writeFileSync(file, encodePng(size, size, render(size, draw)));
      return file;
    }),
  );
  return [...marks, ...glyphs];
}

if (path.resolve(process.argv[1] ?? "") === __filename) {
  const dir = path.resolve(__dirname, "..", "addin", "public", "assets");
  for (const f of writeIcons(dir)) console.log(`wrote ${path.relative(process.cwd(), f)}`);
}
