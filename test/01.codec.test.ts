// encodeEmbedding / decodeEmbedding against the reference's test vectors.
import { decodeEmbedding, encodeEmbedding, VecsqliteError } from '../src';

describe('encodeEmbedding', () => {
  test('reference vectors', () => {
    expect(encodeEmbedding([1, 0])!.toString('hex')).toBe('0000803f00000000');
    expect(encodeEmbedding([1, 0])!.toString('base64')).toBe('AACAPwAAAAA=');
    expect(encodeEmbedding(new Float32Array([0, 1.5, -2.25, 3.75]))!.toString('hex')).toBe('000000000000c03f000010c000007040');
  });
  test('empty vector encodes as null', () => {
    expect(encodeEmbedding([])).toBeNull();
    expect(encodeEmbedding(new Float32Array(0))).toBeNull();
  });
  test('NaN, Infinity and -0 survive bit for bit', () => {
    const src = new Float32Array([NaN, Infinity, -Infinity, -0]);
    const bits = new Uint32Array(src.buffer.slice(0));
    const back = decodeEmbedding(encodeEmbedding(src))!;
    expect(Array.from(new Uint32Array(back.buffer))).toEqual(Array.from(bits));
    expect(Object.is(back[3], -0)).toBe(true);
  });
  test('a subarray view encodes only its own elements', () => {
    const big = new Float32Array([9, 1, 0, 9]);
    expect(encodeEmbedding(big.subarray(1, 3))!.toString('hex')).toBe('0000803f00000000');
  });
  test('rejects non-numbers with a clear error', () => {
    expect(() => encodeEmbedding([1, 'x' as unknown as number])).toThrow('encodeEmbedding: element 1 is x of type string, expected a number');
    expect(() => encodeEmbedding('abc' as unknown as number[])).toThrow(VecsqliteError);
  });
});

describe('decodeEmbedding', () => {
  test('round trip of reference bytes', () => {
    expect(Array.from(decodeEmbedding(Buffer.from('000000000000c03f000010c000007040', 'hex'))!)).toEqual([0, 1.5, -2.25, 3.75]);
  });
  test('empty and null mean "no vector"', () => {
    expect(decodeEmbedding(Buffer.alloc(0))).toBeNull();
    expect(decodeEmbedding(null)).toBeNull();
  });
  test('length not a multiple of 4 fails with the reference message', () => {
    let err: unknown;
    try { decodeEmbedding(Buffer.alloc(7)); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(VecsqliteError);
    expect((err as VecsqliteError).code).toBe('VECSQLITE_INVALID_BLOB');
    expect((err as Error).message).toBe('vector: invalid embedding blob length 7 (not multiple of 4)');
  });
  test('decodes from an unaligned offset inside a larger buffer', () => {
    const buf = Buffer.alloc(9);
    buf.writeFloatLE(2.5, 1);
    buf.writeFloatLE(-1, 5);
    expect(Array.from(decodeEmbedding(buf.subarray(1))!)).toEqual([2.5, -1]);
  });
});
