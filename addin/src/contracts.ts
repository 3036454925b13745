/**
 * The contract between the parts of the add-in that share one runtime (Office's SharedRuntime 1.1):
 * the QATOM custom functions, the worksheet writeback handler and the task pane. One `AddinContext`
 * lives in the shared runtime (see `getAddinContext` in ./context.ts) and every part uses it.
 *
 * Shapes only; implementations live beside this file.
 */

import type { Client } from "@connectrpc/connect";
import type { DataAction, SpreadMethodCode } from "../../common/spreading/codes";
import type { CommentaryService } from "../../proto/gen/quantatom/v1/commentary_pb";
import type { LatticeService } from "../../proto/gen/quantatom/v1/lattice_pb";
import type { SandboxService } from "../../proto/gen/quantatom/v1/sandbox_pb";
import type { AuthConfig, SeededUser } from "./auth/config";
import type { AuthState } from "./auth/session";
import type { ProviderKind, SignedInUser } from "./auth/token-provider";
import type { RestoreProblems } from "./restores";
import type { WorkbookReportsApi } from "./reports/workbook-reports";

/** Sign-in's shapes (addin/src/auth/): the server's configuration, the state, who is signed in. */
export type { AuthConfig, AuthState, ProviderKind, SeededUser, SignedInUser };

/** Where the backend is; kept in the runtime's storage between sessions (who the user is comes from sign-in). */
export interface ConnectionSettings {
  /** Base URL of the backend, e.g. `https://localhost:3000` (the origin that served the add-in by default). */
  serverUrl: string;
}

/** A cell of a cube as the add-in knows it: the formula's arguments, resolved by the server. */
export interface CellRef {
  cube: string;
  /** Member names as the formula gave them (unique or bare names). */
  members: string[];
}

/** The last value the server sent for a cell. */
export interface CellSnapshot {
  /** null when the cell is empty (Excel shows 0, as TM1's DBRW does). */
  value: number | null;
  /** The version to send back as `baseVersion` when writing. */
  version: bigint;
  consolidated: boolean;
  /** True when a member formula calculates the cell: it is read-only (writes and holds are refused). */
  calculated: boolean;
  /**
   * How Excel shows the cell: an Excel number format code from the model (`Cell.format_string`,
   * e.g. `0.0%` for Margin %); absent or "" when the cell's measure has none.
   */
  format?: string;
  /** Read through a sandbox that changed the cell (or a leaf below it): `Cell.sandbox_changed`. */
  sandboxChanged?: boolean;
}

/** A QATOM.CELL formula on a worksheet, known by its address (from the streaming invocation). */
export interface FormulaCell extends CellRef {
  /** Address with sheet, as Excel gives it, e.g. `Sheet1!B3`. */
  address: string;
  /** The formula text, read from the sheet, used to put it back after the user types over it. */
  formula: string | null;
  /** What the user saw last. */
  snapshot: CellSnapshot | null;
}

/** Outcome of a pending write after Submit. */
export type PendingStatus = "pending" | "submitting" | "applied" | "conflict" | "rejected" | "error";

/**
 * TM1's spreading methods for a write to a consolidated cell, by their TM1 codes (proto
 * `SpreadMethod`), declared once in common/spreading/codes.ts. Straight line `SL` and growth `GR`
 * are not among them: the add-in turns them into one write per cell.
 */
export type { SpreadMethodCode };

/** TM1's data actions: replace (no symbol), add `+`, subtract `~` (common/spreading/codes.ts `DataAction`). */
export type SpreadAction = DataAction;

/** How a pending write to a consolidated cell is spread to the leaf cells below it. */
export interface PendingSpread {
  method: SpreadMethodCode;
  action: SpreadAction;
  /** LS and LR: include the empty leaves (TM1's `*`). */
  includeEmpty: boolean;
  /** RP and R%: the reference cell, as members that replace the target's (e.g. `[Scenario].[Actual]`). */
  reference: string[];
}

/** A value typed over a QATOM.CELL cell, waiting for Submit. */
export interface PendingWrite extends CellRef {
  /**
   * Stable id: the sheet address normalized (`cellKey` in ./address.ts: sheet lower-cased, no `$`,
   * e.g. `sheet1!B3`); typing again over the same cell replaces the pending value.
   */
  id: string;
  address: string;
  /** True when the cell is consolidated: the write is spread to the leaves below it (see `spread`). */
  consolidated: boolean;
  /**
   * For a leaf cell: the new value (null clears it). For a consolidated cell: the spread's argument,
   * i.e. the value the spread aims at with its data action (P, S, LS, R, LR, RP) or the percentage
   * (P%, R%); null for C.
   */
  value: number | null;
  /** For a consolidated cell: how it is spread (proportional replace unless a code or the pane says otherwise). */
  spread?: PendingSpread;
  /** The TM1 code the user typed (e.g. `P%+10`), when it was not a plain number. */
  code?: string;
  /** The value and version the user saw when typing. */
  seenValue: number | null;
  baseVersion: bigint;
  status: PendingStatus;
  /** Server message for conflict / rejected / error, or why the add-in refused the write. */
  message?: string;
  /** For a conflict: the other writer's value, version, name and time (ms since the epoch). */
  conflict?: { theirValue: number | null; theirVersion: bigint; by: string; at: number };
  /** Applied: the leaf cells the write changed (WriteResult.leaves_changed; 1 for a leaf write). */
  leavesChanged?: number;
  /** Applied: the cell's value after the write (a consolidated cell's new total). */
  currentValue?: number | null;
  /**
   * Set while the write waits for the user's confirmation in the task pane (clearing a consolidated
   * cell with `C` clears every leaf below it): the question to show. Submit skips it until confirmed.
   */
  confirm?: string;
}

/** How to write a typed value: the spread of a consolidated cell and the code it came from. */
export interface PendingOptions {
  /** For a consolidated cell; missing fields take proportional replace (clear for a null value). */
  spread?: Partial<PendingSpread>;
  /** The TM1 code typed, shown in the pane. */
  code?: string;
}

/** An observable list of pending writes with Submit, Discard and conflict resolution. */
export interface PendingWrites {
  list(): PendingWrite[];
  /** Calls `fn` after every change; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void;
  /**
   * Records (or replaces) a pending write for a formula cell. A calculated cell's write is
   * `rejected` at once (it is read-only); so is a spread that lacks an argument (RP without a reference).
   */
  add(cell: FormulaCell, value: number | null, options?: PendingOptions): PendingWrite;
  /** Records something typed over a formula cell that cannot be written (e.g. a bad code), as `rejected` with the reason. */
  reject(cell: FormulaCell, typed: string, message: string): PendingWrite;
  /**
   * Changes how a pending write to a consolidated cell is spread (the pane's method picker); a
   * write not yet applied becomes `pending` again (or `rejected` when the new spread lacks an argument).
   */
  setSpread(id: string, patch: Partial<PendingSpread>): void;
  /** The user confirmed a write that asked for it (see `PendingWrite.confirm`): Submit sends it. */
  confirm(id: string): void;
  /** Drops pending writes (all when `ids` is omitted). */
  discard(ids?: string[]): void;
  /**
   * Sends every `pending` write (and every `error` one: it was never applied) in one WriteCells per
   * cube, with the base versions the user saw and the cube's holds; each gets its own result.
   * `rejected` writes stay in the list, unsent, until discarded or changed.
   */
  submit(): Promise<void>;
  /** Conflict: write mine again, based on their version. */
  keepMine(id: string): Promise<void>;
  /** Conflict: drop mine and keep theirs (the cell already shows theirs through its stream). */
  takeTheirs(id: string): void;
}

/** A cell held for spreading (TM1's hold): spreads leave it (a leaf, or every leaf below it) unchanged. */
export interface HeldCell extends CellRef {
  /** The cell's key (cube and members): one hold per cube cell, whichever sheet cell showed it. */
  id: string;
  /** The sheet address it was held from (`Sheet1!B3`). */
  address: string;
  consolidated: boolean;
}

/**
 * The cells held in this session (typed `H` / `HC` over a QATOM.CELL cell, released with `RH` /
 * `RC` or in the task pane), sent as `WriteCellsRequest.holds` with every WriteCells of their cube.
 */
export interface Holds extends Observable<readonly HeldCell[]> {
  /** Holds a cell (again: no change but the address). */
  hold(cell: FormulaCell): HeldCell;
  /** Releases the hold on a cell (by HeldCell.id, or the cell itself); false when it was not held. */
  release(idOrCell: string | CellRef): boolean;
  /** Releases every hold (of one cube when given). */
  releaseAll(cube?: string): void;
  isHeld(ref: CellRef): boolean;
  /** The held cells of a cube, as WriteCellsRequest.holds wants them. */
  forCube(cube: string): { members: string[] }[];
}

// ---------------------------------------------------------------------------------------------
// Added with the runtime implementation (./context.ts): the shared context itself and the shapes
// the custom functions and the task pane use through it.
// ---------------------------------------------------------------------------------------------

/**
 * Why a QATOM function cannot show a value. `notAvailable` becomes Excel's `#N/A` (unknown or
 * ambiguous member, unknown cube, server unreachable: anything the server or the network says),
 * `invalidValue` becomes `#VALUE!` (an argument of the wrong type, found before any request).
 * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-errors
 */
export interface QatomError {
  code: "notAvailable" | "invalidValue";
  /** Shown in the cell's error tooltip: the server's message, or `Not connected to <url>`. */
  message: string;
}

/** What a streaming QATOM.CELL shows: a snapshot of the cell, or an error (never a silent 0). */
export type CellOutcome = { ok: true; snapshot: CellSnapshot } | { ok: false; error: QatomError };

/** What a streaming QATOM.COMMENT shows: the newest comment's text ("" when none), or an error. */
export type CommentOutcome = { ok: true; text: string } | { ok: false; error: QatomError };

/** An observable value (shaped for React's `useSyncExternalStore`: `get` is stable between changes). */
export interface Observable<T> {
  get(): T;
  /** Calls `fn` after every change; returns an unsubscribe function. */
  subscribe(fn: () => void): () => void;
}

/** Connect clients for the backend named by the settings (binary protobuf, every call with the signed-in user's bearer token). */
export interface QatomApi {
  /** Base URL without a trailing slash. */
  serverUrl: string;
  lattice: Client<typeof LatticeService>;
  commentary: Client<typeof CommentaryService>;
  sandbox: Client<typeof SandboxService>;
}

/** The sandbox a cube's QATOM cells are read and written through (SandboxService), by its id and name. */
export interface SandboxChoice {
  id: string;
  name: string;
}

/**
 * The workbook's choice of sandbox per cube (./sandboxes.ts): every QATOM.CELL of that cube reads,
 * streams and writes through it; a cube without one uses the base.
 */
export interface SandboxChoices extends Observable<Readonly<Record<string, SandboxChoice>>> {
  /** The sandbox id chosen for `cube` ("" for the base). */
  of(cube: string): string;
  /** Chooses a sandbox for `cube` (null: the base) and keeps the choice in the workbook. */
  choose(cube: string, choice: SandboxChoice | null): Promise<void>;
}

/** Whether the add-in reaches the backend, for the task pane's status line. */
export interface ConnectionState {
  /** `unknown` until the first answer; `disconnected` after a network failure, until the next answer. */
  status: "unknown" | "connected" | "disconnected";
  serverUrl: string;
  /** The last failure, while disconnected. */
  message?: string;
  /** WatchCells streams running now, all cubes together (one per cube; their first message arrived). */
  streams?: number;
  /** When a failed stream is tried again (ms since the epoch); absent when no retry is pending. */
  retryAt?: number;
  /**
   * The protocol of the server's latest answer as the browser reports it (Resource Timing's
   * `nextHopProtocol`: `h2` multiplexes every request on one connection, `http/1.1` gives each
   * stream a connection of the browser's six per host); absent where the browser does not say.
   */
  protocol?: string;
}

/** The QATOM.CELL formulas the runtime knows, by sheet address (see FormulaCell). */
export interface FormulaCells extends Observable<readonly FormulaCell[]> {
  /** The formula cell at an address (`Sheet1!B3`, `'My Sheet'!$B$3`; case and `$` do not matter). */
  find(address: string): FormulaCell | undefined;
}

/** What typing over a QATOM.CELL cell did (see AddinContext.typeOver). */
export type TypedOutcome =
  | { kind: "writes"; writes: PendingWrite[] }
  | { kind: "held" | "released"; cell: CellRef }
  | { kind: "refused"; write: PendingWrite }
  | { kind: "ignored" };

/** A live QATOM.CELL or QATOM.COMMENT formula; `close` is its `onCanceled`. */
export interface FormulaHandle {
  close(): void;
}

/**
 * The runtime's sign-in, shared by the functions and the task pane (implemented by
 * `AuthSession`, ./auth/session.ts). The functions only ask for tokens silently; the pane's
 * buttons call `signIn` and `signOut`.
 */
export interface SignIn {
  /** Where sign-in stands (loading, unavailable, signed out, signing in, signed in as whom). */
  readonly state: Observable<AuthState>;
  /** Reads the server's sign-in configuration and signs in silently when it may; idempotent. */
  start(): Promise<AuthState>;
  /**
   * Signs in with the user: as the development user `choice.user`, or with Microsoft (nested app
   * authentication, or the Office dialog where Office lacks it).
   * @throws AddinError with the reason (the state's message says it too).
   */
  signIn(choice?: { user?: string }): Promise<SignedInUser>;
  /** Forgets the token and the account; calls then fail with "Sign in in the task pane". */
  signOut(): Promise<void>;
  /**
   * The token for a call, silently (what every RPC of the runtime sends).
   * @throws SignInRequiredError ("Sign in in the task pane") when nobody is signed in.
   */
  getToken(): Promise<string>;
  /** Drops a token the server refused, so that the next call renews it. */
  invalidate(token: string): void;
}

/**
 * The one object the custom functions, the writeback handler and the task pane share in the
 * runtime. Get it with `getAddinContext()` (./context.ts).
 */
export interface AddinContext {
  /** Where the backend is (read from the runtime's storage on first use). */
  getSettings(): Promise<ConnectionSettings>;
  /**
   * Saves settings to the runtime's storage and reconnects every stream to the new server (a new
   * server means a new sign-in: its configuration is read again).
   */
  saveSettings(patch: Partial<ConnectionSettings>): Promise<ConnectionSettings>;
  /** Who is signed in, and the buttons' actions; every call of the runtime carries its token. */
  readonly auth: SignIn;
  /** Clients for the current settings (replaced when the settings change). */
  api(): Promise<QatomApi>;
  /** Reachability of the backend. */
  readonly connection: Observable<ConnectionState>;
  /** Values typed over QATOM.CELL cells, waiting for Submit. */
  readonly pendingWrites: PendingWrites;
  /** Cells held for spreading, sent with every WriteCells of their cube. */
  readonly holds: Holds;
  /** The sandbox each cube's cells go through (the base when none is chosen). */
  readonly sandboxes: SandboxChoices;
  /** The reports built in the task pane: their definitions (kept in the workbook) and their writing; see ./reports/workbook-reports.ts. */
  readonly reports: WorkbookReportsApi;
  /** QATOM.CELL formulas on the sheets, by address. */
  readonly formulaCells: FormulaCells;
  /** Formulas not put back after typing (a failed Excel batch, or a formula text never read), for the pane; see ./restores.ts. */
  readonly restores: RestoreProblems;
  /**
   * Starts the runtime: sign-in (silently, where it may: see ./auth/session.ts) and what needs
   * Office, the worksheet onChanged handler that turns a number or a TM1 code typed over a
   * QATOM.CELL cell into a pending write or a hold. Idempotent; both bundles may call it.
   */
  start(): Promise<void>;
  /**
   * What typing `content` (a number, text such as `P%+10` or `H`, or null for a cleared cell) over
   * the QATOM.CELL cell at `address` does, as the worksheet handler does it (without touching the
   * sheet): a pending write, several (SL, GR, codes with a direction), a hold, or nothing.
   * @returns what it did; `ignored` when there is no formula there or the content is not a value or a code.
   */
  typeOver(address: string, content: unknown): TypedOutcome;
  /**
   * QATOM.CELL: `onResult` gets the cell's value now and again whenever it changes. Calls of one
   * wave share one GetCells, and all open cells of a cube share one WatchCells stream.
   * @param address the formula's sheet address (`invocation.address`), registered for writeback.
   */
  openCell(ref: CellRef, address: string | undefined, onResult: (outcome: CellOutcome) => void): FormulaHandle;
  /**
   * The task pane's view of a cell: the server's value (never an entry waiting over it), on its
   * cube's one WatchCells stream, as `openCell` but without a sheet address: nothing is registered.
   */
  watchCell(ref: CellRef, onResult: (outcome: CellOutcome) => void): FormulaHandle;
  /** QATOM.COMMENT: `onResult` gets the newest comment now and again when it changes. */
  openComment(ref: CellRef, onResult: (outcome: CommentOutcome) => void): FormulaHandle;
  /**
   * Whether Excel takes formatted numbers from custom functions (`{ type: "Double", basicValue,
   * numberFormat }`): requirement set CustomFunctionsRuntime 1.4, asked of the host each time
   * (false before Office is ready and where there is no Office).
   * @see https://learn.microsoft.com/office/dev/add-ins/excel/custom-functions-data-types-concepts
   */
  formattedNumbers(): boolean;
  /**
   * QATOM.MEMBERS: unique names of the descendants of `parent` (top of the dimension when empty)
   * down to `depth` levels (0: all), in hierarchy order.
   * @throws QatomError-shaped `AddinError` (see ./errors.ts).
   */
  listMembers(cube: string, dimension: string, parent: string, depth: number): Promise<string[]>;
  /** Adds a comment as the signed-in user and refreshes the QATOM.COMMENT formulas of that cube. */
  addComment(ref: CellRef, text: string): Promise<void>;
  /**
   * Reads every QATOM cell and comment from the server again (the ribbon's Refresh): each cube's
   * WatchCells stream reconnects at once, and its first message re-sends every cell's value; every
   * QATOM.COMMENT is polled now.
   */
  refresh(): void;
  /** Stops streams, polls and timers (tests, or the runtime shutting down). */
  dispose(): void;
}
