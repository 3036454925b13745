/** The API's request limits (see the README's "Limits and errors"), declared once in common/limits.ts. */
export * from "../../../common/limits";
