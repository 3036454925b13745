/**
 * The `Office` global of a stand-in page: requirement sets and the dialog API, as Microsoft
 * documents them (see {@link officeStandIn}). Split from ./office-stand-ins.ts, which re-exports it.
 */

/** What `Office.context.ui.displayDialogAsync` passes its callback (Office.AsyncResult<Dialog>, the fields used). */
export interface StandInAsyncResult {
  status: "succeeded" | "failed";
  value?: StandInDialogObject;
  error?: { code: number; name: string; message: string };
}

/** Office.Dialog as the opener sees it. */
export interface StandInDialogObject {
  addEventHandler(eventType: string, handler: (arg: { message: string; origin: string | undefined } | { error: number }) => void): void;
  close(): void;
}

/**
 * An open dialog, as the page loaded in it sees it: `office` is the dialog page's own `Office`
 * global (its `context.ui.messageParent` reaches the opener); the test plays the user.
 */
export interface StandInDialog {
  /** The URL the dialog was opened on. */
  readonly url: string;
  /** The options passed to displayDialogAsync. */
  readonly options: Record<string, unknown>;
  /** The dialog page's `Office` global (onReady, context.ui.messageParent, no requirements of a workbook). */
  readonly office: OfficeStandIn;
  /** True once the opener closed it or the user did. */
  readonly closed: boolean;
  /** The user closes the dialog with its X: the opener gets DialogEventReceived with error 12006. */
  userCloses(): void;
  /** The page could not be loaded: DialogEventReceived with error 12002. */
  failsToLoad(): void;
}

/** The `Office` global of {@link officeStandIn}. */
export interface OfficeStandIn {
  onReady(): Promise<{ host: string; platform: string }>;
  EventType: { DialogMessageReceived: "dialogMessageReceived"; DialogEventReceived: "dialogEventReceived" };
  AsyncResultStatus: { Succeeded: "succeeded"; Failed: "failed" };
  context: {
    requirements: { isSetSupported(name: string, minVersion?: string): boolean };
    document: { settings: DocumentSettingsStandIn };
    ui: {
      displayDialogAsync(startAddress: string, optionsOrCallback?: unknown, callback?: (result: StandInAsyncResult) => void): void;
      messageParent(message: string, messageOptions?: { targetOrigin: string }): void;
    };
  };
}

/**
 * `Office.context.document.settings`, as Microsoft documents Office.Settings: `get` returns the
 * value of a setting or null when there is none; `set` changes the in-memory copy (values are
 * JSON-serializable: stored as their JSON); `saveAsync` persists them in the document and calls back
 * with `succeeded`. `saved` is what the document holds (what a reopened workbook would read).
 * @see https://learn.microsoft.com/javascript/api/office/office.settings
 */
export interface DocumentSettingsStandIn {
  get(name: string): unknown;
  set(name: string, value: unknown): void;
  saveAsync(callback?: (result: { status: "succeeded" | "failed" }) => void): void;
  readonly saved: Record<string, unknown>;
}

function documentSettingsStandIn(): DocumentSettingsStandIn {
  const memory = new Map<string, string>();
  const saved: Record<string, unknown> = {};
  return {
    get: (name) => (memory.has(name) ? JSON.parse(memory.get(name)!) : null),
    set(name, value) {
      memory.set(name, JSON.stringify(value));
    },
    saveAsync(callback) {
      for (const [k, v] of memory) saved[k] = JSON.parse(v);
      setTimeout(() => callback?.({ status: "succeeded" }), 0);
    },
    saved,
  };
}

/** `1.10` > `1.9`: requirement-set versions compare numerically, part by part. */
function versionAtLeast(have: string, want: string): boolean {
  const a = have.split(".").map(Number);
  const b = want.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return true;
}

/** Options of {@link officeStandIn}. */
export interface OfficeStandInOptions {
  /** The origin of the page that runs the add-in (the task pane / shared runtime), e.g. `https://localhost:3000`. */
  pageOrigin: string;
  /** Requirement sets this "Office" supports, by name, with their highest version, e.g. `{ NestedAppAuth: "1.1" }`. */
  requirementSets?: Record<string, string>;
  /** Called (asynchronously, as a page loads) with each dialog that opens: the test's dialog page. */
  onDialog?: (dialog: StandInDialog) => void | Promise<void>;
}

/**
 * The `Office` global of a page, with the parts Microsoft documents for requirement sets and the
 * dialog API, behaving as documented:
 *
 * - `context.requirements.isSetSupported(name, minVersion)`: true when the set is supported at that
 *   version or later; a missing `minVersion` means 1.1 ("Office versions and requirement sets").
 * - `context.ui.displayDialogAsync(url, [options], callback)`: fails with 12005 for an http URL,
 *   12004 for a URL outside the opener's origin (protocol, host and port), 12007 while a dialog
 *   from this page is open; otherwise succeeds with a Dialog whose `addEventHandler` takes
 *   `DialogMessageReceived` (`{message, origin}`) and `DialogEventReceived` (`{error}`: 12002 page
 *   not loaded, 12006 closed by the user), and whose `close()` closes it
 *   ("Handle errors and events in the Office dialog box", Office.Dialog).
 * - `context.ui.messageParent(message)` in the dialog's page: delivered to the opener's
 *   `DialogMessageReceived` handlers while the dialog is open. Messages must be strings.
 * - In the opener, `messageParent` throws: it is not a dialog.
 * @see https://learn.microsoft.com/office/dev/add-ins/develop/dialog-handle-errors-events
 * @see https://learn.microsoft.com/javascript/api/office/office.ui
 */
export function officeStandIn(opts: OfficeStandInOptions): { office: OfficeStandIn; dialogs: StandInDialog[] } {
  const dialogs: StandInDialog[] = [];
  let open: StandInDialog | null = null;
  const sets = opts.requirementSets ?? {};
  const settings = documentSettingsStandIn();
  const base = (ui: OfficeStandIn["context"]["ui"], requirements: Record<string, string>): OfficeStandIn => ({
    onReady: async () => ({ host: "Excel", platform: "PC" }),
    EventType: { DialogMessageReceived: "dialogMessageReceived", DialogEventReceived: "dialogEventReceived" },
    AsyncResultStatus: { Succeeded: "succeeded", Failed: "failed" },
    context: {
      requirements: {
        isSetSupported: (name, minVersion = "1.1") => name in requirements && versionAtLeast(requirements[name], minVersion),
      },
      document: { settings },
      ui,
    },
  });
  const fail = (callback: ((r: StandInAsyncResult) => void) | undefined, code: number, message: string) =>
    setTimeout(() => callback?.({ status: "failed", error: { code, name: "Display Dialog Error", message } }), 0);

  const office = base(
    {
      displayDialogAsync(startAddress, optionsOrCallback, maybeCallback) {
        const callback = (typeof optionsOrCallback === "function" ? optionsOrCallback : maybeCallback) as ((r: StandInAsyncResult) => void) | undefined;
        const options = typeof optionsOrCallback === "object" && optionsOrCallback !== null ? (optionsOrCallback as Record<string, unknown>) : {};
        let url: URL;
        try {
          url = new URL(startAddress);
        } catch {
          fail(callback, 12004, "The domain of the URL is not included in the AppDomains element in the manifest, and is not subdomain of source location.");
          return;
        }
        if (url.protocol === "http:" && !opts.pageOrigin.startsWith("http:")) {
          fail(callback, 12005, "The URL uses the HTTP protocol. HTTPS is required.");
          return;
        }
        if (url.origin !== new URL(opts.pageOrigin).origin) {
          fail(callback, 12004, "The domain of the URL is not included in the AppDomains element in the manifest, and is not subdomain of source location.");
          return;
        }
        if (open && !open.closed) {
          fail(callback, 12007, "A dialog box is already opened from this host window.");
          return;
        }
        const handlers = { message: [] as ((a: { message: string; origin: string | undefined }) => void)[], event: [] as ((a: { error: number }) => void)[] };
        let closed = false;
        const close = () => {
          closed = true;
          if (open === dialog) open = null;
        };
        const dialogObject: StandInDialogObject = {
          addEventHandler(type, handler) {
            if (type === "dialogMessageReceived") handlers.message.push(handler as (a: { message: string; origin: string | undefined }) => void);
            else if (type === "dialogEventReceived") handlers.event.push(handler as (a: { error: number }) => void);
            else throw new Error(`Invalid event type ${type}`);
          },
          close,
        };
        const event = (code: number) => {
          if (closed) return;
          close();
          for (const h of handlers.event) h({ error: code });
        };
        const dialogOffice = base(
          {
            displayDialogAsync: (_u, a, b) => fail((typeof a === "function" ? a : b) as ((r: StandInAsyncResult) => void) | undefined, 12007, "A dialog box cannot open another."),
            messageParent(message) {
              if (typeof message !== "string") throw new TypeError("messageParent takes a string");
              if (closed) return;
              setTimeout(() => {
                if (!closed) for (const h of handlers.message) h({ message, origin: url.origin });
              }, 0);
            },
          },
          {},
        );
        const dialog: StandInDialog = {
          url: startAddress,
          options,
          office: dialogOffice,
          get closed() {
            return closed;
          },
          userCloses: () => event(12006),
          failsToLoad: () => event(12002),
        };
        open = dialog;
        dialogs.push(dialog);
        setTimeout(() => {
          callback?.({ status: "succeeded", value: dialogObject });
          // The page loads after the opener has its Dialog (and has registered its handlers).
          setTimeout(() => void opts.onDialog?.(dialog), 0);
        }, 0);
      },
      messageParent() {
        throw new Error("messageParent is available only in a page opened by displayDialogAsync");
      },
    },
    sets,
  );
  return { office, dialogs };
}
