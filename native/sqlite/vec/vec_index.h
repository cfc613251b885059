// The persisted per-(shadow, dataset) index blob of the `vec` table (vector_storage."index").
//
// Two formats are read, one is written (all integers little-endian):
//
//   legacy brute force (read only; written by the original Go module and its vec_admin):
//     u32 dim | u32 n | n x ( u32 idLen | idLen bytes UTF-8 id | dim x f32 )
//     Rows carry no rowid; the reader maps ids back to data-table rowids.
//
//   VSQ1 (ours, written after every full build):
//     offset 0   "VSQ1"                magic
//            4   u32 version           = 1 (anything else is rejected)
//            8   u32 dim
//           12   u32 n
//           16   i64 token             vector_storage_gen.token the blob was built at
//           24   u32 crc32             CRC-32 (zlib polynomial) of every byte from offset 28 on
//           28   n x ( i64 rowid | u32 idLen | idLen bytes id | dim x f32 )
//
// "COV1" cover-tree blobs are not decoded: they are treated like a corrupt blob (rebuilt from
// the data table, then overwritten with VSQ1). Every count is checked against the bytes that
// remain before anything is allocated; a truncated, corrupt or unknown blob is never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace vecsqlite {

struct IndexRow {
  int64_t rowid;   // data-table rowid (legacy blobs: 0, to be resolved by the caller)
  std::string id;  // document id
  const uint8_t* vec;  // dim float32 values, little-endian, inside the decoded blob
};

enum class BlobKind { none, legacy, vsq1, invalid };

struct DecodedIndex {
  BlobKind kind = BlobKind::none;
  uint32_t dim = 0;
  int64_t token = 0;  // VSQ1 only
  std::vector<IndexRow> rows;
};

// Decodes `blob`; kind is `invalid` for anything that fails a check (or a COV1 blob).
DecodedIndex decode_index_blob(const uint8_t* blob, size_t n);

// Appends the VSQ1 header; rows are added with vsq1_add_row, then vsq1_finish fixes n and crc.
void vsq1_begin(std::vector<uint8_t>* out, uint32_t dim, int64_t token);
void vsq1_add_row(std::vector<uint8_t>* out, int64_t rowid, const std::string& id, const float* vec,
                  uint32_t dim);
void vsq1_finish(std::vector<uint8_t>* out, uint32_t n);

// Legacy brute-force writer (tests and tools build old blobs with it).
void legacy_encode(std::vector<uint8_t>* out, uint32_t dim, const std::vector<std::string>& ids,
                   const std::vector<const float*>& vecs);


}  // namespace vecsqlite
