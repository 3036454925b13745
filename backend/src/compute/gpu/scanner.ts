/**
 * The device side of the GPU executor: keeps leaf columns and values resident in device memory
 * (values in the fixed-point form of fixed-point.ts), uploads only what changed (rows added; rows
 * whose value changed, scattered into place by the apply kernel), and runs the scan kernel
 * (kernels.ts; in several passes when a scan has more axes than one pass can bind) and the narrow
 * pass (narrow-pass.ts) over them. Runs in the GPU worker thread (worker.ts); everything here is
 * asynchronous, as WebGPU is.
 */
import type {} from "webgpu";
import type { OpenedDevice } from "./device";
import { encodeValue, exponentAbove, magnitudeExponent, scaleFor } from "./fixed-point";
import { narrowShader } from "./narrow-pass";
import { applyShader, type PassShape, SLOT_WORDS, scanPasses, scanShader, WORKGROUP_SIZE } from "./kernels";

/** A leaf-row array as the worker receives it: the data when it is needed, else null (resident). */
type Column = Uint8Array | Uint16Array | Int32Array;

/** One scan, as posted by the executor (executor.ts). */
export interface ScanJob {
  /** Leaf rows `[0, rows)` to scan. */
  rows: number;
  /** Ids naming each axis's member column for residency; the column itself when not yet resident up to `rows`. */
  colIds: number[];
  cols: (Column | null)[];
  /** Id of the value column; the values when not yet resident up to `rows` or when `dirty` is given. */
  valuesId: number;
  values: Float64Array | null;
  /** Rows whose value changed since the last scan of this value column (all of them re-encoded when null and `values` is given). */
  dirty: Int32Array | null;
  tables: Int32Array[];
  /** Accumulator slots (keys) of the scan. */
  slots: number;
}

/** A narrow pass, as posted by the executor: the rows and value column as a scan's, all dimensions' columns, and the packed tables. */
export interface NarrowJob extends Omit<ScanJob, "tables" | "slots"> {
  /** packNarrowTables's output. */
  tables: Int32Array<ArrayBuffer>;
  /** Cells of the pass (accumulator slots). */
  cells: number;
}

/** A scan's result: SLOT_WORDS words per slot (fixed-point sum, then count) and the scale 2^-f of the sums. */
export interface ScanResult {
  words: Uint32Array;
  f: number;
}

/** A column in device memory: one buffer per segment of `segRows` rows. */
interface Resident {
  buffers: GPUBuffer[];
  /** Rows uploaded. */
  rows: number;
  /** Capacity in rows of each segment's buffer. */
  caps: number[];
}

/** The value column in device memory, with its fixed-point exponent (|v| < 2^e for every value). */
interface ResidentValues extends Resident {
  e: number;
}

/** The resident columns and the scan kernel of one device. */
export class GpuScanner {
  readonly segRows: number;
  private readonly cols = new Map<number, Resident>();
  private readonly values = new Map<number, ResidentValues>();
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  /** All dimensions' columns of a store (by its value column's id), packed for the narrow pass. */
  private readonly packed = new Map<number, { chunks: GPUBuffer[]; rows: number; dims: number }>();
  private keys: GPUBuffer | null = null;
  /** Changed values to scatter into a resident value column before the next scan's passes. */
  private pendingApply: { changes: Uint32Array<ArrayBuffer>; count: number; target: Resident } | null = null;
  private acc: GPUBuffer | null = null;
  private readback: GPUBuffer | null = null;
  private tabs: GPUBuffer | null = null;
  /** One uniform buffer per pass of each segment, reused. */
  private readonly uniforms: GPUBuffer[] = [];
  /** Buffers no longer used, destroyed at the start of the next scan (no queued work uses them then). */
  private retired: GPUBuffer[] = [];

  /**
   * @param maxSegmentRows most rows per segment (one dispatch each); by default what the device's
   *   largest storage binding holds of the 16-byte values, within one dispatch's 65,535 workgroups.
   */
  constructor(
    private readonly opened: OpenedDevice,
    maxSegmentRows = Number.POSITIVE_INFINITY,
  ) {
    const byBinding = Math.floor(opened.maxBinding / 16 / WORKGROUP_SIZE) * WORKGROUP_SIZE;
    const wanted = Math.floor(maxSegmentRows / WORKGROUP_SIZE) * WORKGROUP_SIZE;
    this.segRows = Math.max(WORKGROUP_SIZE, Math.min(byBinding, 65_535 * WORKGROUP_SIZE, wanted));
  }

  private get device(): GPUDevice {
    return this.opened.device;
  }

  /** Drops a resident column or value column (its store is gone). */
  free(id: number): void {
    const packed = this.packed.get(id);
    if (packed) {
      this.retired.push(...packed.chunks);
      this.packed.delete(id);
    }
    for (const map of [this.cols, this.values] as Map<number, Resident>[]) {
      const r = map.get(id);
      if (!r) continue;
      this.retired.push(...r.buffers);
      map.delete(id);
    }
  }

  /**
   * Runs `job`: makes its columns resident up to `rows`, then sums every row into the slot its key
   * names. Errors (a job naming a column that is not resident, an infinite value) are thrown.
   */
  async scan(job: ScanJob): Promise<ScanResult> {
    this.begin();
    const passes = scanPasses(job.colIds.length);
    const cols = job.colIds.map((id, k) => this.residentColumn(id, job.cols[k], job.rows));
    const values = this.residentValues(job);
    const device = this.device;

    const offsets: number[] = [];
    let total = 0;
    for (const t of job.tables) {
      offsets.push(total);
      total += t.length;
    }
    const tabs = this.tablesBuffer(Math.max(16, total * 4));
    const flat = new Int32Array(total);
    for (let k = 0; k < job.tables.length; k++) flat.set(job.tables[k], offsets[k]);
    device.queue.writeBuffer(tabs, 0, flat);

    const keys = passes.length > 1 ? this.keysBuffer(Math.min(job.rows, this.segRows) * 4) : null;
    return this.run(job.slots, values, (encoder, acc, accBytes, uniformIndex) => {
      for (let s = 0, lo = 0; lo < job.rows; s++, lo += this.segRows) {
        const n = Math.min(this.segRows, job.rows - lo);
        let first = 0;
        for (const shape of passes) {
          const params = new Uint32Array(12);
          params[0] = n;
          for (let k = 0; k < shape.axes; k++) params[4 + k] = offsets[first + k];
          const entries: GPUBindGroupEntry[] = [{ binding: 1, resource: { buffer: tabs } }];
          if (keys) entries.push({ binding: 2, resource: { buffer: keys } });
          if (!shape.keyOut) {
            entries.push({ binding: 3, resource: { buffer: values.buffers[s] } }, { binding: 4, resource: { buffer: acc, size: accBytes } });
          }
          for (let k = 0; k < shape.axes; k++) entries.push({ binding: 5 + k, resource: { buffer: cols[first + k].buffers[s] } });
          this.dispatch(encoder, this.scanPipeline(shape), uniformIndex++, params, entries, n);
          first += shape.axes;
        }
      }
    });
  }

  /** Starts a job: buffers retired by the previous one are destroyed, and no scatter is pending yet. */
  private begin(): void {
    for (const b of this.retired.splice(0)) b.destroy();
    this.pendingApply = null;
  }

  /**
   * Runs a job's passes once its columns are resident: clears an accumulator of `slots` slots,
   * scatters the changed values residentValues left, lets `encode` add the job's passes (uniform
   * buffers from `uniformIndex` on), submits, and reads the accumulator back.
   */
  private async run(
    slots: number,
    values: ResidentValues,
    encode: (encoder: GPUCommandEncoder, acc: GPUBuffer, accBytes: number, uniformIndex: number) => void,
  ): Promise<ScanResult> {
    const accBytes = Math.max(16, slots * SLOT_WORDS * 4);
    const acc = this.accumulator(accBytes);
    const readback = this.readbackBuffer(accBytes);
    const encoder = this.device.createCommandEncoder();
    encoder.clearBuffer(acc, 0, accBytes);
    const apply = this.pendingApply;
    this.pendingApply = null;
    const uniformIndex = apply ? this.encodeApply(encoder, apply, 0) : 0;
    encode(encoder, acc, accBytes, uniformIndex);
    encoder.copyBufferToBuffer(acc, 0, readback, 0, accBytes);
    this.device.queue.submit([encoder.finish()]);
    await readback.mapAsync(GPUMapMode.READ, 0, accBytes);
    const words = new Uint32Array(readback.getMappedRange(0, accBytes).slice(0));
    readback.unmap();
    return { words, f: scaleFor(values.e) };
  }

  /**
   * Encodes one compute pass of `pipeline` over `rows` invocations: `params` written into uniform
   * buffer `uniformIndex` (48 bytes, reused across scans) and bound at 0, `entries` beside it.
   */
  private dispatch(encoder: GPUCommandEncoder, pipeline: GPUComputePipeline, uniformIndex: number, params: Uint32Array<ArrayBuffer>, entries: GPUBindGroupEntry[], rows: number): void {
    const device = this.device;
    this.uniforms[uniformIndex] ??= device.createBuffer({ size: 48, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const uniform = this.uniforms[uniformIndex];
    device.queue.writeBuffer(uniform, 0, params);
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: uniform } }, ...entries] }));
    pass.dispatchWorkgroups(Math.ceil(rows / WORKGROUP_SIZE));
    pass.end();
  }

  /**
   * Rows per chunk of the packed columns: the value segment, halved until a chunk's columns fit one
   * storage binding, in whole workgroups.
   */
  private narrowChunk(dims: number): number {
    let n = this.segRows;
    while (n > WORKGROUP_SIZE && n * dims * 4 > this.opened.maxBinding) n = Math.floor(n / 2 / WORKGROUP_SIZE) * WORKGROUP_SIZE;
    return n;
  }

  /**
   * Runs a narrow pass (narrow-pass.ts) over rows `[0, rows)`: sums and counts per cell in the
   * result's slots (versions are the executor's). The value column and the packed columns are made
   * resident up to `rows` first.
   */
  async narrow(job: NarrowJob): Promise<ScanResult> {
    this.begin();
    const device = this.device;
    const values = this.residentValues(job);
    const nd = job.colIds.length;
    const chunk = this.narrowChunk(nd);
    const packed = this.residentPacked(job, nd, chunk);
    const tabs = this.tablesBuffer(Math.max(16, job.tables.byteLength));
    device.queue.writeBuffer(tabs, 0, job.tables);
    const pipeline = this.pipeline("narrow", narrowShader);
    const perSegment = Math.ceil(this.segRows / chunk);
    return this.run(job.cells, values, (encoder, acc, accBytes, first) => {
      let uniformIndex = first;
      for (let lo = 0, n = 0; lo < job.rows; lo += n) {
        const s = Math.floor(lo / this.segRows);
        n = Math.min(chunk, job.rows - lo, (s + 1) * this.segRows - lo);
        const valuesOffset = (lo - s * this.segRows) * 16;
        this.dispatch(
          encoder,
          pipeline,
          uniformIndex++,
          Uint32Array.of(n, chunk, 0, 0),
          [
            { binding: 1, resource: { buffer: tabs, size: Math.max(16, job.tables.byteLength) } },
            { binding: 2, resource: { buffer: packed.chunks[s * perSegment + (lo - s * this.segRows) / chunk] } },
            { binding: 3, resource: { buffer: values.buffers[s], offset: valuesOffset, size: n * 16 } },
            { binding: 4, resource: { buffer: acc, size: accBytes } },
          ],
          n,
        );
      }
    });
  }

  /**
   * The packed columns of a store up to `rows`: chunks of `chunk` rows (never across a value
   * segment), each holding every dimension's member ids of its rows, dimension-major.
   */
  private residentPacked(job: NarrowJob, nd: number, chunk: number): { chunks: GPUBuffer[]; rows: number; dims: number } {
    let p = this.packed.get(job.valuesId);
    if (!p || p.dims !== nd) {
      p = { chunks: [], rows: 0, dims: nd };
      this.packed.set(job.valuesId, p);
    }
    if (p.rows >= job.rows) return p;
    const cols = job.cols;
    if (cols.some((c) => c === null)) throw new Error(`GPU packed columns of ${job.valuesId} are resident up to row ${p.rows}, not ${job.rows}, and were not sent`);
    const perSegment = Math.ceil(this.segRows / chunk);
    for (let lo = p.rows; lo < job.rows; ) {
      const s = Math.floor(lo / this.segRows);
      const inSeg = lo - s * this.segRows;
      const c = Math.floor(inSeg / chunk);
      const chunkLo = s * this.segRows + c * chunk;
      const hi = Math.min(job.rows, chunkLo + chunk, (s + 1) * this.segRows);
      const index = s * perSegment + c;
      p.chunks[index] ??= this.device.createBuffer({ size: chunk * nd * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      for (let d = 0; d < nd; d++) {
        const ids = Uint32Array.from((cols[d] as Column).subarray(lo, hi));
        this.device.queue.writeBuffer(p.chunks[index], (d * chunk + (lo - chunkLo)) * 4, ids);
      }
      lo = hi;
    }
    p.rows = job.rows;
    return p;
  }

  /**
   * Encodes the apply kernel: each changed row's words written into its segment of the value
   * column (a dispatch per segment and per 65,535 workgroups of changes). Returns the next free
   * uniform buffer index.
   */
  private encodeApply(encoder: GPUCommandEncoder, apply: { changes: Uint32Array<ArrayBuffer>; count: number; target: Resident }, uniformIndex: number): number {
    const device = this.device;
    const changes = device.createBuffer({ size: roundUp(apply.changes.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    device.queue.writeBuffer(changes, 0, apply.changes);
    this.retired.push(changes);
    const pipeline = this.pipeline("apply", applyShader);
    const perDispatch = 65_535 * WORKGROUP_SIZE;
    for (let s = 0; s < apply.target.buffers.length; s++) {
      for (let first = 0; first < apply.count; first += perDispatch) {
        const n = Math.min(perDispatch, apply.count - first);
        const entries = [
          { binding: 1, resource: { buffer: changes } },
          { binding: 2, resource: { buffer: apply.target.buffers[s] } },
        ];
        this.dispatch(encoder, pipeline, uniformIndex++, Uint32Array.of(first, n, s * this.segRows, this.segRows), entries, n);
      }
    }
    return uniformIndex;
  }

  private scanPipeline(shape: PassShape): GPUComputePipeline {
    return this.pipeline(`scan/${shape.axes}/${shape.keyIn}/${shape.keyOut}`, () => scanShader(shape));
  }

  /** The compute pipeline of a shader, compiled on first use and kept under `key`. */
  private pipeline(key: string, code: () => string): GPUComputePipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ code: code() });
      p = this.device.createComputePipeline({ layout: "auto", compute: { module, entryPoint: "main" } });
      this.pipelines.set(key, p);
    }
    return p;
  }

  private keysBuffer(bytes: number): GPUBuffer {
    return this.scratch("keys", bytes, GPUBufferUsage.STORAGE);
  }

  private tablesBuffer(bytes: number): GPUBuffer {
    return this.scratch("tabs", bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST);
  }

  private accumulator(bytes: number): GPUBuffer {
    return this.scratch("acc", bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
  }

  private readbackBuffer(bytes: number): GPUBuffer {
    return this.scratch("readback", bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
  }

  /** A reused scratch buffer of at least `bytes`, replaced by a larger one (the old one retired) when too small. */
  private scratch(name: "keys" | "tabs" | "acc" | "readback", bytes: number, usage: GPUBufferUsageFlags): GPUBuffer {
    const have = this[name];
    if (have && have.size >= bytes) return have;
    if (have) this.retired.push(have);
    const made = this.device.createBuffer({ size: roundUp(bytes), usage });
    this[name] = made;
    return made;
  }

  /** Segment buffers with room for `rows` rows of `rowBytes` each; a segment that grows is reallocated (and must be uploaded again). */
  private ensureCapacity(r: Resident, rows: number, rowBytes: number): number {
    let firstStale = r.rows;
    for (let s = 0, lo = 0; lo < rows; s++, lo += this.segRows) {
      const need = Math.min(this.segRows, rows - lo);
      if (r.caps[s] !== undefined && r.caps[s] >= need) continue;
      const cap = Math.min(this.segRows, roundUp(Math.max(need, 1024)));
      if (r.buffers[s]) this.retired.push(r.buffers[s]);
      r.buffers[s] = this.device.createBuffer({ size: cap * rowBytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
      r.caps[s] = cap;
      firstStale = Math.min(firstStale, lo);
    }
    return firstStale;
  }

  /** Writes rows `[lo, hi)` of `data` (already in device form, `rowBytes` per row) into the segments. */
  private upload(r: Resident, lo: number, hi: number, rowBytes: number, data: (from: number, to: number) => ArrayBufferView): void {
    while (lo < hi) {
      const s = Math.floor(lo / this.segRows);
      const end = Math.min(hi, (s + 1) * this.segRows);
      const view = data(lo, end);
      this.device.queue.writeBuffer(r.buffers[s], (lo - s * this.segRows) * rowBytes, view.buffer, view.byteOffset, view.byteLength);
      lo = end;
    }
  }

  private residentColumn(id: number, col: Column | null, rows: number): Resident {
    let r = this.cols.get(id);
    if (!r) {
      r = { buffers: [], rows: 0, caps: [] };
      this.cols.set(id, r);
    }
    if (r.rows >= rows) return r;
    if (!col) throw new Error(`GPU column ${id} is resident up to row ${r.rows}, not ${rows}, and was not sent`);
    const from = this.ensureCapacity(r, rows, 4);
    this.upload(r, from, rows, 4, (lo, hi) => Uint32Array.from(col.subarray(lo, hi)));
    r.rows = rows;
    return r;
  }

  private residentValues(job: Pick<ScanJob, "valuesId" | "values" | "rows" | "dirty">): ResidentValues {
    let r = this.values.get(job.valuesId);
    const values = job.values;
    if (!r) {
      if (!values) throw new Error(`GPU values ${job.valuesId} are not resident and were not sent`);
      r = { buffers: [], rows: 0, caps: [], e: 0 };
      this.values.set(job.valuesId, r);
    }
    if (!values) {
      if (r.rows < job.rows) throw new Error(`GPU values ${job.valuesId} are resident up to row ${r.rows}, not ${job.rows}`);
      return r;
    }
    let all = r.rows === 0 || job.dirty === null;
    if (!all) {
      // A changed value beyond the column's exponent makes every value take the new scale.
      let max = 0;
      const check = (row: number) => {
        const v = values[row];
        if (v === v && Math.abs(v) > max) max = Math.abs(v);
      };
      for (const row of job.dirty as Int32Array) check(row);
      for (let row = r.rows; row < job.rows; row++) check(row);
      if (max === Number.POSITIVE_INFINITY) throw new RangeError("an infinite leaf value cannot be summed on the GPU");
      if (exponentAbove(max) > r.e) all = true;
    }
    const encode = (lo: number, hi: number): Uint32Array => {
      const out = new Uint32Array((hi - lo) * 4);
      const f = scaleFor((r as ResidentValues).e);
      for (let row = lo; row < hi; row++) encodeValue(values[row], f, out, (row - lo) * 4);
      return out;
    };
    if (all) {
      const e = magnitudeExponent(values, job.rows);
      if (e === null) throw new RangeError("an infinite leaf value cannot be summed on the GPU");
      r.e = e;
      r.rows = 0;
      this.ensureCapacity(r, job.rows, 16);
      this.upload(r, 0, job.rows, 16, encode);
    } else {
      const from = this.ensureCapacity(r, job.rows, 16);
      this.upload(r, from, job.rows, 16, encode);
      // Changed rows below what was resident: their new words, scattered into place on the device
      // by the apply kernel at the start of the scan (one upload, whatever their order).
      const dirty = job.dirty as Int32Array;
      const changes = new Uint32Array(dirty.length * 5);
      const f = scaleFor(r.e);
      let n = 0;
      for (const row of dirty) {
        if (row >= from) continue;
        changes[n * 5] = row;
        encodeValue(values[row], f, changes, n * 5 + 1);
        n++;
      }
      if (n > 0) this.pendingApply = { changes: changes.subarray(0, n * 5), count: n, target: r };
    }
    r.rows = job.rows;
    return r;
  }
}

/** Buffer sizes: a multiple of 256 bytes, at least doubling steps for growth. */
function roundUp(n: number): number {
  let p = 256;
  while (p < n) p *= 2;
  return p;
}

