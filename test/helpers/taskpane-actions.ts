import fs from "node:fs";
import path from "node:path";
import type { Page } from "playwright-core";

const ARTIFACTS = path.join(__dirname, "..", "..", "test-artifacts");

/** Signs in through the pane's Connection panel as development user `id`, whom the pane then shows as `name`. */
export async function signInAs(page: Page, id: string, name: string): Promise<void> {
  await page.getByLabel("Sign in as").selectOption(id);
  await page.getByRole("button", { name: "Sign in", exact: true }).click();
  await page.getByText(`Signed in as ${name}`).waitFor();
}

/** Waits until the pane's polite live region announces `text` (Submit's results, an undo, a commit). */
export function announced(page: Page, text: string): Promise<void> {
  return page.getByRole("status").filter({ hasText: text }).waitFor({ state: "attached" });
}

/** Saves the whole pane as test-artifacts/taskpane-<name>.png. */
export async function paneShot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: path.join(ARTIFACTS, `taskpane-${name}.png`), fullPage: true });
}
