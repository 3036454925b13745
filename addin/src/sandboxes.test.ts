import { documentSettingsStandIn } from "../../test/helpers/office-stand-ins";
import { SANDBOX_SETTING, WorkbookSandboxes } from "./sandboxes";

/** The workbook's settings and what was saved of them. */
function settings(initial: Record<string, unknown> = {}) {
  const { settings: s, saved } = documentSettingsStandIn(initial);
  return { s, saved };
}

describe("WorkbookSandboxes", () => {
  it("reads the workbook's choices, keeping well-formed entries only, by cube name in any case", () => {
    const { s } = settings({ [SANDBOX_SETTING]: { sales: { id: "a1", name: "What-if" }, Budget: { id: 7 }, plan: null } });
    const choices = new WorkbookSandboxes(() => s);
    expect(choices.of("Sales")).toBe("");
    choices.load();
    expect(choices.of("SALES ")).toBe("a1");
    expect(choices.of("Budget")).toBe("");
    expect(Object.keys(choices.get())).toEqual(["sales"]);
  });

  it("chooses a sandbox and the base again, telling listeners and saving the choice in the workbook", async () => {
    const { s, saved } = settings();
    const choices = new WorkbookSandboxes(() => s);
    const heard: string[] = [];
    choices.subscribe(() => heard.push(choices.of("Sales")));
    await choices.choose("Sales", { id: "b2", name: "Q3" });
    expect(saved[SANDBOX_SETTING]).toEqual({ sales: { id: "b2", name: "Q3" } });
    await choices.choose("sales", null);
    expect(saved[SANDBOX_SETTING]).toEqual({});
    expect(heard).toEqual(["b2", ""]);
  });

  it("keeps the choice in memory where there is no workbook", async () => {
    const choices = new WorkbookSandboxes(() => null);
    await choices.choose("Sales", { id: "c3", name: "Scratch" });
    expect(choices.of("sales")).toBe("c3");
    choices.load();
    expect(choices.of("sales")).toBe("c3");
  });
});
