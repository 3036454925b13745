import os from "node:os";
import { readConfig } from "./config";

describe("readConfig: limits and timeouts", () => {
  it("has documented defaults", () => {
    expect(readConfig({})).toMatchObject({
      maxBodyBytes: 32 * 1024 * 1024,
      maxStreamsPerUser: 64,
      headersTimeoutMs: 10_000,
      requestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 5_000,
      calcWorkers: os.availableParallelism(),
    });
  });

  it("reads the variables, and refuses malformed or contradictory ones", () => {
    const env = {
      QATOM_MAX_BODY_BYTES: "1024",
      QATOM_MAX_STREAMS_PER_USER: "2",
      QATOM_HEADERS_TIMEOUT_MS: "500",
      QATOM_REQUEST_TIMEOUT_MS: "700",
      QATOM_KEEP_ALIVE_TIMEOUT_MS: "300",
    };
    expect(readConfig(env)).toMatchObject({ maxBodyBytes: 1024, maxStreamsPerUser: 2, headersTimeoutMs: 500, requestTimeoutMs: 700, keepAliveTimeoutMs: 300 });
    expect(readConfig({ QATOM_HEADERS_TIMEOUT_MS: "90000" }).requestTimeoutMs).toBe(90_000);
    expect(() => readConfig({ QATOM_MAX_BODY_BYTES: "32MB" })).toThrow(/QATOM_MAX_BODY_BYTES must be a positive integer, got "32MB"/);
    expect(() => readConfig({ QATOM_MAX_STREAMS_PER_USER: "0" })).toThrow(/QATOM_MAX_STREAMS_PER_USER/);
    expect(readConfig({ QATOM_CALC_WORKERS: "1" }).calcWorkers).toBe(1);
    expect([readConfig({}).snapshots, readConfig({ QATOM_SNAPSHOTS: "off" }).snapshots, readConfig({ QATOM_SNAPSHOTS: "On" }).snapshots]).toEqual([true, false, true]);
    expect(() => readConfig({ QATOM_SNAPSHOTS: "sometimes" })).toThrow(/QATOM_SNAPSHOTS must be on or off, got "sometimes"/);
    expect(() => readConfig({ QATOM_CALC_WORKERS: "0" })).toThrow(/QATOM_CALC_WORKERS must be a positive integer, got "0"/);
    expect(readConfig({}).gpu).toBe("auto");
    expect(readConfig({ QATOM_GPU: "OFF" }).gpu).toBe("off");
    expect(() => readConfig({ QATOM_GPU: "yes" })).toThrow('QATOM_GPU must be auto, on or off, got "yes"');
    expect(() => readConfig({ QATOM_HEADERS_TIMEOUT_MS: "5000", QATOM_REQUEST_TIMEOUT_MS: "1000" })).toThrow(
      "QATOM_REQUEST_TIMEOUT_MS (1000) must be at least QATOM_HEADERS_TIMEOUT_MS (5000)",
    );
  });
});

describe("readConfig: QATOM_ADMINS", () => {
  it("lists the server's admins, comma-separated and trimmed; none by default", () => {
    expect(readConfig({}).admins).toEqual([]);
    expect(readConfig({ QATOM_ADMINS: " ada, root ,," }).admins).toEqual(["ada", "root"]);
  });
});
