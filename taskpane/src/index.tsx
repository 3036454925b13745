/// <reference types="office-js" />
/**
 * The task pane's entry point in Excel (bundled to dist/addin/taskpane.js by scripts/build.ts):
 * waits for Office, then mounts the pane with the Office host (./host.ts) and the shared runtime's
 * context (settings, sign-in, pending writes, formula registry), which the custom functions share.
 */
import { useState } from "react";
import { createRoot } from "react-dom/client";
import type { AddinContext, ConnectionSettings } from "../../addin/src/contracts";
import { getAddinContext } from "../../addin/src/context";
import { TaskpaneApp } from "./App";
import { createOfficeHost, type TaskpaneHost } from "./host";

function Root({ ctx, host, initial }: { ctx: AddinContext; host: TaskpaneHost; initial: ConnectionSettings }) {
  const [settings, setSettings] = useState(initial);
  return <TaskpaneApp host={host} pending={ctx.pendingWrites} holds={ctx.holds} sandboxes={ctx.sandboxes} reports={ctx.reports} restores={ctx.restores} auth={ctx.auth} feed={ctx} settings={settings} onSaveSettings={async (s) => setSettings(await ctx.saveSettings(s))} />;
}

Office.onReady(async () => {
  const ctx = getAddinContext();
  // Idempotent: the functions bundle may have started the writeback handler already.
  void ctx.start().catch((err: unknown) => console.error("quantatom: the add-in runtime did not start", err));
  const settings = await ctx.getSettings();
  const el = document.getElementById("root") ?? document.body.appendChild(document.createElement("div"));
  createRoot(el).render(<Root ctx={ctx} host={createOfficeHost(ctx.formulaCells)} initial={settings} />);
});
