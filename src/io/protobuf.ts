// A minimal protocol-buffers wire-format reader for untrusted bytes.
//
// Every read is checked against the end of the enclosing message: a truncated file, a length that
// runs past its parent, a varint longer than 10 bytes or an integer beyond ±2^53 is an
// INVALID_MODEL error that names the byte offset and the field being read. Nothing is allocated
// from a declared length before that length has been checked against the bytes that are really
// there, so a field claiming 2^40 bytes fails at once. The reader is a loop over fields (no
// recursion of its own); the schema decoders built on it nest one call per message level and stop
// at MAX_DEPTH.

import { SimdnnError } from '../errors.js';

/** Wire types of the protobuf encoding. */
export const WIRE = { varint: 0, fixed64: 1, bytes: 2, startGroup: 3, endGroup: 4, fixed32: 5 } as const;

/** Deepest message nesting the schema decoders accept. */
export const MAX_DEPTH = 32;

const TWO32 = 4294967296;
const MAX_SAFE_HI = 0x1fffff; // high word of 2^53 − 1

export function invalid(message: string): SimdnnError {
  return new SimdnnError('INVALID_MODEL', message);
}

/**
 * A cursor over one message: bytes [start, end) of `buf`. `where` names the message in error
 * messages (for example `ModelProto.graph.node[3]`).
 */
export class ProtoReader {
  pos: number;
  readonly end: number;
  /** The field number being read (for error messages). */
  field = 0;

  constructor(
    readonly buf: Uint8Array,
    readonly where: string,
    start = 0,
    end = buf.length,
    readonly depth = 0,
  ) {
    if (depth > MAX_DEPTH) throw invalid(`${where}: messages nested deeper than ${MAX_DEPTH} levels (at byte ${start})`);
    this.pos = start;
    this.end = end;
  }

  /** True when every byte of the message has been read. */
  done(): boolean {
    return this.pos >= this.end;
  }

  fail(what: string, at = this.pos): SimdnnError {
    return invalid(`${this.where}${this.field ? ` field ${this.field}` : ''} at byte ${at}: ${what}`);
  }

  /** Next field key: sets `field` and returns the wire type. */
  key(): number {
    const at = this.pos;
    const k = this.#varintRaw();
    if (k.hi !== 0) throw this.fail(`field key ${k.hi * TWO32 + k.lo} out of range`, at);
    const field = k.lo >>> 3;
    const wire = k.lo & 7;
    if (field === 0) throw this.fail('field number 0 is not allowed (corrupt or not a protobuf)', at);
    if (wire === 6 || wire === 7) throw this.fail(`unknown wire type ${wire} (corrupt or not a protobuf)`, at);
    this.field = field;
    return wire;
  }

  /** A varint as two 32-bit halves. At most 10 bytes, all inside the message. */
  #varintRaw(): { lo: number; hi: number } {
    const buf = this.buf;
    const start = this.pos;
    let lo = 0;
    let hi = 0;
    let pos = start;
    for (let i = 0; i < 10; i++) {
      if (pos >= this.end) throw this.fail(i === 0 ? 'unexpected end of message' : 'varint runs past the end of the message', start);
      const b = buf[pos++]!;
      const bits = b & 0x7f;
      if (i < 4) lo |= bits << (7 * i);
      else if (i === 4) {
        lo |= (bits & 0x0f) << 28;
        hi = bits >>> 4;
      } else hi |= bits << (7 * (i - 5) + 3); // bits past 64 fall off, as protobuf specifies
      if ((b & 0x80) === 0) {
        this.pos = pos;
        return { lo: lo >>> 0, hi: hi >>> 0 };
      }
    }
    throw this.fail('varint longer than 10 bytes', start);
  }

  /** An int64/int32/enum/bool varint as a number. Negative values (10-byte two's complement) are
   *  decoded; magnitudes past 2^53 are an error rather than a silent rounding. */
  int(): number {
    const at = this.pos;
    const { lo, hi } = this.#varintRaw();
    if (hi & 0x80000000) {
      // Negative: two's complement of the 64-bit value.
      const nlo = (~lo >>> 0) + 1;
      const nhi = (~hi >>> 0) + (nlo > 0xffffffff ? 1 : 0);
      if (nhi > MAX_SAFE_HI) throw this.fail('integer below −2^53', at);
      return -((nhi >>> 0) * TWO32 + (nlo >>> 0));
    }
    if (hi > MAX_SAFE_HI) throw this.fail('integer above 2^53', at);
    return hi * TWO32 + lo;
  }

  /** An int64 varint saturated to ±2^53 (Slice ends and similar use INT64_MAX as "to the end"). */
  intSaturating(): number {
    const { lo, hi } = this.#varintRaw();
    if (hi & 0x80000000) {
      const nlo = (~lo >>> 0) + 1;
      const nhi = (~hi >>> 0) + (nlo > 0xffffffff ? 1 : 0);
      return nhi > MAX_SAFE_HI ? -Number.MAX_SAFE_INTEGER : -((nhi >>> 0) * TWO32 + (nlo >>> 0));
    }
    return hi > MAX_SAFE_HI ? Number.MAX_SAFE_INTEGER : hi * TWO32 + lo;
  }

  /** An unsigned varint (a length or a uint64) as a number, at most 2^53 − 1. */
  uint(): number {
    const at = this.pos;
    const { lo, hi } = this.#varintRaw();
    if (hi > MAX_SAFE_HI) throw this.fail('integer above 2^53', at);
    return hi * TWO32 + lo;
  }

  /** The extent [start, end) of a length-delimited field, checked against the message. */
  span(): [number, number] {
    const at = this.pos;
    const len = this.uint();
    const left = this.end - this.pos;
    if (len > left) throw this.fail(`length ${len} exceeds the ${left} bytes left in the message`, at);
    const start = this.pos;
    this.pos += len;
    return [start, this.pos];
  }

  /** A length-delimited field as a view (no copy). */
  bytes(): Uint8Array {
    const [s, e] = this.span();
    return this.buf.subarray(s, e);
  }

  /** A length-delimited field as UTF-8 text. */
  string(): string {
    const [s, e] = this.span();
    return decodeUtf8(this.buf, s, e);
  }

  /** A nested message as its own reader. */
  message(name: string): ProtoReader {
    const [s, e] = this.span();
    return new ProtoReader(this.buf, `${this.where}.${name}`, s, e, this.depth + 1);
  }

  #need(n: number): number {
    const at = this.pos;
    if (this.end - at < n) throw this.fail(`${n}-byte value runs past the end of the message`, at);
    this.pos += n;
    return at;
  }

  /** A fixed32 field as float32. */
  float(): number {
    const at = this.#need(4);
    return view(this.buf).getFloat32(at, true);
  }

  /** A fixed64 field as float64. */
  double(): number {
    const at = this.#need(8);
    return view(this.buf).getFloat64(at, true);
  }

  /** Skip a field of the given wire type (groups are skipped by a counting loop, not recursion). */
  skip(wire: number): void {
    switch (wire) {
      case WIRE.varint: this.#varintRaw(); return;
      case WIRE.fixed64: this.#need(8); return;
      case WIRE.bytes: this.span(); return;
      case WIRE.fixed32: this.#need(4); return;
      case WIRE.startGroup: {
        let open = 1;
        while (open > 0) {
          if (open > MAX_DEPTH) throw this.fail(`groups nested deeper than ${MAX_DEPTH} levels`);
          const w = this.key();
          if (w === WIRE.startGroup) open++;
          else if (w === WIRE.endGroup) open--;
          else this.skip(w);
        }
        return;
      }
      default:
        throw this.fail(`unexpected end-group marker`);
    }
  }

  /** Repeated float: packed (wire type 2) or one fixed32 value. Appends to `out` parts. */
  floats(wire: number, out: Float32Array[]): void {
    if (wire === WIRE.fixed32) {
      out.push(Float32Array.of(this.float()));
      return;
    }
    this.expect(wire, WIRE.bytes, 'packed float');
    const [s, e] = this.span();
    if ((e - s) % 4 !== 0) throw this.fail(`packed float field of ${e - s} bytes is not a multiple of 4`, s);
    out.push(readF32(this.buf, s, (e - s) / 4));
  }

  /** Repeated double: packed or one fixed64 value. */
  doubles(wire: number, out: Float64Array[]): void {
    if (wire === WIRE.fixed64) {
      out.push(Float64Array.of(this.double()));
      return;
    }
    this.expect(wire, WIRE.bytes, 'packed double');
    const [s, e] = this.span();
    if ((e - s) % 8 !== 0) throw this.fail(`packed double field of ${e - s} bytes is not a multiple of 8`, s);
    const n = (e - s) / 8;
    const out64 = new Float64Array(n);
    const dv = view(this.buf);
    for (let i = 0; i < n; i++) out64[i] = dv.getFloat64(s + 8 * i, true);
    out.push(out64);
  }

  /** Repeated int32/int64/enum: packed or one varint, saturated to ±2^53. Pushes onto `out`. */
  ints(wire: number, out: number[]): void {
    if (wire === WIRE.varint) {
      out.push(this.intSaturating());
      return;
    }
    this.expect(wire, WIRE.bytes, 'packed integer');
    const [s, e] = this.span();
    // Decode the packed run with a reader bounded to it (one byte at least per value, so the
    // array never outgrows the bytes).
    const sub = new ProtoReader(this.buf, this.where, s, e, this.depth);
    sub.field = this.field;
    while (!sub.done()) out.push(sub.intSaturating());
  }

  expect(wire: number, want: number, what: string): void {
    if (wire !== want) throw this.fail(`${what} field has wire type ${wire}, expected ${want}`);
  }
}

const views = new WeakMap<Uint8Array, DataView>();
/** A DataView over the same bytes as `buf` (offsets relative to `buf`), one per buffer. */
function view(buf: Uint8Array): DataView {
  let dv = views.get(buf);
  if (!dv) {
    dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    views.set(buf, dv);
  }
  return dv;
}

const LITTLE_ENDIAN = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1;

/** `n` little-endian float32 values at byte `start` of `buf`: a copy, aligned. */
export function readF32(buf: Uint8Array, start: number, n: number): Float32Array {
  const out = new Float32Array(n);
  if (LITTLE_ENDIAN) {
    new Uint8Array(out.buffer).set(buf.subarray(start, start + 4 * n));
  } else {
    const dv = new DataView(buf.buffer, buf.byteOffset + start, 4 * n);
    for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
  }
  return out;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string {
  if (end - start < 64) {
    // Short ASCII strings (names, op types) are the common case: skip the decoder call.
    let s = '';
    for (let i = start; i < end; i++) {
      const c = buf[i]!;
      if (c >= 0x80) return utf8.decode(buf.subarray(start, end));
      s += String.fromCharCode(c);
    }
    return s;
  }
  return utf8.decode(buf.subarray(start, end));
}
