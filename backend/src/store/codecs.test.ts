/**
 * keyOrder (sql/codecs.ts), the order a commit writes and locks cells in: the same order as a
 * comparison sort by coordinates, duplicates kept next to each other, also for coordinates the
 * radix sort does not take.
 */
import { mulberry32 } from "../../../bench/rng";
import { compareCoords, keyOrder } from "./sql/codecs";

const bySort = (writes: { coords: number[] }[]) => Array.from(writes.keys()).sort((a, b) => compareCoords(writes[a].coords, writes[b].coords) || a - b);

describe("keyOrder", () => {
  it("orders random coordinates as a comparison sort does, stably", () => {
    const rand = mulberry32(11);
    for (const dims of [1, 3, 6]) {
      const writes = Array.from({ length: 5_000 }, () => ({ coords: Array.from({ length: dims }, () => Math.floor(rand() * (dims === 1 ? 50 : 9))) }));
      expect(keyOrder(writes, dims)).toEqual(bySort(writes));
    }
  });

  it("takes a comparison sort for coordinates beyond the radix range", () => {
    const writes = [{ coords: [2 ** 25, 1] }, { coords: [3, 2] }, { coords: [3, 1] }];
    expect(keyOrder(writes, 2)).toEqual([2, 1, 0]);
  });
});
