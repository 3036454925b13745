/**
 * Connection settings (server URL, user name), kept in the runtime's storage under one JSON key,
 * the same key and shape the task pane uses, so either side's change is seen by the other.
 */
import type { ConnectionSettings } from "./contracts";
import type { Host } from "./host";

/** Storage key: JSON `{ "serverUrl": ..., "userName": ... }`. */
export const SETTINGS_KEY = "quantatom.connection";

/** Where the backend is when nothing is configured and the page has no http(s) origin. */
export const DEFAULT_SERVER_URL = "https://localhost:3000";

/**
 * The defaults: the origin that served the add-in (the backend serves it), and no user name
 * (the backend then records `anonymous`).
 */
export function defaultSettings(host: Host): ConnectionSettings {
  return { serverUrl: host.pageOrigin() ?? DEFAULT_SERVER_URL, userName: "" };
}

/** Trims the URL's trailing slashes and the name's spaces. */
export function normalizeSettings(s: ConnectionSettings): ConnectionSettings {
  return { serverUrl: s.serverUrl.trim().replace(/\/+$/, ""), userName: s.userName.trim() };
}

/** Reads the settings from storage, falling back to the defaults for anything missing or unreadable. */
export async function loadSettings(host: Host): Promise<ConnectionSettings> {
  const defaults = defaultSettings(host);
  let raw: string | null = null;
  try {
    raw = (await host.storage?.getItem(SETTINGS_KEY)) ?? null;
  } catch {
    // storage unavailable: defaults
  }
  if (!raw) return normalizeSettings(defaults);
  try {
    const s = JSON.parse(raw) as Partial<ConnectionSettings>;
    return normalizeSettings({
      serverUrl: typeof s.serverUrl === "string" && s.serverUrl.trim() ? s.serverUrl : defaults.serverUrl,
      userName: typeof s.userName === "string" ? s.userName : defaults.userName,
    });
  } catch {
    return normalizeSettings(defaults);
  }
}

/** Writes the settings to storage (when there is one). */
export async function storeSettings(host: Host, s: ConnectionSettings): Promise<void> {
  await host.storage?.setItem(SETTINGS_KEY, JSON.stringify(s));
}
