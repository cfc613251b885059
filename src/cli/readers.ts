/**
 * Vector file readers for `vecsqlite import` and `vecsqlite bench`: `.npy` (float32), `.fvecs` /
 * `.bvecs` (the ANN-benchmark formats), JSON Lines, CSV and (asynchronously, through
 * {@link readVectorsAsync}) Parquet. Every error names the file and the
 * line (or vector number) and says what is wrong; with `partial`, bad rows are skipped and
 * reported instead.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decodeNpy, firstNonFinite } from '../bulk';

export type Format = 'npy' | 'fvecs' | 'bvecs' | 'jsonl' | 'csv' | 'parquet';

export interface VectorFile {
  format: Format;
  rows: number;
  dims: number;
  data: Float32Array;
  /** Ids from the file (JSONL `id`, CSV / Parquet `id` column), or null. */
  ids: (number | string)[] | null;
  /** Texts from the file (JSONL `text` / `content`, CSV / Parquet `text` / `content` column), or null. */
  texts: (string | null)[] | null;
  /** Rows skipped with `partial`: where and why. */
  skipped: { where: string; reason: string }[];
}

export interface ReadOptions {
  format?: Format;
  /** Expected dimensions (a row with another count is an error, or skipped with `partial`). */
  dims?: number;
  partial?: boolean;
  /** Parquet: the vector column (default: the only list / binary column, or `embedding` / `vector` / `emb`). */
  vectorColumn?: string;
  /** Parquet: the id column (default `id` when present). */
  idColumn?: string;
  /** Parquet: the text column (default `text` or `content` when present). */
  textColumn?: string;
}

/** An error in an input file: the message starts with `<file>:<line>: `. */
export class InputError extends Error {}

export function detectFormat(file: string): Format {
  const ext = path.extname(file).toLowerCase();
  const map: Record<string, Format> = { '.npy': 'npy', '.fvecs': 'fvecs', '.bvecs': 'bvecs', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.csv': 'csv', '.parquet': 'parquet' };
  const f = map[ext];
  if (!f) throw new InputError(`${file}: unknown file type '${ext}' (expected .npy, .fvecs, .bvecs, .jsonl, .csv or .parquet; or pass --format)`);
  return f;
}

export function readFile(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    throw new InputError(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`);
  }
}

/** Every format, Parquet included (its reader is asynchronous). */
export async function readVectorsAsync(file: string, opts: ReadOptions = {}): Promise<VectorFile> {
  const format = opts.format ?? detectFormat(file);
  if (format !== 'parquet') return readVectors(file, { ...opts, format });
  // Loaded on first use: the CLI starts faster for the other formats.
  const { readParquet } = await import('./parquet');
  const acc = new Rows(file, opts);
  await readParquet(readFile(file), file, opts, acc);
  return acc.finish('parquet');
}

/** The synchronous formats (all but Parquet: see {@link readVectorsAsync}). */
export function readVectors(file: string, opts: ReadOptions = {}): VectorFile {
  const format = opts.format ?? detectFormat(file);
  if (format === 'parquet') throw new InputError(`${file}: only \`vecsqlite import\` reads Parquet files (convert it to .npy or .fvecs for this command)`);
  const buf = readFile(file);
  const acc = new Rows(file, opts);
  switch (format) {
    case 'npy': {
      let a;
      try {
        a = decodeNpy(buf, file);
      } catch (e) {
        throw new InputError((e as Error).message);
      }
      for (let i = 0; i < a.rows; i++) acc.add(`row ${i}`, a.data.subarray(i * a.dims, (i + 1) * a.dims), null, null);
      break;
    }
    case 'fvecs':
    case 'bvecs':
      readVecs(buf, format, acc);
      break;
    case 'jsonl':
      readJsonl(buf, file, acc);
      break;
    case 'csv':
      readCsv(buf, file, acc);
      break;
  }
  return acc.finish(format);
}

/** Accumulates rows, checking dimensions and finite values. */
export class Rows {
  private chunks: Float32Array[] = [];
  private ids: (number | string)[] = [];
  private texts: (string | null)[] = [];
  private hasIds = false;
  private hasTexts = false;
  dims = 0;
  skipped: { where: string; reason: string }[] = [];
  constructor(readonly file: string, private opts: ReadOptions) {
    if (opts.dims) this.dims = opts.dims;
  }
  /** `where` is e.g. "line 3", "row 5" or "vector 7". */
  add(where: string, v: Float32Array, id: number | string | null, text: string | null): void {
    let reason: string | null = null;
    if (v.length === 0) reason = 'empty vector';
    else if (this.dims === 0) this.dims = v.length;
    if (!reason && v.length !== this.dims) reason = `${v.length} dimensions, expected ${this.dims}`;
    if (!reason) {
      const bad = firstNonFinite(v);
      if (bad >= 0) reason = `element ${bad} is ${Number.isNaN(v[bad]) ? 'NaN' : 'not finite'}`;
    }
    if (reason) return this.reject(where, reason);
    if ((id !== null) !== this.hasIds && this.chunks.length > 0) {
      return this.reject(where, id === null ? 'no id, while earlier rows have one' : 'an id, while earlier rows have none');
    }
    this.hasIds = id !== null;
    if (text !== null) this.hasTexts = true;
    this.chunks.push(v);
    if (id !== null) this.ids.push(id);
    this.texts.push(text);
  }
  reject(where: string, reason: string): void {
    if (!this.opts.partial) throw new InputError(`${this.file}: ${where}: ${reason}`);
    this.skipped.push({ where, reason });
  }
  finish(format: Format): VectorFile {
    const data = new Float32Array(this.chunks.length * this.dims);
    this.chunks.forEach((c, i) => data.set(c, i * this.dims));
    return { format, rows: this.chunks.length, dims: this.dims, data, ids: this.hasIds ? this.ids : null, texts: this.hasTexts ? this.texts : null, skipped: this.skipped };
  }
}

function readVecs(buf: Buffer, format: 'fvecs' | 'bvecs', acc: Rows): void {
  const width = format === 'fvecs' ? 4 : 1;
  let off = 0;
  for (let i = 0; off < buf.length; i++) {
    if (off + 4 > buf.length) throw new InputError(`${acc.file}: vector ${i}: truncated (${buf.length - off} bytes left, a record starts with a 4-byte dimension)`);
    const d = buf.readInt32LE(off);
    if (d <= 0 || d > 1 << 20) throw new InputError(`${acc.file}: vector ${i}: bad dimension ${d} at byte ${off} (not a .${format} file?)`);
    const end = off + 4 + d * width;
    if (end > buf.length) throw new InputError(`${acc.file}: vector ${i}: truncated (needs ${d * width} bytes of data, ${buf.length - off - 4} left)`);
    const v = new Float32Array(d);
    if (format === 'fvecs') for (let j = 0; j < d; j++) v[j] = buf.readFloatLE(off + 4 + 4 * j);
    else for (let j = 0; j < d; j++) v[j] = buf[off + 4 + j];
    acc.add(`vector ${i}`, v, null, null);
    off = end;
  }
}

/** Decodes UTF-8 strictly, naming the first line that is not valid UTF-8. */
function utf8(buf: Buffer, file: string): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    let line = 1, start = 0;
    const dec = new TextDecoder('utf-8', { fatal: true });
    for (let i = 0; i <= buf.length; i++) {
      if (i === buf.length || buf[i] === 0x0a) {
        try {
          dec.decode(buf.subarray(start, i));
        } catch {
          throw new InputError(`${file}: line ${line}: not valid UTF-8 (convert the file to UTF-8, e.g. iconv -f latin1 -t utf-8)`);
        }
        line++;
        start = i + 1;
      }
    }
    throw new InputError(`${file}: not valid UTF-8`);
  }
}

function toVector(x: unknown): Float32Array | null {
  if (!Array.isArray(x) || !x.every((e) => typeof e === 'number' || e === null)) return null;
  return Float32Array.from(x, (e) => (e === null ? NaN : (e as number)));
}

function readJsonl(buf: Buffer, file: string, acc: Rows): void {
  const lines = utf8(buf, file).split('\n');
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (line === '') return;
    const where = `line ${i + 1}`;
    let obj: unknown;
    try {
      obj = JSON.parse(line);
    } catch (e) {
      return acc.reject(where, `invalid JSON (${(e as Error).message})`);
    }
    let v: Float32Array | null;
    let id: number | string | null = null;
    let text: string | null = null;
    if (Array.isArray(obj)) {
      v = toVector(obj);
    } else if (obj !== null && typeof obj === 'object') {
      const o = obj as Record<string, unknown>;
      v = toVector(o.vector ?? o.embedding);
      if (o.id !== undefined) {
        if (typeof o.id !== 'number' && typeof o.id !== 'string') return acc.reject(where, 'id must be a number or a string');
        id = o.id;
      }
      const t = o.text ?? o.content;
      if (t !== undefined && t !== null) text = String(t);
    } else {
      v = null;
    }
    if (v === null) return acc.reject(where, 'expected an array of numbers, or an object with a "vector" (or "embedding") array');
    acc.add(where, v, id, text);
  });
}

function readCsv(buf: Buffer, file: string, acc: Rows): void {
  const text = utf8(buf, file);
  // Loaded on first use: the CLI starts faster for the other commands.
  const { parse: parseCsv } = require('csv-parse/sync') as typeof import('csv-parse/sync');
  let records: string[][];
  try {
    records = parseCsv(text, { relax_column_count: true, skip_empty_lines: true, bom: true, trim: true }) as string[][];
  } catch (e) {
    const err = e as Error & { lines?: number };
    throw new InputError(`${file}: line ${err.lines ?? '?'}: ${err.message.replace(/^.*?: /, '')}`);
  }
  if (records.length === 0) return;
  // A header when the first record has a field that is not a number (and not a JSON array).
  const isNum = (s: string) => s !== '' && Number.isFinite(Number(s));
  const first = records[0];
  const header = first.some((f) => !isNum(f) && !f.startsWith('[') && f.toLowerCase() !== 'nan');
  const names = header ? first.map((f) => f.toLowerCase()) : [];
  const idCol = names.indexOf('id');
  const textCol = names.findIndex((n) => n === 'text' || n === 'content');
  const vecCol = names.findIndex((n) => n === 'vector' || n === 'embedding');
  const lineOf = (i: number) => i + 1; // records map to lines (multi-line quoted fields aside)
  records.forEach((rec, i) => {
    if (header && i === 0) return;
    const where = `line ${lineOf(i)}`;
    let v: Float32Array | null;
    if (vecCol >= 0 || (!header && rec.length === 1 && rec[0].startsWith('['))) {
      try {
        v = toVector(JSON.parse(rec[vecCol >= 0 ? vecCol : 0]));
      } catch {
        v = null;
      }
      if (v === null) return acc.reject(where, 'the vector column is not a JSON array of numbers');
    } else {
      const cells = rec.filter((_, j) => j !== idCol && j !== textCol);
      const bad = cells.findIndex((c) => !isNum(c) && c.toLowerCase() !== 'nan');
      if (bad >= 0) return acc.reject(where, `field "${cells[bad]}" is not a number`);
      v = Float32Array.from(cells, Number);
    }
    const idRaw = idCol >= 0 ? rec[idCol] : null;
    const id = idRaw === null ? null : /^-?\d+$/.test(idRaw) ? Number(idRaw) : idRaw;
    acc.add(where, v, id, textCol >= 0 ? rec[textCol] ?? null : null);
  });
}
