/**
 * Parquet input for `vecsqlite import`, through hyparquet (pure JavaScript, ES module only, loaded
 * on first use). The vector column is a list of float / double (the usual embedding layout) or a
 * BYTE_ARRAY / FIXED_LEN_BYTE_ARRAY of little-endian float32 values; optional id and text columns.
 * Rows are read one row group at a time and go through the same checks as the other formats
 * (`Rows`): errors name the file and the row (0-based, as for .npy).
 */
import type * as Hyparquet from 'hyparquet';
import { InputError, type ReadOptions, type Rows } from './readers';

// Dynamic import that TypeScript's CommonJS output leaves alone (hyparquet is ESM only).
const importEsm = new Function('m', 'return import(m)') as (m: string) => Promise<unknown>;

/** Codecs hyparquet decodes without extra decompressors. */
const CODECS = new Set(['UNCOMPRESSED', 'SNAPPY']);
const VECTOR_NAMES = ['embedding', 'vector', 'emb'];

interface Column {
  name: string;
  /** 'list' (list of float / double), 'binary' (raw bytes), or 'other'. */
  kind: 'list' | 'binary' | 'other';
  /** For messages: `list<float>`, `binary`, `INT64`, `string`, … */
  type: string;
}

type Tree = Hyparquet.SchemaTree;

function leafOf(t: Tree): Tree {
  return t.children.length === 0 ? t : leafOf(t.children[0]);
}

function isTextual(e: Hyparquet.SchemaElement): boolean {
  const ct = e.converted_type;
  const lt = e.logical_type?.type;
  return ct === 'UTF8' || ct === 'JSON' || ct === 'ENUM' || lt === 'STRING' || lt === 'JSON' || lt === 'ENUM';
}

function classify(t: Tree): Column {
  const e = t.element;
  const name = e.name;
  const isList = e.converted_type === 'LIST' || e.logical_type?.type === 'LIST';
  if (isList || (t.children.length === 0 && e.repetition_type === 'REPEATED')) {
    const leaf = leafOf(t);
    const lt = leaf.element.type;
    const ok = lt === 'FLOAT' || lt === 'DOUBLE';
    return { name, kind: ok ? 'list' : 'other', type: `list<${(lt ?? 'group').toLowerCase()}>` };
  }
  if (t.children.length > 0) return { name, kind: 'other', type: e.converted_type === 'MAP' || e.logical_type?.type === 'MAP' ? 'map' : 'struct' };
  if (e.type === 'BYTE_ARRAY') {
    if (isTextual(e)) return { name, kind: 'other', type: 'string' };
    if (e.converted_type || e.logical_type) return { name, kind: 'other', type: (e.logical_type?.type ?? e.converted_type ?? 'BYTE_ARRAY').toLowerCase() };
    return { name, kind: 'binary', type: 'binary' };
  }
  if (e.type === 'FIXED_LEN_BYTE_ARRAY') {
    if (e.converted_type || e.logical_type) return { name, kind: 'other', type: (e.logical_type?.type ?? e.converted_type ?? 'FIXED_LEN_BYTE_ARRAY').toLowerCase() };
    return { name, kind: 'binary', type: `fixed_len_byte_array(${e.type_length})` };
  }
  return { name, kind: 'other', type: String(e.type ?? 'unknown') };
}

const listing = (cols: Column[]) => cols.map((c) => `${c.name} (${c.type})`).join(', ');

function pickVector(file: string, cols: Column[], wanted: string | undefined): Column {
  const candidates = cols.filter((c) => c.kind !== 'other');
  if (wanted !== undefined) {
    const c = cols.find((x) => x.name === wanted);
    if (!c) throw new InputError(`${file}: no column "${wanted}" (--vector-column); the columns are ${listing(cols)}`);
    if (c.kind === 'other') throw new InputError(`${file}: column "${wanted}" is ${c.type}, not a list of float / double or a binary column of float32 values`);
    return c;
  }
  if (candidates.length === 1) return candidates[0];
  for (const n of VECTOR_NAMES) {
    const c = candidates.find((x) => x.name.toLowerCase() === n);
    if (c) return c;
  }
  if (candidates.length === 0) {
    throw new InputError(`${file}: no vector column (a list of float / double, or a binary column of float32 values); the columns are ${listing(cols)}`);
  }
  throw new InputError(`${file}: which column holds the vectors? ${candidates.map((c) => c.name).join(', ')} could (pass --vector-column); the columns are ${listing(cols)}`);
}

function pickOptional(file: string, cols: Column[], wanted: string | undefined, option: string, defaults: string[]): Column | null {
  if (wanted !== undefined) {
    const c = cols.find((x) => x.name === wanted);
    if (!c) throw new InputError(`${file}: no column "${wanted}" (${option}); the columns are ${listing(cols)}`);
    return c;
  }
  for (const n of defaults) {
    const c = cols.find((x) => x.name.toLowerCase() === n);
    if (c) return c;
  }
  return null;
}

const utf8 = new TextDecoder('utf-8');

function vectorOf(x: unknown, kind: 'list' | 'binary'): Float32Array | string {
  if (x === null || x === undefined) return 'the vector is null';
  if (kind === 'list') {
    if (!Array.isArray(x) && !ArrayBuffer.isView(x)) return 'the vector is not a list';
    const a = x as ArrayLike<unknown>;
    const v = new Float32Array(a.length);
    for (let i = 0; i < a.length; i++) {
      const e = a[i];
      v[i] = e === null || e === undefined ? NaN : Number(e);
    }
    return v;
  }
  if (!(x instanceof Uint8Array)) return 'the vector is not binary';
  if (x.length % 4 !== 0) return `${x.length} bytes, not a whole number of float32 values`;
  const view = new DataView(x.buffer, x.byteOffset, x.byteLength);
  const v = new Float32Array(x.length / 4);
  for (let i = 0; i < v.length; i++) v[i] = view.getFloat32(4 * i, true);
  return v;
}

function idOf(x: unknown): number | string | null | { bad: string } {
  if (x === null || x === undefined) return { bad: 'the id is null' };
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return utf8.decode(x);
  if (typeof x === 'bigint') {
    return x >= BigInt(Number.MIN_SAFE_INTEGER) && x <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(x) : { bad: `id ${x} is out of range (beyond ±2^53)` };
  }
  if (typeof x === 'number' && Number.isSafeInteger(x)) return x;
  return { bad: `id ${String(x)} is not an integer or a string` };
}

function textOf(x: unknown): string | null {
  if (x === null || x === undefined) return null;
  if (typeof x === 'string') return x;
  if (x instanceof Uint8Array) return utf8.decode(x);
  return String(x);
}

const oneLine = (e: unknown) => String((e as Error)?.message ?? e).replace(/\s*\n\s*/g, ' ');

/** Reads the vectors (and ids / texts) of a Parquet file into `acc`. */
export async function readParquet(buf: Buffer, file: string, opts: ReadOptions, acc: Rows): Promise<void> {
  const hp = (await importEsm('hyparquet')) as typeof Hyparquet;
  // An ArrayBuffer of the file alone (a small file's Buffer may be a slice of a shared pool; a
  // large one owns its memory, which is then used as it is, not copied).
  const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  const ab = (whole ? buf.buffer : buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength)) as ArrayBuffer;
  let md: Hyparquet.FileMetaData;
  let cols: Column[];
  try {
    md = hp.parquetMetadata(ab);
    cols = hp.parquetSchema(md).children.map(classify);
  } catch (e) {
    throw new InputError(`${file}: not a Parquet file, or truncated (${oneLine(e)})`);
  }
  const vec = pickVector(file, cols, opts.vectorColumn);
  const id = pickOptional(file, cols, opts.idColumn, '--id-column', ['id']);
  const text = pickOptional(file, cols, opts.textColumn, '--text-column', ['text', 'content']);
  const names = [...new Set([vec.name, ...(id ? [id.name] : []), ...(text ? [text.name] : [])])];
  for (const rg of md.row_groups) {
    for (const chunk of rg.columns) {
      const m = chunk.meta_data;
      if (m && names.includes(m.path_in_schema[0]) && !CODECS.has(m.codec)) {
        throw new InputError(`${file}: column "${m.path_in_schema[0]}" is compressed with ${m.codec}, which vecsqlite does not read (SNAPPY or UNCOMPRESSED only; rewrite the file with one of them)`);
      }
    }
  }
  const kind = vec.kind as 'list' | 'binary';
  let start = 0;
  for (let g = 0; g < md.row_groups.length; g++) {
    const n = Number(md.row_groups[g].num_rows);
    if (n === 0) continue;
    let rows: Record<string, unknown>[];
    try {
      rows = await hp.parquetReadObjects({ file: ab, metadata: md, columns: names, rowStart: start, rowEnd: start + n, utf8: false });
    } catch (e) {
      throw new InputError(`${file}: rows ${start}-${start + n - 1}: cannot read the Parquet data, the file may be truncated or corrupt (${oneLine(e)})`);
    }
    for (let i = 0; i < rows.length; i++) {
      const where = `row ${start + i}`;
      const r = rows[i];
      const v = vectorOf(r[vec.name], kind);
      if (typeof v === 'string') {
        acc.reject(where, v);
        continue;
      }
      let rowId: number | string | null = null;
      if (id) {
        const x = idOf(r[id.name]);
        if (x !== null && typeof x === 'object') {
          acc.reject(where, x.bad);
          continue;
        }
        rowId = x;
      }
      acc.add(where, v, rowId, text ? textOf(r[text.name]) : null);
    }
    start += n;
  }
}
