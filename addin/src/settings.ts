/**
 * Connection settings (the server URL), kept in the runtime's storage under one JSON key, the same
 * key and shape the task pane uses, so either side's change is seen by the other. Who the user is
 * is not a setting: it comes from signing in (addin/src/auth/).
 *
 * Settings stored by earlier versions carried a `userName` (sent as `X-Quantatom-User` before
 * sign-in existed): it is ignored, and removed from storage the first time the settings are read.
 */
import type { ConnectionSettings } from "./contracts";
import type { Host } from "./host";

/** Storage key: JSON `{ "serverUrl": ... }`. */
export const SETTINGS_KEY = "quantatom.connection";

/** Where the backend is when nothing is configured and the page has no http(s) origin. */
export const DEFAULT_SERVER_URL = "https://localhost:3000";

/** The defaults: the origin that served the add-in (the backend serves it). */
export function defaultSettings(host: Host): ConnectionSettings {
  return { serverUrl: host.pageOrigin() ?? DEFAULT_SERVER_URL };
}

/** Trims the URL and its trailing slashes. */
export function normalizeSettings(s: ConnectionSettings): ConnectionSettings {
  return { serverUrl: s.serverUrl.trim().replace(/\/+$/, "") };
}

/**
 * Reads the settings from storage, falling back to the defaults for anything missing or unreadable;
 * settings of an earlier version are rewritten without what is no longer a setting (`userName`).
 */
export async function loadSettings(host: Host): Promise<ConnectionSettings> {
  const defaults = defaultSettings(host);
  let raw: string | null = null;
  try {
    raw = (await host.storage?.getItem(SETTINGS_KEY)) ?? null;
  } catch {
    // storage unavailable: defaults
  }
  if (!raw) return normalizeSettings(defaults);
  let stored: Record<string, unknown>;
  try {
    const parsed = JSON.parse(raw) as unknown;
    if (typeof parsed !== "object" || parsed === null) return normalizeSettings(defaults);
    stored = parsed as Record<string, unknown>;
  } catch {
    return normalizeSettings(defaults);
  }
  const settings = normalizeSettings({ serverUrl: typeof stored.serverUrl === "string" && stored.serverUrl.trim() ? stored.serverUrl : defaults.serverUrl });
  if ("userName" in stored) {
    try {
      await storeSettings(host, settings);
    } catch {
      // read-only storage: the old key stays, and is ignored again next time
    }
  }
  return settings;
}

/** Writes the settings to storage (when there is one). */
export async function storeSettings(host: Host, s: ConnectionSettings): Promise<void> {
  await host.storage?.setItem(SETTINGS_KEY, JSON.stringify(normalizeSettings(s)));
}
