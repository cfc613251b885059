/**
 * Real data sets the `demo` and `bench` commands use, read where they are installed (nothing is
 * downloaded):
 *   fiori          778 SAP Fiori documentation chunks with their all-MiniLM-L6-v2 embeddings
 *                  (384 dimensions, L2-normalised), from the npm package
 *                  @sap-ux/fiori-docs-embeddings (a dependency of vecsqlite)
 *   fashion-mnist  60 000 + 10 000 Fashion-MNIST images as 784-dimensional vectors, from the
 *                  Debian package dataset-fashion-mnist (/usr/share/datasets/fashion-mnist)
 */
import * as fs from 'fs';
import * as path from 'path';
import * as zlib from 'zlib';
import { CliError } from './common';

export interface FioriDoc {
  id: string;
  title: string;
  content: string;
}

export interface FioriData {
  dir: string;
  model: string;
  dims: number;
  docs: FioriDoc[];
  vectors: Float32Array;
}

function fioriDir(): string {
  for (const base of [process.cwd(), __dirname]) {
    try {
      const pkg = require.resolve('@sap-ux/fiori-docs-embeddings/package.json', { paths: [base] });
      return path.join(path.dirname(pkg), 'data', 'embeddings');
    } catch {
      // try the next base
    }
  }
  throw new CliError('the fiori data set comes from the npm package @sap-ux/fiori-docs-embeddings, a dependency of vecsqlite that is not installed here: run `npm install @sap-ux/fiori-docs-embeddings`');
}

/** The title line of a chunk (`**TITLE**: …`), or its id. */
export function titleOf(content: string, id: string): string {
  const m = /\*\*TITLE\*\*:\s*([^\n]+)/.exec(content);
  return (m ? m[1] : id).trim();
}

export function loadFiori(): FioriData {
  const dir = fioriDir();
  const meta = JSON.parse(fs.readFileSync(path.join(dir, 'metadata.json'), 'utf8')) as { dimensions: number; model: string };
  const bin = fs.readFileSync(path.join(dir, 'embeddings.bin'));
  const vectors = new Float32Array(bin.byteLength / 4);
  new Uint8Array(vectors.buffer).set(bin);
  const records = fs.readFileSync(path.join(dir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; content: string; title?: string });
  if (records.length * meta.dimensions !== vectors.length) throw new CliError(`${dir}: ${vectors.length / meta.dimensions} vectors but ${records.length} records`);
  const docs = records.map((r) => ({ id: r.id, title: (r.title || titleOf(r.content, r.id)).slice(0, 120), content: r.content }));
  return { dir, model: meta.model, dims: meta.dimensions, docs, vectors };
}

const FASHION = '/usr/share/datasets/fashion-mnist';

function readIdx(file: string): { dims: number[]; data: Uint8Array } {
  const buf = zlib.gunzipSync(fs.readFileSync(file));
  const ndim = buf[3];
  const dims: number[] = [];
  for (let i = 0; i < ndim; i++) dims.push(buf.readUInt32BE(4 + 4 * i));
  return { dims, data: new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * ndim, dims.reduce((a, b) => a * b, 1)) };
}

export function loadFashionMnist(): { base: Float32Array; queries: Float32Array; dims: number } {
  const train = path.join(FASHION, 'train-images-idx3-ubyte.gz');
  if (!fs.existsSync(train)) throw new CliError(`fashion-mnist is read from ${FASHION}: install the Debian package dataset-fashion-mnist`);
  const a = readIdx(train);
  const b = readIdx(path.join(FASHION, 't10k-images-idx3-ubyte.gz'));
  return { base: Float32Array.from(a.data), queries: Float32Array.from(b.data), dims: 784 };
}
