import type { CellSnapshot, FormulaCell, FormulaCells } from "./contracts";
import { type FormulaWrite, type Host, PENDING_STYLE, SANDBOX_STYLE, type SheetCell } from "./host";
import { SandboxMarks } from "./sandbox-marks";

/** A sheet of styled formula cells behind the two Host calls the marks use (readAndRestore as one Excel.run). */
function sheet(styles: Record<string, string>) {
  const host = {
    ready: async () => true,
    async readAndRestore(addresses: readonly string[], decide: (cells: SheetCell[]) => FormulaWrite[]) {
      const cells = addresses.map((address) => ({ address, formula: "=QATOM.CELL()", valueType: "Double", value: 1, style: styles[address] }));
      for (const w of decide(cells)) if (w.style !== undefined) styles[w.address] = w.style;
      return cells;
    },
  } as unknown as Host;
  return host;
}

/** Formula cells with snapshots that a test changes. */
function formulaCells() {
  const listeners = new Set<() => void>();
  let list: FormulaCell[] = [];
  const cells = {
    get: () => list,
    subscribe(fn: () => void) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  } as unknown as FormulaCells;
  const show = (address: string, sandboxChanged: boolean) => {
    const snapshot: CellSnapshot = { value: 1, version: 1n, consolidated: false, calculated: false, ...(sandboxChanged ? { sandboxChanged } : {}) };
    list = [...list.filter((c) => c.address !== address), { cube: "Demo", members: [], address, formula: null, snapshot }];
    for (const fn of [...listeners]) fn();
  };
  return { cells, show };
}

/** The pending marks as the sandbox marks see them: which cells carry one, and a signal after each update. */
function pendingMarks() {
  const marked = new Set<string>();
  const listeners = new Set<() => void>();
  return {
    marks: {
      isMarked: (address: string) => marked.has(address),
      onUpdated(fn: () => void) {
        listeners.add(fn);
        return () => listeners.delete(fn);
      },
    },
    marked,
    updated: () => {
      for (const fn of [...listeners]) fn();
    },
  };
}

describe("SandboxMarks", () => {
  it("marks the cells a sandbox changed and gives them back their style when they show the base again", async () => {
    const styles: Record<string, string> = { "Sheet1!B2": "Currency", "Sheet1!B3": "Normal" };
    const { cells, show } = formulaCells();
    const p = pendingMarks();
    const marks = new SandboxMarks(sheet(styles), cells, p.marks);
    show("Sheet1!B2", true);
    show("Sheet1!B3", false);
    await marks.settled();
    expect(styles).toEqual({ "Sheet1!B2": SANDBOX_STYLE.name, "Sheet1!B3": "Normal" });
    show("Sheet1!B2", false);
    await marks.settled();
    expect(styles["Sheet1!B2"]).toBe("Currency");
    marks.dispose();
  });

  it("leaves a pending mark alone, and marks the cell once the pending mark is taken off", async () => {
    const styles: Record<string, string> = { "Sheet1!B2": PENDING_STYLE.name };
    const { cells, show } = formulaCells();
    const p = pendingMarks();
    p.marked.add("Sheet1!B2");
    const marks = new SandboxMarks(sheet(styles), cells, p.marks);
    show("Sheet1!B2", true);
    await marks.settled();
    expect(styles["Sheet1!B2"]).toBe(PENDING_STYLE.name);
    // Submitted: the pending mark goes (its style set back), with no new value from the stream.
    p.marked.delete("Sheet1!B2");
    styles["Sheet1!B2"] = "Normal";
    p.updated();
    await marks.settled();
    expect(styles["Sheet1!B2"]).toBe(SANDBOX_STYLE.name);
    marks.dispose();
  });

  it("keeps a style the user set over the mark", async () => {
    const styles: Record<string, string> = { "Sheet1!B2": "Normal" };
    const { cells, show } = formulaCells();
    const marks = new SandboxMarks(sheet(styles), cells, pendingMarks().marks);
    show("Sheet1!B2", true);
    await marks.settled();
    styles["Sheet1!B2"] = "Good";
    show("Sheet1!B2", false);
    await marks.settled();
    expect(styles["Sheet1!B2"]).toBe("Good");
    marks.dispose();
  });
});
