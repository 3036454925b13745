/** Connection settings: only the server URL; settings of earlier versions (with a user name) migrate. */
import { storageStandIn } from "../../test/helpers/office-stand-ins";
import { officeHost } from "./host";
import { loadSettings, SETTINGS_KEY, storeSettings } from "./settings";

function host(initial: Record<string, string>, origin = "https://planning.example.com") {
  const storage = storageStandIn(initial);
  return { storage, host: officeHost({ OfficeRuntime: { storage }, location: { origin, protocol: "https:" } }) };
}

describe("connection settings", () => {
  it("default to the origin that served the add-in", async () => {
    expect(await loadSettings(host({}).host)).toEqual({ serverUrl: "https://planning.example.com" });
    expect(await loadSettings(host({ [SETTINGS_KEY]: "{not json" }).host)).toEqual({ serverUrl: "https://planning.example.com" });
  });

  it("migrate settings that carried a user name: the name is dropped, from storage too", async () => {
    const h = host({ [SETTINGS_KEY]: JSON.stringify({ serverUrl: "https://localhost:3000/", userName: "ann" }) });
    expect(await loadSettings(h.host)).toEqual({ serverUrl: "https://localhost:3000" });
    expect(JSON.parse(h.storage.items.get(SETTINGS_KEY)!)).toEqual({ serverUrl: "https://localhost:3000" });
    // an empty URL of old falls back to the default
    const blank = host({ [SETTINGS_KEY]: JSON.stringify({ serverUrl: " ", userName: "" }) });
    expect(await loadSettings(blank.host)).toEqual({ serverUrl: "https://planning.example.com" });
  });

  it("store only the server URL", async () => {
    const h = host({});
    await storeSettings(h.host, { serverUrl: " https://other:3000// " });
    expect(h.storage.items.get(SETTINGS_KEY)).toBe('{"serverUrl":"https://other:3000"}');
  });
});
