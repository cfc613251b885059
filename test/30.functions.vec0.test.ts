// The vec_* function family: every function, every error string, pinned
// and hand-computed values, subtypes. Expected floats are recomputed here with Math.fround so the
// original's sequential float32 rounding is checked exactly.
import Database from 'better-sqlite3';
import { f32blob, openDb } from './helpers/db';
import { load } from '../src';

const db = openDb();
const one = (sql: string, ...args: unknown[]) => db.prepare(sql).pluck().get(...args);
const row = (sql: string, ...args: unknown[]) => db.prepare(sql).raw().get(...args) as unknown[];
const err = (sql: string, ...args: unknown[]): string => {
  try {
    db.prepare(sql).get(...args);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error(`expected an error from: ${sql}`);
};
const f32 = (b: Buffer) => Array.from({ length: b.length / 4 }, (_, i) => b.readFloatLE(i * 4));
const i8 = (b: Buffer) => Array.from(b, (x) => (x << 24) >> 24);

// The original's float32 loops, element by element in float32.
function l2f(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.fround(Math.fround(a[i]) - Math.fround(b[i]));
    s = Math.fround(s + Math.fround(d * d));
  }
  return Math.fround(Math.sqrt(s));
}
function cosf(a: number[], b: number[]): number {
  let dot = 0, aa = 0, bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = Math.fround(a[i]), y = Math.fround(b[i]);
    dot = Math.fround(dot + Math.fround(x * y));
    aa = Math.fround(aa + Math.fround(x * x));
    bb = Math.fround(bb + Math.fround(y * y));
  }
  return Math.fround(1 - dot / (Math.sqrt(aa) * Math.sqrt(bb)));
}

describe('loading', () => {
  test('sqlite3_vec_init adds exactly the 18 functions (once each) and the module vec_each', () => {
    const bare = new Database(':memory:');
    const fnsBefore = new Set(bare.prepare('select name from pragma_function_list').pluck().all() as string[]);
    const modsBefore = new Set(bare.prepare('select name from pragma_module_list').pluck().all() as string[]);
    load(bare, { entryPoint: 'sqlite3_vec_init' });
    const fns = (bare.prepare('select name from pragma_function_list').pluck().all() as string[]).filter((n) => !fnsBefore.has(n));
    const mods = (bare.prepare('select name from pragma_module_list').pluck().all() as string[]).filter((n) => !modsBefore.has(n));
    expect(fns.sort()).toEqual([
      'vec_add', 'vec_bit', 'vec_debug', 'vec_distance_cosine', 'vec_distance_hamming', 'vec_distance_l1',
      'vec_distance_l2', 'vec_f32', 'vec_int8', 'vec_length', 'vec_normalize', 'vec_quantize_binary',
      'vec_quantize_int8', 'vec_slice', 'vec_sub', 'vec_to_json', 'vec_type', 'vec_version',
    ]);
    expect(mods).toContain('vec_each');
    expect(mods.filter((m) => m !== 'vec0').sort()).toEqual(['vec_each']);
    bare.close();
  });
  test('arities: one each, as the original', () => {
    const narg = Object.fromEntries(db.prepare("select name, narg from pragma_function_list where name like 'vec\\_%' escape '\\' and name not in ('vec_cosine','vec_l2')").raw().all() as [string, number][]);
    expect(narg).toMatchObject({
      vec_version: 0, vec_debug: 0, vec_f32: 1, vec_int8: 1, vec_bit: 1, vec_length: 1, vec_type: 1,
      vec_distance_l2: 2, vec_distance_l1: 2, vec_distance_cosine: 2, vec_distance_hamming: 2,
      vec_add: 2, vec_sub: 2, vec_normalize: 1, vec_slice: 3, vec_to_json: 1, vec_quantize_binary: 1, vec_quantize_int8: 2,
    });
    expect(err("select vec_length('[1]', 2)")).toBe('wrong number of arguments to function vec_length()');
  });
});

describe('vec_version / vec_debug', () => {
  test('version starts with v (sqlite-vec 0.1.9 compatible)', () => {
    expect(one('select vec_version()')).toBe('v0.1.9');
  });
  test('vec_debug has 4 lines and a parseable Build flags line naming our SIMD', () => {
    const lines = (one('select vec_debug()') as string).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toBe('Version: v0.1.9');
    expect(lines[1]).toMatch(/^Date: /);
    expect(lines[2]).toMatch(/^Commit: vecsqlite /);
    expect(lines[3]).toMatch(/^Build flags: /);
    const flags = lines[3].slice('Build flags: '.length).split(/\s+/).filter(Boolean);
    const isa = one('select vecsqlite_isa()') as string;
    const want = isa === 'avx2' || isa === 'avx512' ? ['avx'] : isa === 'neon' ? ['neon'] : [];
    expect(flags).toEqual(want);
  });
});

describe('constructors and subtypes', () => {
  test('vec_f32 from JSON and BLOB, subtype 223', () => {
    expect(f32(one("select vec_f32('[1, -2.5, 0.125]')") as Buffer)).toEqual([1, -2.5, 0.125]);
    expect(one('select vec_f32(?)', f32blob([3, 4]))).toEqual(f32blob([3, 4]));
    expect(row("select subtype(vec_f32('[1]')), subtype(vec_int8('[1]')), subtype(vec_bit(X'01')), subtype(vec_to_json('[1]'))"))
      .toEqual([223, 225, 224, 74]);
  });
  test('vec_f32 ignores the input subtype (reinterprets int8 bytes)', () => {
    expect(one("select vec_f32(vec_int8(X'01020304'))")).toEqual(Buffer.from([1, 2, 3, 4]));
    expect(one("select vec_type(vec_f32(vec_int8(X'01020304')))")).toBe('float32');
  });
  test('vec_int8 from JSON and BLOB', () => {
    expect(i8(one("select vec_int8('[1, -128, 127]')") as Buffer)).toEqual([1, -128, 127]);
    expect(one("select vec_int8(X'ff0001')")).toEqual(Buffer.from([255, 0, 1]));
    expect(err("select vec_int8('[128]')")).toBe('JSON parsing error: value out of range for int8');
    expect(err("select vec_int8('[-129]')")).toBe('JSON parsing error: value out of range for int8');
    expect(err("select vec_int8('[1.5]')")).toBe('JSON parsing error');
    expect(err('select vec_int8(NULL)')).toBe('Unknown type for int8 vector.');
    expect(err('select vec_int8(7)')).toBe('Unknown type for int8 vector.');
    expect(err("select vec_int8(X'')")).toBe('zero-length vectors are not supported.');
  });
  test('vec_bit takes BLOBs only', () => {
    expect(one("select vec_bit(X'a5')")).toEqual(Buffer.from([0xa5]));
    expect(err("select vec_bit('[1]')")).toBe('Unknown type for bitvector.');
    expect(err('select vec_bit(NULL)')).toBe('Unknown type for bitvector.');
    expect(err("select vec_bit(X'')")).toBe('zero-length vectors are not supported.');
  });
  test('vec_length and vec_type by subtype', () => {
    expect(row("select vec_length('[1,2,3]'), vec_length(vec_int8(X'0102')), vec_length(vec_bit(X'0102'))")).toEqual([3, 2, 16]);
    expect(row("select vec_type('[1]'), vec_type(vec_int8(X'01')), vec_type(vec_bit(X'01')), vec_type(json('[1,2]'))"))
      .toEqual(['float32', 'int8', 'bit', 'float32']);
    expect(err('select vec_type(NULL)')).toMatch(/found NULL$/);
  });
  test('subtypes survive inside one expression but not through a flattened subquery or a bound value', () => {
    expect(one("select vec_length(vec_slice(vec_bit(X'ff00'), 8, 16))")).toBe(8);
    expect(one("select vec_type(vec_add(vec_int8('[1]'), vec_int8('[2]')))")).toBe('int8');
    expect(err("select vec_length(x) from (select vec_int8('[1,2,3]') as x)"))
      .toBe('invalid float32 vector BLOB length. Must be divisible by 4, found 3');
    expect(one('select vec_type(?)', Buffer.from([1, 2, 3, 4]))).toBe('float32');
  });
});

describe('parsing errors', () => {
  test.each([
    ['NULL', 'Input must have type BLOB (compact format) or TEXT (JSON), found NULL'],
    ['1', 'Input must have type BLOB (compact format) or TEXT (JSON), found INTEGER'],
    ['1.5', 'Input must have type BLOB (compact format) or TEXT (JSON), found FLOAT'],
    ["X''", 'zero-length vectors are not supported.'],
    ["X'000000'", 'invalid float32 vector BLOB length. Must be divisible by 4, found 3'],
    ["''", 'zero-length vectors are not supported.'],
    ["'[]'", 'zero-length vectors are not supported.'],
    ["'['", 'zero-length vectors are not supported.'],
    ["'1]'", "JSON array parsing error: Input does not start with '['"],
    ["'   '", "JSON array parsing error: Input does not start with '['"],
    ["'[1, x]'", 'JSON parsing error'],
    ["'[1e400]'", 'JSON parsing error'],
    ["'[nan]'", 'invalid float32 vector: element 0 is NaN'],
    ["'[1, -inf]'", 'invalid float32 vector: element 1 is Inf'],
    ["'[1, 2, 1e40]'", 'invalid float32 vector: element 2 is Inf'],
    ["X'0000c07f'", 'invalid float32 vector: element 0 is NaN'],
    ["X'000080ff'", 'invalid float32 vector: element 0 is Inf'],
    ["vec_int8(X'00')", undefined],
  ])('vec_length(%s)', (arg, message) => {
    if (message === undefined) expect(one(`select vec_length(${arg})`)).toBe(1);
    else expect(err(`select vec_length(${arg})`)).toBe(message);
  });
  test('lenient JSON: whitespace, separators runs, hex, missing ] and trailing text', () => {
    expect(f32(one("select vec_f32('  [1 2,,3')") as Buffer)).toEqual([1, 2, 3]);
    expect(f32(one("select vec_f32('[0x10, 1e-3]x')") as Buffer)).toEqual([16, Math.fround(1e-3)]);
    expect(f32(one("select vec_f32('[1]garbage')") as Buffer)).toEqual([1]);
    expect(f32(one("select vec_f32('[1-2]')") as Buffer)).toEqual([1, -2]);
  });
  test('vec_bit and vec_int8 ignore the input subtype, like vec_f32', () => {
    // (an unknown subtype cannot be produced from SQL: core SQLite only sets the JSON subtype)
    expect(one("select vec_type(vec_bit(vec_int8(X'01')))")).toBe('bit');
    expect(one("select vec_length(vec_int8(vec_f32('[1]')))")).toBe(4);
  });
});

describe('distances', () => {
  test('pinned cosine value', () => {
    expect(one("select vec_distance_cosine('[1.1, 1.0]', '[1.2, 1.2]')")).toBe(0.001131898257881403);
  });
  test('float32 L2 and cosine reproduce the sequential float32 sums', () => {
    const a = [0.1, -0.2, 0.3, 0.4, 0.5, -0.6, 0.7, 0.8, 1.9, -2.1, 3.3, 0.01, -0.02, 5, 6, 7, 8, 9, 10];
    const b = [1.1, 0.2, -0.3, 0.45, 0.55, 0.6, -0.7, 0.9, 2.9, 2.1, -3.3, 0.02, -0.03, 6, 7, 8, 9, 10, 11.5];
    const ja = JSON.stringify(a), jb = JSON.stringify(b);
    expect(one('select vec_distance_l2(?, ?)', ja, jb)).toBe(l2f(a, b));
    expect(one('select vec_distance_cosine(?, ?)', ja, jb)).toBe(cosf(a, b));
    expect(one("select vec_distance_l2('[0,0]', '[3,4]')")).toBe(5);
  });
  test('float32 L1 sums |a-b| in double; int8 L1 is an INTEGER', () => {
    expect(one("select vec_distance_l1('[0.1]', '[1.2]')")).toBe(Math.fround(1.2) - Math.fround(0.1));
    expect(one("select vec_distance_l1('[0.5, 1]', '[0.25, 2]')")).toBe(1.25);
    const r = db.prepare("select vec_distance_l1(vec_int8('[1,2]'), vec_int8('[-100,100]')) as d, typeof(vec_distance_l1(vec_int8('[1,2]'), vec_int8('[-100,100]'))) as t").get();
    expect(r).toEqual({ d: 199, t: 'integer' });
  });
  test('int8 L2 and cosine', () => {
    expect(one("select vec_distance_l2(vec_int8('[1,2]'), vec_int8('[-100,100]'))")).toBe(Math.fround(Math.sqrt(101 * 101 + 98 * 98)));
    expect(one("select vec_distance_cosine(vec_int8('[1,2]'), vec_int8('[2,4]'))")).toBe(cosf([1, 2], [2, 4]));
    // long int8 vectors beyond the exact-integer range still follow the float loop
    const a = Array.from({ length: 2000 }, (_, i) => ((i * 37) % 255) - 127);
    const b = Array.from({ length: 2000 }, (_, i) => ((i * 91) % 255) - 128);
    expect(one('select vec_distance_l2(vec_int8(?), vec_int8(?))', Buffer.from(Int8Array.from(a).buffer), Buffer.from(Int8Array.from(b).buffer))).toBe(l2f(a, b));
    expect(one('select vec_distance_cosine(vec_int8(?), vec_int8(?))', Buffer.from(Int8Array.from(a).buffer), Buffer.from(Int8Array.from(b).buffer))).toBe(cosf(a, b));
  });
  test('hamming counts differing bits (REAL)', () => {
    expect(one("select vec_distance_hamming(vec_bit(X'0f'), vec_bit(X'f1'))")).toBe(7);
    expect(one("select vec_distance_hamming(vec_bit(X'ffffffffffffffff01'), vec_bit(X'000000000000000000'))")).toBe(65);
  });
  test('cosine of a zero vector is NULL (NaN), as the original', () => {
    expect(one("select vec_distance_cosine('[0, 0]', '[1.2, 1.2]')")).toBeNull();
  });
  test('type errors per metric', () => {
    expect(err("select vec_distance_l2(vec_bit(X'01'), vec_bit(X'01'))")).toBe('Cannot calculate L2 distance between two bitvectors.');
    expect(err("select vec_distance_l1(vec_bit(X'01'), vec_bit(X'01'))")).toBe('Cannot calculate L1 distance between two bitvectors.');
    expect(err("select vec_distance_cosine(vec_bit(X'01'), vec_bit(X'01'))")).toBe('Cannot calculate cosine distance between two bitvectors.');
    expect(err("select vec_distance_hamming('[1]', '[2]')")).toBe('Cannot calculate hamming distance between two float32 vectors.');
    expect(err("select vec_distance_hamming(vec_int8('[1]'), vec_int8('[2]'))")).toBe('Cannot calculate hamming distance between two int8 vectors.');
  });
  test('shared two-argument errors (typos original)', () => {
    expect(err("select vec_distance_l2(NULL, '[1]')")).toBe('Error reading 1st vector: Input must have type BLOB (compact format) or TEXT (JSON), found NULL');
    expect(err("select vec_distance_l2('[1]', 7)")).toBe('Error reading 2nd vector: Input must have type BLOB (compact format) or TEXT (JSON), found INTEGER');
    expect(err("select vec_distance_l2('[1,2]', vec_int8('[1,2]'))")).toBe('Vector type mistmatch. First vector has type float32, while the second has type int8.');
    expect(err("select vec_distance_l2('[1,2]', '[1,2,3]')")).toBe('Vector dimension mistmatch. First vector has 2 dimensions, while the second has 3 dimensions.');
    expect(err("select vec_add('[1]', vec_bit(X'01'))")).toBe('Vector type mistmatch. First vector has type float32, while the second has type bit.');
  });
});

describe('arithmetic', () => {
  test('vec_add / vec_sub in float32', () => {
    expect(f32(one("select vec_add('[1, 2.5]', '[0.25, -1]')") as Buffer)).toEqual([1.25, 1.5]);
    expect(f32(one("select vec_sub('[1, 2.5]', '[0.25, -1]')") as Buffer)).toEqual([0.75, 3.5]);
    expect(one("select vec_type(vec_sub('[1]', '[1]'))")).toBe('float32');
  });
  test('int8 wraps around', () => {
    expect(i8(one("select vec_add(vec_int8('[100,-100, 1]'), vec_int8('[100,-100, 2]'))") as Buffer)).toEqual([-56, 56, 3]);
    expect(i8(one("select vec_sub(vec_int8('[-128]'), vec_int8('[1]'))") as Buffer)).toEqual([127]);
  });
  test('bit vectors are refused', () => {
    expect(err("select vec_add(vec_bit(X'01'), vec_bit(X'01'))")).toBe('Cannot add two bitvectors together.');
    expect(err("select vec_sub(vec_bit(X'01'), vec_bit(X'01'))")).toBe('Cannot subtract two bitvectors together.');
  });
  test('vec_normalize: pinned values, float32 only', () => {
    const v = f32(one("select vec_normalize('[1,2,-1,-2]')") as Buffer);
    expect(v[0]).toBe(0.3162277638912201);
    expect(v[1]).toBe(0.6324555277824402);
    expect(v[2]).toBe(-0.3162277638912201);
    expect(v[3]).toBe(-0.6324555277824402);
    expect(err("select vec_normalize(vec_int8('[1]'))")).toBe('only float32 vectors are supported when normalizing');
    expect(err('select vec_normalize(NULL)')).toBe('Input must have type BLOB (compact format) or TEXT (JSON), found NULL');
    expect(f32(one("select vec_normalize('[0,0]')") as Buffer).every(Number.isNaN)).toBe(true);
  });
});

describe('vec_slice', () => {
  test('half-open ranges keep the type', () => {
    expect(f32(one("select vec_slice('[1,2,3,4]', 1, 3)") as Buffer)).toEqual([2, 3]);
    expect(i8(one("select vec_slice(vec_int8('[1,2,3]'), 0, 1)") as Buffer)).toEqual([1]);
    expect(one("select vec_slice(vec_bit(X'0102'), 8, 16)")).toEqual(Buffer.from([2]));
    expect(one("select vec_type(vec_slice(vec_bit(X'0102'), 8, 16))")).toBe('bit');
  });
  test.each([
    [-1, 2, "slice 'start' index must be a postive number."],
    [1, -2, "slice 'end' index must be a postive number."],
    [4, 5, "slice 'start' index is greater than the number of dimensions"],
    [1, 5, "slice 'end' index is greater than the number of dimensions"],
    [2, 1, "slice 'start' index is greater than 'end' index"],
    [1, 1, "slice 'start' index is equal to the 'end' index, vectors must have non-zero length"],
  ])('vec_slice([1,2,3], %d, %d)', (s, e, message) => {
    expect(err(`select vec_slice('[1,2,3]', ${s}, ${e})`)).toBe(message);
  });
  test('bit slices need multiples of 8', () => {
    expect(err("select vec_slice(vec_bit(X'0102'), 1, 8)")).toBe('start index must be divisible by 8.');
    expect(err("select vec_slice(vec_bit(X'0102'), 8, 9)")).toBe('end index must be divisible by 8.');
  });
});

describe('vec_to_json', () => {
  test('float32 with %f, int8 with %d, bits LSB-first; subtype JSON', () => {
    expect(one("select vec_to_json('[1e-7, 1, -3.5, 0.1]')")).toBe('[0.000000,1.000000,-3.500000,0.100000]');
    expect(one("select vec_to_json(vec_int8('[0, -128, 127]'))")).toBe('[0,-128,127]');
    expect(one("select vec_to_json(vec_bit(X'01'))")).toBe('[1,0,0,0,0,0,0,0]');
    expect(one("select json_valid(vec_to_json(vec_bit(X'80')))")).toBe(1);
    expect(one("select json_array(vec_to_json(vec_int8('[1]')))")).toBe('[[1]]');
  });
});

describe('quantization', () => {
  test('vec_quantize_binary: > 0 gives 1 (0 gives 0), LSB-first', () => {
    expect(one("select vec_quantize_binary('[1,-2,0,0.1,1,1,1,1]')")).toEqual(Buffer.from([0b11111001]));
    expect(one("select vec_quantize_binary(vec_int8('[0,1,0,0,0,0,0,-1]'))")).toEqual(Buffer.from([0b00000010]));
    expect(one("select vec_type(vec_quantize_binary('[1,1,1,1,1,1,1,1]'))")).toBe('bit');
    expect(err("select vec_quantize_binary('[1,2,3]')")).toBe('Binary quantization requires vectors with a length divisible by 8');
    expect(err("select vec_quantize_binary(vec_bit(X'01'))")).toBe('Can only binary quantize float or int8 vectors');
  });
  test("vec_quantize_int8(v, 'unit'): truncated and clamped (observed values)", () => {
    expect(i8(one("select vec_quantize_int8('[-1,-0.5,0,0.5,1,2]', 'unit')") as Buffer)).toEqual([-128, -64, 0, 63, 126, 127]);
    expect(i8(one("select vec_quantize_int8('[-3]', 'UNIT')") as Buffer)).toEqual([-128]);
    expect(one("select vec_type(vec_quantize_int8('[0.5]', 'unit'))")).toBe('int8');
    expect(err("select vec_quantize_int8('[1]', 'x')")).toBe("2nd argument to vec_quantize_int8() must be 'unit'.");
    expect(err("select vec_quantize_int8('[1]', 1)")).toBe("2nd argument to vec_quantize_int8() must be 'unit'.");
    expect(err("select vec_quantize_int8(NULL, 'unit')")).toBe('Input must have type BLOB (compact format) or TEXT (JSON), found NULL');
  });
});

describe('robustness', () => {
  test('large vectors and random bytes never crash', () => {
    const big = Buffer.alloc(4 * 100000);
    for (let i = 0; i < 100000; i++) big.writeFloatLE((i % 7) - 3, i * 4);
    expect(one('select vec_length(?)', big)).toBe(100000);
    expect(one('select vec_distance_l2(?, ?)', big, big)).toBe(0);
    for (let n = 1; n < 40; n++) {
      const b = Buffer.alloc(n, 0x41);
      // 'AAAA' as float32 is finite: 12.078...
      const out = (() => { try { return one('select vec_to_json(?)', b.toString('latin1')); } catch (e) { return (e as Error).message; } })();
      expect(typeof out).toBe('string');
    }
  });
  test('the full surface registers the same family', () => {
    const d = new Database(':memory:');
    load(d);
    expect(d.prepare("select vec_to_json(vec_f32('[2]'))").pluck().get()).toBe('[2.000000]');
    d.close();
  });
});
