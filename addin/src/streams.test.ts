/** The streams' reconnect backoff (pure). */
import { backoffDelay } from "./streams";

describe("stream reconnects", () => {
  it("backs off exponentially with jitter, capped", () => {
    const o = { backoffBaseMs: 1000, backoffMaxMs: 30_000 };
    expect(backoffDelay(0, { ...o, random: () => 0 })).toBe(500);
    expect(backoffDelay(0, { ...o, random: () => 0.999 })).toBeCloseTo(1000, -1);
    expect(backoffDelay(3, { ...o, random: () => 0 })).toBe(4000);
    expect(backoffDelay(50, { ...o, random: () => 0.999 })).toBeLessThanOrEqual(30_000);
    expect(backoffDelay(50, { ...o, random: () => 0 })).toBe(15_000);
  });
});
