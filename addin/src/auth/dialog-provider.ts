/**
 * Sign-in with Entra ID through the Office dialog API, where Office does not support nested app
 * authentication (older builds; documents not opened from OneDrive or SharePoint in Office on the
 * web). As Microsoft's "Authenticate with the Office dialog API" describes: the task pane opens a
 * dialog on a page of the add-in's own origin (`signin-dialog.html`, see ./dialog-page.ts), which
 * signs in with MSAL's redirect flow (Entra ID refuses to be framed, so it cannot run in the pane)
 * and hands the access token back with `messageParent`.
 *
 * The dialog is interactive by nature: there is no silent renewal. When the token expires the
 * functions show "Sign in in the task pane" until the user signs in again (the dialog's MSAL cache
 * usually lets it close again at once, without asking for a password).
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/auth-with-office-dialog-api
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/dialog-handle-errors-events
 */
import { AddinError } from "../errors";
import { DIALOG_CLOSED_BY_USER, DialogOpenError, type Host } from "../host";
import { type AccessToken, accessToken, type TokenProvider } from "./token-provider";

/** The dialog's page, relative to the add-in's origin (built from addin/public/signin-dialog.html). */
export const DIALOG_PAGE = "signin-dialog.html";

/** Size of the sign-in dialog, percent of the screen (Entra ID's page fits in about 450 x 600 px). */
export const DIALOG_SIZE = { height: 60, width: 30 } as const;

/** What the dialog's page sends its opener (JSON through `messageParent`). */
export type DialogSignInMessage =
  | {
      type: "token";
      accessToken: string;
      /** MSAL's `expiresOn`, ms since the epoch (the token's `exp` is preferred when readable). */
      expiresOn?: number;
      /** MSAL's account, for a token whose claims cannot be read. */
      account?: { id: string; name: string; tenant?: string };
    }
  | { type: "error"; message: string };

/** Reads a message from the dialog. @returns null for anything that is not a DialogSignInMessage. */
export function parseDialogMessage(text: string): DialogSignInMessage | null {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof m !== "object" || m === null) return null;
  const o = m as Record<string, unknown>;
  if (o.type === "token" && typeof o.accessToken === "string" && o.accessToken) return o as DialogSignInMessage;
  if (o.type === "error" && typeof o.message === "string") return { type: "error", message: o.message };
  return null;
}

/** Why a dialog could not be opened, for a person (Microsoft's error table). */
function openFailure(err: unknown): AddinError {
  const code = err instanceof DialogOpenError || (err as { name?: unknown })?.name === "DialogOpenError" ? (err as DialogOpenError).code : 0;
  const why: Record<number, string> = {
    12004: "the sign-in page is not on the add-in's domain",
    12005: "the sign-in page must be served over HTTPS",
    12007: "a sign-in window is already open",
    12009: "the sign-in window was not allowed",
    12011: "the browser blocked the sign-in window (allow pop-ups for this site)",
  };
  return new AddinError("notAvailable", `sign-in with Microsoft could not start: ${why[code] ?? (err instanceof Error ? err.message : String(err))}`);
}

/** The dialog provider of one server. */
export class DialogTokenProvider implements TokenProvider {
  readonly kind = "dialog" as const;

  /**
   * @param dialogUrl the absolute URL of the dialog's page on the add-in's origin.
   * @param now the clock (tests).
   */
  constructor(
    private readonly host: Host,
    private readonly dialogUrl: string,
    private readonly now: () => number = () => Date.now(),
  ) {}

  /** Always null: a dialog needs the user. */
  async silent(): Promise<AccessToken | null> {
    return null;
  }

  /** Opens the dialog and waits for its token (or its error, or the user closing it). */
  async interactive(): Promise<AccessToken> {
    let dialog: Awaited<ReturnType<Host["displayDialog"]>>;
    try {
      dialog = await this.host.displayDialog(this.dialogUrl, DIALOG_SIZE);
    } catch (err) {
      throw openFailure(err);
    }
    const message = await new Promise<DialogSignInMessage>((resolve, reject) => {
      dialog.onMessage((text) => {
        const m = parseDialogMessage(text);
        if (m) resolve(m);
      });
      dialog.onEvent((code) => {
        reject(new AddinError("notAvailable", code === DIALOG_CLOSED_BY_USER ? "sign-in was canceled (the window was closed)" : `the sign-in window failed (Office dialog error ${code})`));
      });
    }).finally(() => {
      try {
        dialog.close();
      } catch {
        // already closed by the user
      }
    });
    if (message.type === "error") throw new AddinError("notAvailable", `sign-in with Microsoft failed: ${message.message}`);
    return accessToken(message.accessToken, this.now(), { expiresAt: message.expiresOn, user: message.account });
  }

  /** Nothing to forget here: the next sign-in's dialog asks which account to use. */
  async signOut(): Promise<void> {}
}
