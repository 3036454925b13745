/**
 * Bounds on every string of every request, checked before a handler does any work (a lookup, a
 * closest-name search, a store query): a string over its field's bound is `invalid_argument`
 * naming the field, its length and the limit, e.g. `cells[3].members[0] has 100000 characters; the
 * limit is 4096 (MAX_MEMBER_TEXT_LENGTH)`. The bounds are common/limits.ts's, so the add-in can
 * keep to them.
 *
 * The fields are found from the request's message descriptor (proto/gen), so a string field added
 * to the protocol later is bounded too: by MAX_STRING_FIELD_LENGTH until it is listed here with its
 * own bound. Counts (cells per request, members per address) are checked by domain/checks.ts, and
 * the request's size as a whole by the body limit (`QATOM_MAX_BODY_BYTES`).
 */
import { type DescField, type DescMessage, ScalarType } from "@bufbuild/protobuf";
import type { Interceptor } from "@connectrpc/connect";
import {
  DomainError,
  MAX_COMMENT_LENGTH,
  MAX_MEMBER_TEXT_LENGTH,
  MAX_NAME_LENGTH,
  MAX_SEARCH_LENGTH,
  MAX_STRING_FIELD_LENGTH,
} from "../domain";

/** A bound on a string field: most characters (UTF-16 code units), and the constant's name for messages. */
export interface StringBound {
  max: number;
  name: string;
}

const NAME: StringBound = { max: MAX_NAME_LENGTH, name: "MAX_NAME_LENGTH" };
const MEMBER: StringBound = { max: MAX_MEMBER_TEXT_LENGTH, name: "MAX_MEMBER_TEXT_LENGTH" };
const SEARCH: StringBound = { max: MAX_SEARCH_LENGTH, name: "MAX_SEARCH_LENGTH" };
const COMMENT: StringBound = { max: MAX_COMMENT_LENGTH, name: "MAX_COMMENT_LENGTH" };

/** The bound of a string field that has no entry in {@link STRING_BOUNDS}. */
export const DEFAULT_STRING_BOUND: StringBound = { max: MAX_STRING_FIELD_LENGTH, name: "MAX_STRING_FIELD_LENGTH" };

/**
 * The bound of each string field of the requests of quantatom.v1, by the field's full name
 * (`<message type>.<field>`; for a repeated field, the bound of each element). Cube and dimension
 * names are names; member fields hold a member's text (a unique name, or a bare name); search text
 * and comment text have their own bounds.
 */
export const STRING_BOUNDS: Readonly<Record<string, StringBound>> = {
  "quantatom.v1.CellAddress.members": MEMBER,
  "quantatom.v1.GetMembersRequest.cube": NAME,
  "quantatom.v1.GetMembersRequest.dimension": NAME,
  "quantatom.v1.GetMembersRequest.parent": MEMBER,
  "quantatom.v1.GetMembersRequest.query": SEARCH,
  "quantatom.v1.GetCellsRequest.cube": NAME,
  "quantatom.v1.WatchCellsRequest.cube": NAME,
  "quantatom.v1.Spread.reference": MEMBER,
  "quantatom.v1.CellWrite.members": MEMBER,
  "quantatom.v1.WriteCellsRequest.cube": NAME,
  "quantatom.v1.CopyScenarioRequest.cube": NAME,
  "quantatom.v1.CopyScenarioRequest.dimension": NAME,
  "quantatom.v1.CopyScenarioRequest.from": MEMBER,
  "quantatom.v1.CopyScenarioRequest.to": MEMBER,
  "quantatom.v1.CopyScenarioRequest.slice": MEMBER,
  "quantatom.v1.GetCellHistoryRequest.cube": NAME,
  "quantatom.v1.GetCellHistoryRequest.members": MEMBER,
  "quantatom.v1.ListTransactionsRequest.cube": NAME,
  // A transaction id is a UUID; the default bound applies to it.
  "quantatom.v1.UndoTransactionRequest.cube": NAME,
  "quantatom.v1.ExplainCellRequest.cube": NAME,
  "quantatom.v1.ExplainCellRequest.members": MEMBER,
  "quantatom.v1.AddCommentRequest.cube": NAME,
  "quantatom.v1.AddCommentRequest.members": MEMBER,
  "quantatom.v1.AddCommentRequest.text": COMMENT,
  "quantatom.v1.ListCommentsRequest.cube": NAME,
  "quantatom.v1.ListCommentsRequest.members": MEMBER,
  // SecurityService: cubes are names, a right's member is a member's text; group and user names are
  // bounded by the default (and by security/validate.ts MAX_NAME_LENGTH, 200, when stored).
  "quantatom.v1.ListSecurityRequest.cube": NAME,
  "quantatom.v1.ListSecurityAuditRequest.cube": NAME,
  "quantatom.v1.SetRightRequest.cube": NAME,
  "quantatom.v1.SetRightRequest.member": MEMBER,
  "quantatom.v1.GroupRequest.cube": NAME,
  "quantatom.v1.PutUserRequest.cube": NAME,
  "quantatom.v1.UserRequest.cube": NAME,
  "quantatom.v1.UserGroupRequest.cube": NAME,
  "quantatom.v1.SetAdminRequest.cube": NAME,
  // SandboxService: sandbox ids are UUIDs and user ids are bounded by the default; a sandbox's
  // name by MAX_NAME_LENGTH here (and by domain/sandboxes.ts MAX_SANDBOX_NAME, 200, when created).
  "quantatom.v1.CreateSandboxRequest.cube": NAME,
  "quantatom.v1.CreateSandboxRequest.name": NAME,
  "quantatom.v1.ListSandboxesRequest.cube": NAME,
  "quantatom.v1.ShareSandboxRequest.cube": NAME,
  "quantatom.v1.CommitSandboxRequest.cube": NAME,
  "quantatom.v1.DiscardSandboxRequest.cube": NAME,
};

/** How to check one message type: its string fields with their bounds, and the fields that hold messages with strings. */
interface Plan {
  strings: { field: DescField; bound: StringBound }[];
  nested: { field: DescField; plan: Plan }[];
}

const plans = new Map<DescMessage, Plan>();

/** The check plan of a message type (cached; a type that refers to itself reuses its plan). */
function planOf(desc: DescMessage): Plan {
  const known = plans.get(desc);
  if (known) return known;
  const plan: Plan = { strings: [], nested: [] };
  plans.set(desc, plan);
  for (const field of desc.fields) {
    const bound = STRING_BOUNDS[`${desc.typeName}.${field.name}`] ?? DEFAULT_STRING_BOUND;
    const stringValued =
      (field.fieldKind === "scalar" && field.scalar === ScalarType.STRING) ||
      (field.fieldKind === "list" && field.listKind === "scalar" && field.scalar === ScalarType.STRING) ||
      (field.fieldKind === "map" && (field.mapKey === ScalarType.STRING || (field.mapKind === "scalar" && field.scalar === ScalarType.STRING)));
    if (stringValued) plan.strings.push({ field, bound });
    const message = field.fieldKind === "message" || (field.fieldKind === "list" && field.listKind === "message") || (field.fieldKind === "map" && field.mapKind === "message") ? field.message : undefined;
    if (message) plan.nested.push({ field, plan: planOf(message) });
  }
  return plan;
}

/** A field's value in a message object of protobuf-es (a member of a oneof sits under the oneof's name). */
function fieldValue(msg: Record<string, unknown>, field: DescField): unknown {
  if (field.oneof) {
    const group = msg[field.oneof.localName] as { case?: string; value?: unknown } | undefined;
    return group?.case === field.localName ? group.value : undefined;
  }
  return msg[field.localName];
}

function fail(path: string, length: number, bound: StringBound, what = ""): never {
  throw new DomainError(`${path}${what} has ${length} characters; the limit is ${bound.max} (${bound.name})`, "invalid_argument");
}

function checkString(v: unknown, path: string, bound: StringBound, what = ""): void {
  if (typeof v === "string" && v.length > bound.max) fail(path, v.length, bound, what);
}

function checkMessage(msg: Record<string, unknown>, plan: Plan, prefix: string): void {
  for (const { field, bound } of plan.strings) {
    const v = fieldValue(msg, field);
    const path = `${prefix}${field.jsonName}`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) checkString(v[i], `${path}[${i}]`, bound);
    } else if (field.fieldKind === "map" && v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        checkString(k, `${path}`, bound, ` key "${k.slice(0, 20)}…"`);
        checkString(x, `${path}["${k.slice(0, 20)}"]`, bound);
      }
    } else {
      checkString(v, path, bound);
    }
  }
  for (const { field, plan: inner } of plan.nested) {
    if (inner.strings.length === 0 && inner.nested.length === 0) continue;
    const v = fieldValue(msg, field);
    const path = `${prefix}${field.jsonName}`;
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) if (v[i]) checkMessage(v[i] as Record<string, unknown>, inner, `${path}[${i}].`);
    } else if (field.fieldKind === "map" && v && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) if (x) checkMessage(x as Record<string, unknown>, inner, `${path}["${k}"].`);
    } else if (v && typeof v === "object") {
      checkMessage(v as Record<string, unknown>, inner, `${path}.`);
    }
  }
}

/**
 * Checks every string of a request message against its field's bound.
 * @param desc the message's type (a method's `input`).
 * @throws DomainError invalid_argument naming the first field over its bound (`cells[2].members[0]`),
 *   its length and the limit with the constant's name.
 */
export function checkStringFields(desc: DescMessage, msg: object): void {
  checkMessage(msg as Record<string, unknown>, planOf(desc), "");
}

/**
 * The interceptor that applies {@link checkStringFields} to every request message before the
 * handler sees it: a unary request at once, each message of a stream as the handler reads it.
 * Goes after the error boundary (which maps its DomainError to invalid_argument) and sign-in.
 */
export function fieldLimits(): Interceptor {
  return (next) => async (req) => {
    const input = req.method.input;
    if (!req.stream) {
      checkStringFields(input, req.message);
      return next(req);
    }
    const messages = req.message;
    async function* checked() {
      for await (const m of messages) {
        checkStringFields(input, m);
        yield m;
      }
    }
    return next({ ...req, message: checked() } as typeof req);
  };
}
