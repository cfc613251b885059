// Writes a Parquet test fixture with hyparquet-writer (an ES module, hence a child process of the
// jest tests): `node write-parquet.mjs` with a JSON spec on stdin:
//   { file, codec?: 'SNAPPY' | 'UNCOMPRESSED' | …, rowGroupSize?, columns: [{ name, kind, data }] }
// kinds: list-float, list-double (arrays of numbers; "NaN" / "Infinity" strings for those values),
// f32-bytes (BYTE_ARRAY) and f32-fixed (FIXED_LEN_BYTE_ARRAY) holding the vector's float32 bytes,
// int32, int64, double, string. A codec without a compressor here is written uncompressed but
// labelled with that codec (enough to test that readers refuse it).
import { readFileSync } from 'fs';
import { parquetWriteFile } from 'hyparquet-writer';

const spec = JSON.parse(readFileSync(0, 'utf8'));
const num = (x) => (typeof x === 'string' ? Number(x) : x);
const f32bytes = (v) => new Uint8Array(Float32Array.from(v, num).buffer);

const schema = [{ name: 'root', num_children: spec.columns.length }];
const columnData = [];
for (const c of spec.columns) {
  switch (c.kind) {
    case 'list-float':
    case 'list-double':
      schema.push(
        { name: c.name, repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
        { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
        { name: 'element', type: c.kind === 'list-float' ? 'FLOAT' : 'DOUBLE', repetition_type: 'REQUIRED' },
      );
      columnData.push({ name: c.name, data: c.data.map((v) => (v === null ? null : v.map(num))) });
      break;
    case 'f32-bytes':
      schema.push({ name: c.name, type: 'BYTE_ARRAY', repetition_type: 'OPTIONAL' });
      columnData.push({ name: c.name, data: c.data.map(f32bytes) });
      break;
    case 'f32-fixed':
      schema.push({ name: c.name, type: 'FIXED_LEN_BYTE_ARRAY', type_length: c.data[0].length * 4, repetition_type: 'REQUIRED' });
      columnData.push({ name: c.name, data: c.data.map(f32bytes) });
      break;
    case 'int32':
      schema.push({ name: c.name, type: 'INT32', repetition_type: 'REQUIRED' });
      columnData.push({ name: c.name, data: c.data });
      break;
    case 'int64':
      schema.push({ name: c.name, type: 'INT64', repetition_type: 'REQUIRED' });
      columnData.push({ name: c.name, data: c.data.map((x) => BigInt(x)) });
      break;
    case 'double':
      schema.push({ name: c.name, type: 'DOUBLE', repetition_type: 'REQUIRED' });
      columnData.push({ name: c.name, data: c.data.map(num) });
      break;
    case 'string':
      schema.push({ name: c.name, type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' });
      columnData.push({ name: c.name, data: c.data });
      break;
    default:
      throw new Error(`write-parquet: unknown kind ${c.kind}`);
  }
}
const codec = spec.codec ?? 'SNAPPY';
const compressors = codec === 'SNAPPY' || codec === 'UNCOMPRESSED' ? {} : { [codec]: (bytes) => bytes };
parquetWriteFile({ filename: spec.file, columnData, schema, codec, compressors, rowGroupSize: spec.rowGroupSize ?? 1000 });
