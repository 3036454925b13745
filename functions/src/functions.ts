/// <reference types="custom-functions-runtime" />
/**
 * The QATOM custom functions. Their metadata (functions.json) is generated from the JSDoc below by
 * custom-functions-metadata, so the tags are the contract with Excel: `@customfunction ID`,
 * `@streaming`, `@requiresAddress`, `@param` (a `unknown[][][]` parameter is a repeating matrix:
 * one or more arguments, each a value or a range), `@helpurl` (the function's section of the help
 * page, addin/public/help.html: the tags name the development origin, which scripts/build.ts
 * rewrites in functions.json to the URL the add-in is served from).
 *
 * In formula value preview (`invocation.isInValuePreview`) no function reads the server: each
 * shows #N/A with the reason (./excel.ts `previewPlaceholder`).
 *
 * Everything else lives in the shared runtime (addin/src, reached through `getAddinContext`).
 *
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-json-autogeneration
 */
import { getAddinContext } from "../../addin/src/context";
import { cubeArg, depthArg, dimensionArg, membersArg, parentArg } from "./args";
import { excelErrorOf, excelNumber, type FormattedNumber, inValuePreview, previewPlaceholder, toExcelError } from "./excel";

/**
 * The value of one cell of a cube, in its measure's number format (e.g. Margin % as a percentage). It updates by itself whenever anyone's write changes it. An empty cell shows 0 (as TM1's DBRW does); a bad member shows #N/A with the reason.
 * @customfunction CELL
 * @streaming
 * @requiresAddress
 * @helpurl https://localhost:3000/help.html#cell
 * @param cube The cube's name, e.g. "Sales".
 * @param members Members of the cell, one per argument or a range of member names, e.g. "[Store].[USA].[CA]" or "Beverages". Dimensions left out take their default member.
 * @param invocation Streaming invocation (supplied by Excel).
 */
export function cell(cube: string, members: unknown[][][], invocation: CustomFunctions.StreamingInvocation<number | FormattedNumber>): void {
  if (inValuePreview(invocation)) {
    invocation.setResult(previewPlaceholder());
    return;
  }
  const ref = cellRefArg(cube, members, invocation);
  if (!ref) return;
  const context = getAddinContext();
  const handle = context.openCell(ref, invocation.address, (o) => {
    invocation.setResult(o.ok ? excelNumber(o.snapshot.value ?? 0, o.snapshot.format, context.formattedNumbers()) : toExcelError(o.error));
  });
  invocation.onCanceled = () => handle.close();
}

/**
 * The newest comment on one cell of a cube, or "" when it has none. It updates by itself when comments are added.
 * @customfunction COMMENT
 * @streaming
 * @helpurl https://localhost:3000/help.html#comment
 * @param cube The cube's name, e.g. "Sales".
 * @param members Members of the cell, one per argument or a range of member names.
 * @param invocation Streaming invocation (supplied by Excel).
 */
export function comment(cube: string, members: unknown[][][], invocation: CustomFunctions.StreamingInvocation<string>): void {
  if (inValuePreview(invocation)) {
    invocation.setResult(previewPlaceholder());
    return;
  }
  const ref = cellRefArg(cube, members, invocation);
  if (!ref) return;
  const handle = getAddinContext().openComment(ref, (o) => {
    invocation.setResult(o.ok ? o.text : toExcelError(o.error));
  });
  invocation.onCanceled = () => handle.close();
}

/**
 * A column of member unique names of one dimension, for building reports: the members below parent (the top of the dimension when omitted), depth levels down (1 when omitted: the children; 0: every level), in hierarchy order.
 * @customfunction MEMBERS
 * @helpurl https://localhost:3000/help.html#members
 * @param cube The cube's name, e.g. "Sales".
 * @param dimension The dimension's name, e.g. "Store".
 * @param [parent] The member to start below, e.g. "[Store].[USA]".
 * @param [depth] How many levels below parent (1 when omitted, 0 for all).
 * @param [invocation] Invocation (supplied by Excel).
 * @returns Member unique names, one per row.
 */
export async function members(cube: string, dimension: string, parent?: string, depth?: number, invocation?: CustomFunctions.Invocation): Promise<string[][]> {
  if (inValuePreview(invocation)) throw previewPlaceholder();
  try {
    const names = await getAddinContext().listMembers(cubeArg(cube), dimensionArg(dimension), parentArg(parent), depthArg(depth));
    return names.map((n) => [n]);
  } catch (err) {
    throw excelErrorOf(err);
  }
}

/**
 * Checks a cell function's cube and member arguments. On a bad one it sets the formula's result to
 * the Excel error (#VALUE! for a wrong type) and returns null.
 */
function cellRefArg(cube: string, members: unknown[][][], invocation: CustomFunctions.StreamingInvocation<never>): { cube: string; members: string[] } | null {
  try {
    return { cube: cubeArg(cube), members: membersArg(members) };
  } catch (err) {
    invocation.setResult(excelErrorOf(err));
    return null;
  }
}

// Excel finds the functions by the ids in functions.json; a bundle without the metadata's webpack
// plugin must associate them itself.
CustomFunctions.associate("CELL", cell);
CustomFunctions.associate("COMMENT", comment);
CustomFunctions.associate("MEMBERS", members);

// The shared runtime starts with this bundle: register the writeback handler once Office is ready.
getAddinContext()
  .start()
  .catch((err: unknown) => console.error("quantatom: the add-in runtime did not start", err));
