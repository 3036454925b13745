/**
 * Hostile request bodies for any Connect method, made from the method's input descriptor so that a
 * new RPC or field is fuzzed without a change here: random bytes, truncated and corrupted binary
 * messages, illegal tags, invalid UTF-8, nesting too deep, JSON with wrong types, huge numbers,
 * malformed syntax and very long strings; for streaming methods, also malformed envelopes.
 * Deterministic for a given Rng.
 */
import { create, type DescField, type DescMessage, type DescMethod, ScalarType, toBinary, toJson } from "@bufbuild/protobuf";
import { encodeEnvelope } from "@connectrpc/connect/protocol";
import type { Rng } from "../../bench/rng";

/** One hostile request: what it is, its content type and its body bytes. */
export interface FuzzCase {
  label: string;
  contentType: string;
  body: Uint8Array;
}

const STRINGS = ["Demo", "[Measures].[Units]", "[Region].[North].[Oslo]", "Oslo", "Plan", "Actual", "Scenario", "", "[", "]]", "[a].[", "\u0000", "é€𝄞"];
const NUMBERS = [0, -1, 1, 0.5, 1e15, -1e15, 1.7976931348623157e308, -1.7976931348623157e308, 5e-324, 2 ** 31, -(2 ** 31)];
const enc = new TextEncoder();

/** A plausible message of type `desc`: every field set from small pools, lists of 0 to 3, nesting to `depth`. */
export function plausible(desc: DescMessage, rng: Rng, depth = 3): Record<string, unknown> {
  const msg = create(desc) as unknown as Record<string, unknown>;
  for (const f of desc.fields) {
    if (f.oneof || f.fieldKind === "map") continue;
    if (f.fieldKind === "list") {
      const n = rng.int(4);
      const items: unknown[] = [];
      for (let i = 0; i < n; i++) {
        const v = f.listKind === "message" ? (depth > 0 ? plausible(f.message, rng, depth - 1) : create(f.message)) : f.listKind === "enum" ? rng.pick(f.enum.values).number : scalar(f.scalar, rng);
        items.push(v);
      }
      msg[f.localName] = items;
    } else if (f.fieldKind === "message") {
      if (depth > 0 && rng.int(2) === 0) msg[f.localName] = plausible(f.message, rng, depth - 1);
    } else if (f.fieldKind === "enum") {
      msg[f.localName] = rng.int(5) === 0 ? 99 : rng.pick(f.enum.values).number;
    } else {
      msg[f.localName] = scalar(f.scalar, rng);
    }
  }
  return msg;
}

function scalar(t: ScalarType, rng: Rng): unknown {
  switch (t) {
    case ScalarType.STRING:
      return rng.pick(STRINGS);
    case ScalarType.BOOL:
      return rng.int(2) === 1;
    case ScalarType.BYTES:
      return Uint8Array.from({ length: rng.int(8) }, () => rng.int(256));
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return rng.pick(NUMBERS);
    case ScalarType.INT64:
    case ScalarType.SINT64:
    case ScalarType.SFIXED64:
      return BigInt(rng.pick([0, 1, -1, 7, 2 ** 53, -(2 ** 53)]));
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return BigInt(rng.pick([0, 1, 7, 2 ** 53]));
    default:
      return rng.pick([0, 1, -1, 2 ** 31 - 1, -(2 ** 31)]);
  }
}

/** The first string field of `desc` (by field number), if any: where invalid UTF-8 goes. */
function stringField(desc: DescMessage): DescField | undefined {
  return desc.fields.find((f) => f.scalar === ScalarType.STRING);
}

/** A protobuf tag (field number and wire type) as varint bytes. */
function tag(field: number, wireType: number): number[] {
  let v = (field << 3) | wireType;
  const out: number[] = [];
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

function concat(...parts: ArrayLike<number>[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Binary bodies (one message's bytes) that are not valid messages of `desc`, or are valid but odd. */
function binaryBodies(desc: DescMessage, rng: Rng): [string, Uint8Array][] {
  const valid = toBinary(desc, create(desc, plausible(desc, rng) as never));
  const out: [string, Uint8Array][] = [
    ["random bytes", Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256))],
    ["a lone start-group tag", new Uint8Array([0x0b])],
    ["field number 0", new Uint8Array([0x00, 0x01])],
    ["wire type 7", new Uint8Array([0x0f, 0x01])],
    ["a length past the end", new Uint8Array([...tag(1, 2), 0x7f, 0x41])],
    ["an unterminated varint", new Uint8Array([0x08, 0xff, 0xff, 0xff])],
    ["groups nested 300 deep", new Uint8Array(300).fill(0x13)],
    ["a plausible message", valid],
  ];
  if (valid.length > 1) {
    out.push(["a truncated message", valid.subarray(0, 1 + rng.int(valid.length - 1))]);
    const flipped = Uint8Array.from(valid);
    flipped[rng.int(flipped.length)] ^= 1 << rng.int(8);
    out.push(["a message with a flipped bit", flipped]);
  }
  const s = stringField(desc);
  if (s) {
    out.push(["invalid UTF-8 in a string", concat(tag(s.number, 2), [2, 0xff, 0xfe])]);
    const long = enc.encode("x".repeat(100_000));
    out.push(["a string of 100,000 characters", concat(tag(s.number, 2), [0xa0, 0x8d, 0x06], long)]);
  }
  return out;
}

/** A wrong-typed JSON value (as JSON text) for a field of this kind. */
function wrongType(f: DescField, rng: Rng): string {
  if (f.fieldKind === "list") return rng.pick(["{}", '"x"', "1", '[{"a":1}]', "[[1]]"]);
  if (f.fieldKind === "message") return rng.pick(["[]", '"x"', "7", "[1,2]"]);
  if (f.scalar === ScalarType.STRING) return rng.pick(["123", "true", "{}", "[]", "1e400"]);
  if (f.scalar === ScalarType.BOOL) return rng.pick(['"yes"', "2", "{}"]);
  return rng.pick(['"many"', "true", "{}", "[]", '"1e999"', '"0x10"', '"NaN"', "1.5", "1e400", "-1e400", "18446744073709551616", '"18446744073709551616"']);
}

/** `json` (an object's JSON text) with `name` set to the raw JSON text `raw`, last so that it wins. */
function withRaw(json: string, name: string, raw: string): string {
  return json === "{}" ? `{"${name}":${raw}}` : `${json.slice(0, -1)},"${name}":${raw}}`;
}

/** JSON bodies of `desc` that are malformed, mistyped, huge or odd. */
function jsonBodies(desc: DescMessage, rng: Rng): [string, Uint8Array][] {
  const valid = toJson(desc, create(desc, plausible(desc, rng) as never)) as Record<string, unknown>;
  const text = JSON.stringify(valid);
  const out: [string, Uint8Array][] = [
    ["random bytes", Uint8Array.from({ length: 1 + rng.int(64) }, () => rng.int(256))],
    ["truncated JSON", enc.encode(text.slice(0, Math.max(1, rng.int(text.length))))],
    ["not an object", enc.encode(rng.pick(["[]", "null", "42", '"x"', "true"]))],
    ["arrays nested 2,000 deep", enc.encode(`${"[".repeat(2000)}${"]".repeat(2000)}`)],
    ["objects nested 2,000 deep", enc.encode(`${'{"a":'.repeat(2000)}1${"}".repeat(2000)}`)],
    ["invalid UTF-8 in a string", concat(enc.encode('{"x":"'), [0xff, 0xfe, 0xc0], enc.encode('"}'))],
    ["a plausible message", enc.encode(text)],
    ["unknown fields", enc.encode(JSON.stringify({ ...valid, nope: [1, { deep: true }] }))],
  ];
  const fields = desc.fields.filter((f) => !f.oneof && f.fieldKind !== "map");
  if (fields.length > 0) {
    for (let k = 0; k < 3; k++) {
      const f = rng.pick(fields);
      out.push([`a wrong type for ${f.jsonName}`, enc.encode(withRaw(text, f.jsonName, wrongType(f, rng)))]);
    }
    const numeric = fields.filter((f) => f.fieldKind === "scalar" && f.scalar !== ScalarType.STRING && f.scalar !== ScalarType.BOOL && f.scalar !== ScalarType.BYTES);
    if (numeric.length > 0) {
      const f = rng.pick(numeric);
      out.push([`a huge number for ${f.jsonName}`, enc.encode(withRaw(text, f.jsonName, rng.pick(["1e400", "-1e999", "18446744073709551616", "123456789012345678901234567890"])))]);
    }
    const s = fields.find((f) => f.scalar === ScalarType.STRING);
    if (s) {
      const v = s.fieldKind === "list" ? ["x".repeat(100_000)] : "x".repeat(100_000);
      out.push(["a string of 100,000 characters", enc.encode(JSON.stringify({ ...valid, [s.jsonName]: v }))]);
    }
  }
  return out;
}

/** Envelope-level faults of a streaming request (Connect's 5-byte frames). */
function envelopeBodies(message: Uint8Array): [string, Uint8Array][] {
  const header = (flags: number, length: number) => [flags, (length >>> 24) & 0xff, (length >>> 16) & 0xff, (length >>> 8) & 0xff, length & 0xff];
  return [
    ["no message", new Uint8Array()],
    ["two messages", concat(encodeEnvelope(0, message), encodeEnvelope(0, message))],
    ["a compressed flag without an encoding", concat(header(1, message.length), message)],
    ["an end-stream flag on the request", concat(header(2, message.length), message)],
    ["a length past the end", concat(header(0, message.length + 100), message)],
    ["an incomplete header", new Uint8Array([0, 0, 0])],
    ["a declared length of 4 GiB", new Uint8Array([0, 0xff, 0xff, 0xff, 0xff, 1, 2, 3])],
  ];
}

/** The hostile requests for `method`: binary and JSON bodies, enveloped for a streaming method. */
export function fuzzCases(method: DescMethod, rng: Rng): FuzzCase[] {
  const stream = method.methodKind !== "unary";
  const out: FuzzCase[] = [];
  for (const [format, bodies] of [
    ["proto", binaryBodies(method.input, rng)],
    ["json", jsonBodies(method.input, rng)],
  ] as const) {
    const contentType = stream ? `application/connect+${format}` : `application/${format}`;
    for (const [label, body] of bodies) out.push({ label: `${format}: ${label}`, contentType, body: stream ? encodeEnvelope(0, body) : body });
    if (stream) {
      const message = bodies.find(([label]) => label === "a plausible message")![1];
      for (const [label, body] of envelopeBodies(message)) out.push({ label: `${format} envelope: ${label}`, contentType, body });
    }
  }
  return out;
}
