import { ConnectError } from "@connectrpc/connect";

/**
 * The ConnectError a call rejects with (its `code`, `rawMessage`).
 * @throws Error when the call succeeds, or fails with something other than a ConnectError.
 */
export async function rejection(p: Promise<unknown>): Promise<ConnectError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  if (err === null) throw new Error("the call succeeded");
  if (!(err instanceof ConnectError)) throw new Error(`the call failed with ${String(err)}, not a ConnectError`);
  return err;
}
