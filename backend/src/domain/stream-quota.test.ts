import { DomainError } from "./errors";
import { StreamQuota } from "./stream-quota";

describe("StreamQuota", () => {
  it("lets each user hold up to the limit, refuses one more with resource_exhausted, and frees a slot once per release", () => {
    const q = new StreamQuota(2);
    const a1 = q.acquire("ann");
    const a2 = q.acquire("ann");
    const b1 = q.acquire("bob");
    const err = (() => {
      try {
        q.acquire("ann");
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: "resource_exhausted", message: "ann has 2 WatchCells streams open; the limit is 2 per user (QATOM_MAX_STREAMS_PER_USER): close one first" });
    a1();
    a1();
    expect(q.count("ann")).toBe(1);
    const a3 = q.acquire("ann");
    expect(() => q.acquire("ann")).toThrow(DomainError);
    for (const r of [a2, a3, b1]) r();
    expect([q.count("ann"), q.count("bob")]).toEqual([0, 0]);
  });
});
