/**
 * The fact loader's index from a cell's numeric key (its tuple ids in mixed radix, a safe integer)
 * to the cell's number: open addressing with linear probing over two typed arrays. A fact table of
 * ten million rows makes about as many cells; a `Map` of that many number keys cost about half of
 * the loader's time (object entries, rehashing, garbage), this one a fraction.
 */
/** Share of the slots filled before the table doubles (linear probing stays short below it). */
const MAX_LOAD = 0.75;

/**
 * Keys (integers in `[0, 2^53)`) to cell numbers, grown by doubling.
 * @example
 * const index = new CellKeyIndex(1000);
 * index.getOrAdd(42, 0); // -1: added as cell 0
 * index.getOrAdd(42, 1); // 0
 */
export class CellKeyIndex {
  private keys: Float64Array;
  private cells: Int32Array;
  private mask: number;
  private size = 0;

  /** @param expected keys expected (the table grows past it, doubling). */
  constructor(expected = 1 << 12) {
    let capacity = 1 << 4;
    while (capacity * MAX_LOAD < expected) capacity *= 2;
    this.keys = new Float64Array(capacity).fill(-1);
    this.cells = new Int32Array(capacity);
    this.mask = capacity - 1;
  }

  /** Keys held. */
  get count(): number {
    return this.size;
  }

  /**
   * The cell of `key` (an integer in `[0, 2^53)`), or -1 after recording `cell` as its cell when
   * the key was not there.
   */
  getOrAdd(key: number, cell: number): number {
    if (this.size + 1 > this.keys.length * MAX_LOAD) this.grow();
    const { keys, mask } = this;
    let i = slot(key) & mask;
    for (;;) {
      const k = keys[i];
      if (k === key) return this.cells[i];
      if (k === -1) {
        keys[i] = key;
        this.cells[i] = cell;
        this.size++;
        return -1;
      }
      i = (i + 1) & mask;
    }
  }

  private grow(): void {
    const oldKeys = this.keys;
    const oldCells = this.cells;
    const capacity = oldKeys.length * 2;
    this.keys = new Float64Array(capacity).fill(-1);
    this.cells = new Int32Array(capacity);
    this.mask = capacity - 1;
    const { keys, cells, mask } = this;
    for (let j = 0; j < oldKeys.length; j++) {
      const key = oldKeys[j];
      if (key === -1) continue;
      let i = slot(key) & mask;
      while (keys[i] !== -1) i = (i + 1) & mask;
      keys[i] = key;
      cells[i] = oldCells[j];
    }
  }
}

/** A well-mixed 32-bit hash of a safe integer (its low and high 32 bits, murmur3's finalizer). */
function slot(key: number): number {
  const lo = key >>> 0;
  const hi = (key / 4294967296) >>> 0;
  let h = Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h;
}
