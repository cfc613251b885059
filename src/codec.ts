/**
 * The dataset-aware embedding format: a raw array of IEEE-754 float32 values, little-endian,
 * no header; dimension = byte length / 4. An empty vector is stored as SQL NULL.
 * NaN, Infinity and -0 are preserved bit for bit.
 */
import { endianness } from 'os';
import { VecsqliteError } from './errors';

const LITTLE_ENDIAN_HOST = endianness() === 'LE';

/**
 * Encodes a vector as the little-endian float32 blob that `vec` tables, `vec_cosine`,
 * `vec_l2` and `vec0` float columns read.
 * @returns the blob, or `null` for an empty vector (bind it as SQL NULL: "no vector").
 * @throws VecsqliteError VECSQLITE_INVALID_ARGUMENT for anything but a Float32Array or an array of numbers.
 * @example encodeEmbedding([1, 0]).toString('hex') // '0000803f00000000'
 */
export function encodeEmbedding(values: Float32Array | readonly number[]): Buffer | null {
  if (!(values instanceof Float32Array) && !Array.isArray(values)) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `encodeEmbedding: expected a Float32Array or an array of numbers, received ${describe(values)}`);
  }
  const n = values.length;
  if (n === 0) return null;
  if (values instanceof Float32Array && LITTLE_ENDIAN_HOST) {
    // Byte copy: keeps NaN payloads bit for bit.
    return Buffer.from(new Uint8Array(values.buffer, values.byteOffset, values.byteLength));
  }
  const out = Buffer.allocUnsafe(n * 4);
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (typeof v !== 'number') {
      throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `encodeEmbedding: element ${i} is ${describe(v)}, expected a number`);
    }
    out.writeFloatLE(v, i * 4);
  }
  return out;
}

/**
 * Decodes a little-endian float32 blob.
 * @returns the vector, or `null` for an empty blob or `null` ("no vector").
 * @throws VecsqliteError VECSQLITE_INVALID_BLOB when the length is not a multiple of 4, with the
 *   reference's message `vector: invalid embedding blob length <n> (not multiple of 4)`.
 */
export function decodeEmbedding(blob: Uint8Array | null | undefined): Float32Array | null {
  if (blob === null || blob === undefined) return null;
  if (!(blob instanceof Uint8Array)) {
    throw new VecsqliteError('VECSQLITE_INVALID_ARGUMENT', `decodeEmbedding: expected a Buffer or Uint8Array, received ${describe(blob)}`);
  }
  const n = blob.byteLength;
  if (n === 0) return null;
  if (n % 4 !== 0) {
    throw new VecsqliteError('VECSQLITE_INVALID_BLOB', `vector: invalid embedding blob length ${n} (not multiple of 4)`);
  }
  if (LITTLE_ENDIAN_HOST) {
    const copy = new Uint8Array(n);
    copy.set(blob);
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(blob.buffer, blob.byteOffset, n);
  const out = new Float32Array(n / 4);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return `an object (${(v as object).constructor?.name ?? 'Object'})`;
  return `${String(v)} of type ${typeof v}`;
}
