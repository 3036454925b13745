/**
 * Errors by tier, at the add-in's edge: anything the server or the network says becomes a
 * `notAvailable` (#N/A) with the server's message; a wrong argument type, found before any request,
 * is `invalidValue` (#VALUE!); a call without a valid token (nobody signed in, or the server refused
 * the token) is `notAvailable` "Sign in in the task pane". A failure is never turned into a value
 * (no silent 0).
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-errors
 */
import { Code, ConnectError } from "@connectrpc/connect";
import type { QatomError } from "./contracts";

/** A QatomError that can be thrown (QATOM.MEMBERS rejects with it). */
export class AddinError extends Error implements QatomError {
  constructor(
    readonly code: QatomError["code"],
    message: string,
  ) {
    super(message);
    this.name = "AddinError";
  }
}

/** What a function shows when it cannot get a token without the user (see addin/src/auth/). */
export const SIGN_IN_MESSAGE = "Sign in in the task pane";

/**
 * The error of a call made without a token: the user must sign in in the task pane. Recognise it
 * with `isSignInRequired` (the two bundles have their own copies of this class).
 */
export class SignInRequiredError extends AddinError {
  constructor(message: string = SIGN_IN_MESSAGE) {
    super("notAvailable", message);
    this.name = "SignInRequiredError";
  }
}

/**
 * True for a SignInRequiredError from either bundle (by name: `instanceof` fails across bundles),
 * also as the `cause` of the ConnectError a Connect client wraps it in.
 */
export function isSignInRequired(err: unknown): boolean {
  let e: unknown = err;
  for (let depth = 0; depth < 3 && typeof e === "object" && e !== null; depth++) {
    if ((e as { name?: unknown }).name === "SignInRequiredError") return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** True when the server refused the call's token (`unauthenticated`: none, refused, or expired). */
export function isUnauthenticated(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Unauthenticated;
}

/** A failure that signing in fixes: no token here, or one the server refused. */
export function isAuthFailure(err: unknown): boolean {
  return isSignInRequired(err) || isUnauthenticated(err);
}

/** `#VALUE!`: an argument of the wrong type. */
export function invalidValue(message: string): AddinError {
  return new AddinError("invalidValue", message);
}

/** The message of every network failure: the server named by the settings cannot be reached. */
export function notConnectedMessage(serverUrl: string): string {
  return `Not connected to ${serverUrl}`;
}

/**
 * A ConnectError for a request that never got an answer (fetch rejected: refused, DNS, TLS,
 * offline). Our fetch wrapper throws it, so every call site sees the same code and message.
 */
export function notConnectedError(serverUrl: string, cause: unknown): ConnectError {
  return new ConnectError(notConnectedMessage(serverUrl), Code.Unavailable, undefined, undefined, cause);
}

/** A TypeError by name: fetch's errors may come from another realm (a worker, a test's vm), where `instanceof` fails. */
function isTypeError(e: unknown): boolean {
  return typeof e === "object" && e !== null && (e as { name?: unknown }).name === "TypeError";
}

/** True for failures of the network or the server's availability (worth retrying with backoff). */
export function isNetworkFailure(err: unknown): boolean {
  if (!(err instanceof ConnectError)) return isTypeError(err);
  if (err.code === Code.Unavailable) return true;
  // A stream cut mid-body (server stopped) surfaces as a TypeError ("terminated") wrapped as unknown.
  return (err.code === Code.Unknown || err.code === Code.Internal) && isTypeError(err.cause);
}

/** True when the call was canceled by us (an AbortSignal). */
export function isCanceled(err: unknown): boolean {
  return err instanceof ConnectError && err.code === Code.Canceled;
}

/**
 * Maps a failed call onto what Excel shows: `Not connected to <url>` for network failures (with the
 * server's reason when it answered 503, e.g. still loading), the server's own message otherwise.
 */
export function toQatomError(err: unknown, serverUrl: string): QatomError {
  if (err instanceof AddinError) return { code: err.code, message: err.message };
  if (isAuthFailure(err)) return { code: "notAvailable", message: SIGN_IN_MESSAGE };
  if (isNetworkFailure(err)) {
    const base = notConnectedMessage(serverUrl);
    const raw = err instanceof ConnectError ? err.rawMessage : "";
    return { code: "notAvailable", message: raw && raw !== base && !/fetch failed|terminated/i.test(raw) ? `${base}: ${raw}` : base };
  }
  if (err instanceof ConnectError) return { code: "notAvailable", message: err.rawMessage };
  return { code: "notAvailable", message: err instanceof Error ? err.message : String(err) };
}
