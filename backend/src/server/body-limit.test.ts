import { Code, ConnectError } from "@connectrpc/connect";
import { bodyLimitMessage, declaredTooLarge, limitBody } from "./body-limit";

describe("the request body limit", () => {
  it("refuses a declared Content-Length over the limit at once, naming it", () => {
    expect(declaredTooLarge(new Headers({ "content-length": "1001" }), 1000)).toEqual({
      status: 429,
      body: { code: "resource_exhausted", message: "the request body has 1001 bytes; more than the limit of 1000 bytes (QATOM_MAX_BODY_BYTES)" },
    });
    expect(declaredTooLarge(new Headers({ "content-length": "1000" }), 1000)).toBeNull();
    expect(declaredTooLarge(new Headers(), 1000)).toBeNull();
    expect(declaredTooLarge(new Headers({ "content-length": "x" }), 1000)).toBeNull();
  });

  it("passes a body on chunk by chunk, and fails with resource_exhausted before handing on the chunk that passes the limit", async () => {
    let pulled = 0;
    async function* source() {
      for (let i = 0; i < 10; i++) {
        pulled++;
        yield new Uint8Array(300);
      }
    }
    const seen: number[] = [];
    const err = await (async () => {
      for await (const chunk of limitBody(source(), 1000)) seen.push(chunk.byteLength);
    })().catch((e: unknown) => e);
    expect(seen).toEqual([300, 300, 300]);
    expect(pulled).toBe(4);
    expect(err).toBeInstanceOf(ConnectError);
    expect(err).toMatchObject({ code: Code.ResourceExhausted, rawMessage: bodyLimitMessage(1000) });
    expect(bodyLimitMessage(1000)).toBe("the request body is larger than the limit of 1000 bytes (QATOM_MAX_BODY_BYTES)");
    const all: number[] = [];
    for await (const chunk of limitBody(source(), 3000)) all.push(chunk.byteLength);
    expect(all).toHaveLength(10);
  });
});
