/**
 * Histograms aggregated in place, one row per attribute combination, for the
 * exporters: a release adds its duration to its row (a count, a sum, a min, a
 * max and one bucket count) and allocates nothing, and the metrics library is
 * handed the rows only when it collects or scrapes. Recording each request
 * through the libraries instead costs microseconds per request (they look up
 * the label or attribute set on every call).
 *
 * Every number of a row lives in one `Float64Array`, so counts stay exact up
 * to 2^53. A row is added once per new combination (the only time the table
 * may allocate: it doubles when full).
 */
export class HistogramTable {
  readonly #bounds: Float64Array;
  /** Numbers per row: count, sum, min, max, then one count per bucket (the last one above every bound). */
  readonly #stride: number;
  #data: Float64Array;
  #rows = 0;

  /** `bounds`: the buckets' upper bounds, ascending; a value equal to a bound falls in that bound's bucket. */
  constructor(bounds: readonly number[]) {
    this.#bounds = Float64Array.from(bounds);
    this.#stride = ROW_HEADER + bounds.length + 1;
    this.#data = new Float64Array(this.#stride * 8);
  }

  /** How many rows were added. */
  get rows(): number {
    return this.#rows;
  }

  /** Adds an empty row and returns its index. */
  addRow(): number {
    const row = this.#rows;
    if ((row + 1) * this.#stride > this.#data.length) {
      const grown = new Float64Array(this.#data.length * 2);
      grown.set(this.#data);
      this.#data = grown;
    }
    this.#rows++;
    this.#clear(row);
    return row;
  }

  /** Adds one value to a row: the whole per-request cost of an exporter's histogram. */
  record(row: number, value: number): void {
    const data = this.#data;
    const at = row * this.#stride;
    data[at]! += 1;
    data[at + 1]! += value;
    if (value < data[at + 2]!) data[at + 2] = value;
    if (value > data[at + 3]!) data[at + 3] = value;
    data[at + ROW_HEADER + bucketOf(this.#bounds, value)]! += 1;
  }

  count(row: number): number {
    return this.#data[row * this.#stride]!;
  }

  sum(row: number): number {
    return this.#data[row * this.#stride + 1]!;
  }

  /** The smallest value recorded in the row; `Infinity` while it is empty. */
  min(row: number): number {
    return this.#data[row * this.#stride + 2]!;
  }

  /** The largest value recorded in the row; `-Infinity` while it is empty. */
  max(row: number): number {
    return this.#data[row * this.#stride + 3]!;
  }

  /** How many values fell in each bucket (not cumulative), the last entry counting those above every bound. */
  bucketCounts(row: number): number[] {
    const at = row * this.#stride + ROW_HEADER;
    return Array.from(this.#data.subarray(at, at + this.#bounds.length + 1));
  }

  /** Empties every row; the rows themselves stay, so their indexes stay valid. */
  reset(): void {
    for (let row = 0; row < this.#rows; row++) this.#clear(row);
  }

  #clear(row: number): void {
    const at = row * this.#stride;
    this.#data.fill(0, at, at + this.#stride);
    this.#data[at + 2] = Infinity;
    this.#data[at + 3] = -Infinity;
  }
}

const ROW_HEADER = 4;

/** The bucket of `value`: the first bound it does not exceed (binary search), or one past the last bound. */
function bucketOf(bounds: Float64Array, value: number): number {
  let low = 0;
  let high = bounds.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (value <= bounds[mid]!) high = mid;
    else low = mid + 1;
  }
  return low;
}
