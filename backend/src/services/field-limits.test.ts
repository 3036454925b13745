/**
 * The bounds on request strings: each field's bound, named in the error with the field's path;
 * string fields without an entry bounded by the default; and the check running before a handler
 * touches the backend.
 */
import { create, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createRouterTransport } from "@connectrpc/connect";
import pino from "pino";
import { AddCommentRequestSchema, CommentSchema } from "../../../proto/gen/quantatom/v1/commentary_pb";
import { GetCellsRequestSchema, GetMembersRequestSchema, LatticeService, WriteCellsRequestSchema } from "../../../proto/gen/quantatom/v1/lattice_pb";
import type { TokenVerifier } from "../auth";
import type { Backend } from "../domain";
import { checkStringFields, STRING_BOUNDS } from "./field-limits";
import { routerOptions, routes, SERVICES } from ".";

function refusal(desc: DescMessage, msg: object): string | null {
  try {
    checkStringFields(desc, msg);
    return null;
  } catch (e) {
    expect(e).toMatchObject({ code: "invalid_argument" });
    return (e as Error).message;
  }
}

describe("bounds on request strings", () => {
  const x = (n: number) => "x".repeat(n);

  it("names the field, its length and the limit", () => {
    const cells = [{ members: ["[Store].[USA]"] }, { members: ["a", "b", x(4097)] }];
    expect(refusal(GetCellsRequestSchema, create(GetCellsRequestSchema, { cube: "Sales", cells }))).toBe(
      "cells[1].members[2] has 4097 characters; the limit is 4096 (MAX_MEMBER_TEXT_LENGTH)",
    );
    expect(refusal(GetCellsRequestSchema, create(GetCellsRequestSchema, { cube: x(257) }))).toBe("cube has 257 characters; the limit is 256 (MAX_NAME_LENGTH)");
    expect(refusal(GetMembersRequestSchema, create(GetMembersRequestSchema, { cube: "Sales", dimension: "Store", query: x(257) }))).toBe(
      "query has 257 characters; the limit is 256 (MAX_SEARCH_LENGTH)",
    );
    const writes = [{ members: ["a"], spread: { reference: [x(5000)] } }];
    expect(refusal(WriteCellsRequestSchema, create(WriteCellsRequestSchema, { cube: "Sales", writes }))).toBe(
      "writes[0].spread.reference[0] has 5000 characters; the limit is 4096 (MAX_MEMBER_TEXT_LENGTH)",
    );
    expect(refusal(WriteCellsRequestSchema, create(WriteCellsRequestSchema, { holds: [{ members: [x(4097)] }] }))).toMatch(/^holds\[0\]\.members\[0\] has 4097/);
    expect(refusal(AddCommentRequestSchema, create(AddCommentRequestSchema, { text: x(4001) }))).toBe("text has 4001 characters; the limit is 4000 (MAX_COMMENT_LENGTH)");
  });

  it("accepts every field at its limit", () => {
    expect(refusal(GetCellsRequestSchema, create(GetCellsRequestSchema, { cube: x(256), cells: [{ members: [x(4096)] }] }))).toBeNull();
    expect(refusal(AddCommentRequestSchema, create(AddCommentRequestSchema, { cube: x(256), members: [x(4096)], text: x(4000) }))).toBeNull();
  });

  it("bounds a string field that has no entry by MAX_STRING_FIELD_LENGTH, and lists only fields that exist", () => {
    expect(STRING_BOUNDS["quantatom.v1.Comment.author"]).toBeUndefined();
    expect(refusal(CommentSchema, create(CommentSchema, { author: x(257) }))).toBe("author has 257 characters; the limit is 256 (MAX_STRING_FIELD_LENGTH)");
    const fields = new Set<string>();
    for (const service of SERVICES) {
      const visit = (m: DescMessage, seen: Set<DescMessage>) => {
        if (seen.has(m)) return;
        seen.add(m);
        for (const f of m.fields) {
          if (f.scalar === ScalarType.STRING) fields.add(`${m.typeName}.${f.name}`);
          if (f.message) visit(f.message, seen);
        }
      };
      for (const method of service.methods) visit(method.input, new Set());
    }
    expect(Object.keys(STRING_BOUNDS).filter((k) => !fields.has(k))).toEqual([]);
  });

  it("refuses before the handler touches the backend, for unary calls and streams", async () => {
    const untouchable = new Proxy({}, { get: () => () => Promise.reject(new Error("the backend was called")) }) as unknown as Backend;
    const anyToken: TokenVerifier = { verify: async (t) => ({ subject: t, name: t, tenant: "default", expiresAt: Date.now() + 3_600_000 }) };
    const transport = createRouterTransport(routes(untouchable), {
      router: routerOptions(pino({ level: "silent" }), anyToken),
      transport: {
        interceptors: [
          (next) => (req) => {
            req.header.set("authorization", "Bearer ann");
            return next(req);
          },
        ],
      },
    });
    const lattice = createClient(LatticeService, transport);
    const name = x(100_000);
    const err = await lattice.getCells({ cube: "Sales", cells: [{ members: [name] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: Code.InvalidArgument, rawMessage: "cells[0].members[0] has 100000 characters; the limit is 4096 (MAX_MEMBER_TEXT_LENGTH)" });
    const streamErr = await (async () => {
      for await (const _ of lattice.watchCells({ cube: name })) return null;
      return null;
    })().catch((e: unknown) => e);
    expect(streamErr).toMatchObject({ code: Code.InvalidArgument, rawMessage: "cube has 100000 characters; the limit is 256 (MAX_NAME_LENGTH)" });
  });
});
