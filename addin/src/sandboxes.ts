/**
 * The workbook's sandbox per cube (SandboxService): which layer every QATOM.CELL of a cube reads,
 * streams and writes through. Kept in the workbook's own settings (Office.context.document.settings,
 * key `qatom.sandboxes`: `{ "<cube, lower case>": { "id": …, "name": … } }`), so a workbook opens in
 * the sandbox it was saved in, for whoever opens it (a user without a role on that sandbox sees
 * its cells as `#N/A` with the server's "not found", and can switch back to the base in the pane).
 * Where there is no workbook (a plain page) the choice lives in memory.
 */
import type { SandboxChoice, SandboxChoices } from "./contracts";
import type { DocumentSettings } from "./host";
import { ObservableValue } from "./observable";

/** The workbook setting's name. */
export const SANDBOX_SETTING = "qatom.sandboxes";

/** The key of a cube's choice: its name, trimmed and lower case (cube names are case-insensitive). */
const keyOf = (cube: string) => cube.trim().toLowerCase();

/** Keeps only well-formed entries of a stored setting. */
function parse(stored: unknown): Record<string, SandboxChoice> {
  const out: Record<string, SandboxChoice> = {};
  if (typeof stored !== "object" || stored === null) return out;
  for (const [cube, v] of Object.entries(stored as Record<string, unknown>)) {
    const c = v as Partial<SandboxChoice> | null;
    if (c && typeof c.id === "string" && c.id && typeof c.name === "string") out[keyOf(cube)] = { id: c.id, name: c.name };
  }
  return out;
}

/** The workbook's sandbox choices (see the module comment). */
export class WorkbookSandboxes implements SandboxChoices {
  private readonly choices = new ObservableValue<Readonly<Record<string, SandboxChoice>>>({});

  /** @param settings the workbook's settings now (null: none yet, or no workbook). */
  constructor(private readonly settings: () => DocumentSettings | null) {}

  get(): Readonly<Record<string, SandboxChoice>> {
    return this.choices.get();
  }

  subscribe(fn: () => void): () => void {
    return this.choices.subscribe(fn);
  }

  of(cube: string): string {
    return this.choices.get()[keyOf(cube)]?.id ?? "";
  }

  /** Reads the choices saved in the workbook (once it is there); listeners hear of a change. */
  load(): void {
    const s = this.settings();
    if (!s) return;
    const next = parse(s.get(SANDBOX_SETTING));
    if (JSON.stringify(next) !== JSON.stringify(this.choices.get())) this.choices.set(next);
  }

  async choose(cube: string, choice: SandboxChoice | null): Promise<void> {
    const next = { ...this.choices.get() };
    if (choice) next[keyOf(cube)] = { id: choice.id, name: choice.name };
    else delete next[keyOf(cube)];
    this.choices.set(next);
    const s = this.settings();
    if (!s) return;
    s.set(SANDBOX_SETTING, next);
    await s.save();
  }
}
