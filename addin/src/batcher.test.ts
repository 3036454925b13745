/** One GetCells per recalculation wave: dedupe and split of a wave (pure, over a stand-in fetch). */
import { create } from "@bufbuild/protobuf";
import { type Cell, CellSchema } from "../../proto/gen/quantatom/v1/lattice_pb";
import { WaveBatcher } from "./batcher";

describe("the wave batcher", () => {
  it("dedupes a wave and splits it only above the cell limit", async () => {
    const sent: string[][][] = [];
    const batcher = new WaveBatcher(
      async (_cube, cells) => {
        sent.push(cells);
        return cells.map((m): Cell => create(CellSchema, { value: Number(m[0]), version: 1n }));
      },
      5,
      3,
    );
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => batcher.get("c", "C", String(i % 7), [String(i % 7)])));
    expect(sent.map((c) => c.length)).toEqual([3, 3, 1]);
    expect(answers.map((a) => ("cell" in a ? a.cell.value : null))).toEqual(Array.from({ length: 20 }, (_, i) => i % 7));
  });
});
