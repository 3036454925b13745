/** The connection line's text (streamsLine): live streams by protocol, a reconnect counted down, offline. */
import type { ConnectionState } from "../../addin/src/contracts";
import { streamsLine } from "./format";

describe("the streams' line", () => {
  const url = "https://localhost:3000";
  const connected = (streams: number, protocol?: string): ConnectionState => ({ status: "connected", serverUrl: url, streams, protocol });

  it("counts the live streams and names the protocol", () => {
    expect(streamsLine(connected(10, "h2"), 0)).toEqual({ ok: true, text: "Live: 10 streams over one HTTP/2 connection" });
    expect(streamsLine(connected(1, "h2"), 0)).toEqual({ ok: true, text: "Live: 1 stream over one HTTP/2 connection" });
    expect(streamsLine(connected(3), 0)).toEqual({ ok: true, text: "Live: 3 streams" });
    expect(streamsLine(connected(2, "http/1.1"), 0)).toEqual({ ok: true, text: "Live: 2 streams over HTTP/1.1" });
    expect(streamsLine(connected(6, "http/1.1"), 0)).toEqual({
      ok: false,
      text: "Live: 6 streams over HTTP/1.1, which hold the browser's 6 connections to the server: reads and writes wait",
    });
  });

  it("says nothing without streams or before the first answer", () => {
    expect(streamsLine(connected(0, "h2"), 0)).toBeNull();
    expect(streamsLine({ status: "unknown", serverUrl: url }, 0)).toBeNull();
  });

  it("counts a reconnect down in whole seconds, and says why it is offline when no retry is pending", () => {
    const down: ConnectionState = { status: "disconnected", serverUrl: url, message: `Not connected to ${url}` };
    expect(streamsLine({ ...down, retryAt: 10_000 }, 2_001)).toEqual({ ok: false, text: "Reconnecting", seconds: 8 });
    expect(streamsLine({ ...down, retryAt: 10_000 }, 12_000)).toEqual({ ok: false, text: "Reconnecting", seconds: 0 });
    expect(streamsLine(down, 0)).toEqual({ ok: false, text: `Offline: Not connected to ${url}` });
  });
});
