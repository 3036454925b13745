/**
 * Excel's ribbon and add-in commands, standing in for Office in a test page: the `Office` global's
 * `ribbon.requestUpdate` (RibbonApi 1.1), `actions.associate` and `addin.showAsTaskpane`, and the
 * manifest's custom tab drawn as HTML, with buttons that run their actions and the keyboard
 * shortcuts of shortcuts.json. It behaves as Microsoft documents it:
 *
 * - `requestUpdate` refuses an input that names a tab, group or control the manifest does not
 *   declare (Office rejects it), and applies the rest: a disabled button cannot be clicked.
 * - A click on an ExecuteFunction button calls the function associated with its `FunctionName`
 *   with an event whose `completed()` the function must call; a ShowTaskpane button shows the pane.
 * - A shortcut calls the function associated with its action, with no event.
 *
 * @see https://learn.microsoft.com/office/dev/add-ins/design/disable-add-in-commands
 * @see https://learn.microsoft.com/office/dev/add-ins/design/keyboard-shortcuts
 */

/** A button of the custom tab, as the manifest declares it (see ./ribbon-manifest.ts). */
export interface RibbonControlModel {
  id: string;
  label: string;
  tip: { title: string; description: string };
  /** The 16 and 32 px icons, as data URLs. */
  icon16: string;
  icon32: string;
  action: { type: "ExecuteFunction"; functionName: string } | { type: "ShowTaskpane" };
  /** `<Enabled>` (true when absent). */
  enabled: boolean;
}

/** The manifest's custom tab and shortcuts.json. */
export interface RibbonModel {
  tab: { id: string; label: string };
  groups: { id: string; label: string; controls: RibbonControlModel[] }[];
  shortcuts: { actions: { id: string; type?: string; name: string }[]; shortcuts: { action: string; key: { default: string } }[] };
}

/** Office.RibbonUpdaterData, as loosely as a caller may pass it. */
interface UpdaterData {
  tabs?: { id?: unknown; visible?: unknown; groups?: { id?: unknown; controls?: { id?: unknown; enabled?: unknown }[] }[] }[];
}

/** What the stand-in records for the test. */
export interface RibbonRecord {
  /** Accepted `requestUpdate` inputs, in order. */
  updates: unknown[];
  /** Refused ones, with why. */
  refused: { input: unknown; message: string }[];
  /** Action ids run, with how: `click` or `shortcut`. */
  ran: string[];
  /** Events whose `completed()` was called, by action id. */
  completed: string[];
  /** Times the task pane was shown (ShowTaskpane button or `showAsTaskpane`). */
  taskpaneShown: number;
}

const EXCEL_TABS = ["File", "Home", "Insert", "Page Layout", "Formulas", "Data", "Review", "View", "Help"];

const CSS = `
.xl{font-family:"Segoe UI","Segoe UI Web (West European)",-apple-system,"Helvetica Neue",Arial,sans-serif;font-size:12px;color:#242424;background:#f3f3f3;user-select:none}
.xl-title{height:30px;background:#0e6a38;color:#fff;display:flex;align-items:center;justify-content:center;font-size:12px}
.xl-tabs{display:flex;gap:2px;padding:4px 8px 0;height:30px;align-items:stretch}
.xl-tab{padding:6px 10px 0;color:#424242;position:relative;border:0;background:none;font:inherit;font-size:13px}
.xl-tab[aria-selected=true]{color:#0e6a38;font-weight:600}
.xl-tab[aria-selected=true]::after{content:"";position:absolute;left:10px;right:10px;bottom:2px;height:3px;border-radius:2px;background:#0e6a38}
.xl-ribbon{display:flex;align-items:stretch;background:#fff;margin:0 6px;border-radius:6px;box-shadow:0 1px 2px rgba(0,0,0,.14),0 0 2px rgba(0,0,0,.12);min-height:92px;padding:4px 2px}
.xl-group{display:flex;flex-direction:column;padding:0 6px;border-right:1px solid #e0e0e0}
.xl-group:last-child{border-right:0}
.xl-buttons{display:flex;gap:2px;flex:1}
.xl-group-label{text-align:center;color:#616161;font-size:11px;padding-top:2px}
.xl-button{display:flex;flex-direction:column;align-items:center;justify-content:flex-start;gap:4px;min-width:52px;padding:6px 6px 4px;border:1px solid transparent;border-radius:4px;background:none;font:inherit;color:inherit;cursor:default}
.xl-button img{width:32px;height:32px}
.xl-button span{line-height:1.2;text-align:center;white-space:nowrap}
.xl-button:not(:disabled):hover{background:#f0f0f0;border-color:#e0e0e0}
.xl-button:not(:disabled):active{background:#e0e0e0}
.xl-button:disabled{color:#a6a6a6}
.xl-button:disabled img{filter:grayscale(1);opacity:.38}
.xl-formula{display:flex;gap:8px;margin:6px;align-items:center}
.xl-name{width:80px;height:22px;background:#fff;border:1px solid #d1d1d1;border-radius:2px}
.xl-fx{flex:1;height:22px;background:#fff;border:1px solid #d1d1d1;border-radius:2px}
.xl-grid{border-collapse:collapse;background:#fff;margin:0 0 0 6px}
.xl-grid th{background:#f0f0f0;color:#616161;font-weight:400;border:1px solid #e0e0e0;height:20px}
.xl-grid td{border:1px solid #e1e1e1;width:72px;height:20px}
`;

/**
 * The stand-in for the custom tab of `model` (Office's state starts as the manifest declares).
 * `ribbonApi`: whether `isSetSupported("RibbonApi", "1.1")` is true (default true).
 */
export function ribbonStandIn(model: RibbonModel, options: { ribbonApi?: boolean } = {}) {
  const enabled = new Map<string, boolean>();
  const controls = new Map<string, { group: string; control: RibbonControlModel }>();
  for (const g of model.groups) {
    for (const c of g.controls) {
      enabled.set(c.id, c.enabled);
      controls.set(c.id, { group: g.id, control: c });
    }
  }
  const associated = new Map<string, (event?: { completed(): void }) => unknown>();
  const record: RibbonRecord = { updates: [], refused: [], ran: [], completed: [], taskpaneShown: 0 };
  const buttons = new Map<string, HTMLButtonElement>();
  const paint = () => {
    for (const [id, b] of buttons) b.disabled = !enabled.get(id);
  };

  /** Why Office refuses `input`, or null. */
  const problem = (input: UpdaterData): string | null => {
    if (!input || !Array.isArray(input.tabs)) return "RibbonUpdaterData needs tabs";
    for (const tab of input.tabs) {
      if (tab.id !== model.tab.id) return `no tab ${String(tab.id)} in the manifest`;
      for (const g of tab.groups ?? []) {
        if (!model.groups.some((m) => m.id === g.id)) return `no group ${String(g.id)} on tab ${model.tab.id}`;
        for (const c of g.controls ?? []) {
          if (controls.get(String(c.id))?.group !== g.id) return `no control ${String(c.id)} in group ${String(g.id)}`;
          if (c.enabled !== undefined && typeof c.enabled !== "boolean") return `enabled of ${String(c.id)} is not a boolean`;
        }
      }
    }
    return null;
  };

  const run = (actionId: string, how: "click" | "shortcut") => {
    const fn = associated.get(actionId);
    record.ran.push(`${how} ${actionId}`);
    if (!fn) throw new Error(`no function is associated with ${actionId}`);
    if (how === "shortcut") return fn();
    let done = false;
    return fn({
      completed() {
        if (done) throw new Error(`completed() called twice for ${actionId}`);
        done = true;
        record.completed.push(actionId);
      },
    });
  };

  const Office = {
    context: { requirements: { isSetSupported: (name: string, version?: string) => name === "RibbonApi" && (version ?? "1.1") === "1.1" && options.ribbonApi !== false } },
    ribbon: {
      requestUpdate(input: UpdaterData): Promise<void> {
        const why = problem(input);
        if (why) {
          record.refused.push({ input, message: why });
          return Promise.reject(Object.assign(new Error(`The parameter is not valid: ${why}`), { code: "InvalidArgument" }));
        }
        record.updates.push(JSON.parse(JSON.stringify(input)));
        for (const tab of input.tabs ?? []) for (const g of tab.groups ?? []) for (const c of g.controls ?? []) if (typeof c.enabled === "boolean") enabled.set(String(c.id), c.enabled);
        paint();
        return Promise.resolve();
      },
    },
    actions: {
      associate(actionId: string, action: (event?: { completed(): void }) => unknown) {
        associated.set(actionId, action);
      },
    },
    addin: {
      async showAsTaskpane() {
        record.taskpaneShown++;
      },
    },
  };

  /** Draws Excel's window top (title, tabs, the custom tab's groups, a few cells) into `container`. */
  function render(container: HTMLElement): void {
    const el = <K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string) => {
      const e = document.createElement(tag);
      if (cls) e.className = cls;
      if (text) e.textContent = text;
      return e;
    };
    const style = el("style");
    style.textContent = CSS;
    const xl = el("div", "xl");
    const title = el("div", "xl-title");
    title.textContent = "Book1 - Excel";
    const tabs = el("div", "xl-tabs");
    tabs.setAttribute("role", "tablist");
    for (const name of [...EXCEL_TABS, model.tab.label]) {
      const t = el("div", "xl-tab", name);
      t.setAttribute("role", "tab");
      t.setAttribute("aria-selected", String(name === model.tab.label));
      tabs.append(t);
    }
    const ribbon = el("div", "xl-ribbon");
    ribbon.setAttribute("role", "tabpanel");
    ribbon.setAttribute("aria-label", model.tab.label);
    for (const g of model.groups) {
      const group = el("div", "xl-group");
      group.setAttribute("role", "group");
      group.setAttribute("aria-label", g.label);
      const row = el("div", "xl-buttons");
      for (const c of g.controls) {
        const b = el("button", "xl-button");
        b.type = "button";
        b.title = `${c.tip.title}\n${c.tip.description}`;
        const img = el("img");
        img.src = c.icon32;
        img.alt = "";
        b.append(img, el("span", undefined, c.label));
        b.addEventListener("click", () => {
          if (c.action.type === "ShowTaskpane") record.taskpaneShown++;
          else void run(c.action.functionName, "click");
        });
        buttons.set(c.id, b);
        row.append(b);
      }
      group.append(row, el("div", "xl-group-label", g.label));
      ribbon.append(group);
    }
    const formula = el("div", "xl-formula");
    formula.append(el("div", "xl-name"), el("span", undefined, "fx"), el("div", "xl-fx"));
    const grid = el("table", "xl-grid");
    const head = el("tr");
    head.append(el("th"));
    for (const col of "ABCDEFGHIJKL") head.append(el("th", undefined, col));
    grid.append(head);
    for (let r = 1; r <= 3; r++) {
      const tr = el("tr");
      tr.append(el("th", undefined, String(r)));
      for (let i = 0; i < 12; i++) tr.append(el("td"));
      grid.append(tr);
    }
    xl.append(title, tabs, ribbon, formula, grid);
    container.append(style, xl);
    paint();
  }

  // Shortcuts: Office listens while the sheet has the focus (not the task pane, on the web).
  const keys = model.shortcuts.shortcuts.map((s) => {
    const parts = s.key.default.split("+").map((p) => p.trim().toLowerCase());
    return { action: s.action, ctrl: parts.includes("ctrl"), alt: parts.includes("alt"), shift: parts.includes("shift"), key: parts[parts.length - 1] };
  });
  const onKey = (e: KeyboardEvent) => {
    const key = e.code.startsWith("Key") ? e.code.slice(3).toLowerCase() : e.code.startsWith("Digit") ? e.code.slice(5) : e.key.toLowerCase();
    const hit = keys.find((k) => k.ctrl === e.ctrlKey && k.alt === e.altKey && k.shift === e.shiftKey && k.key === key);
    if (!hit) return;
    e.preventDefault();
    void run(hit.action, "shortcut");
  };

  return {
    /** The `Office` global to give the add-in (officeHost's scope). */
    Office,
    record,
    render,
    /** Starts listening to the keyboard shortcuts on `target`. */
    listen(target: Document | HTMLElement) {
      target.addEventListener("keydown", onKey as EventListener);
    },
    /** Whether a control is enabled now (Office's view). */
    isEnabled: (id: string) => enabled.get(id) ?? false,
  };
}
