// The persisted per-(shadow, dataset) index blob of the `vec` table (vector_storage."index").
//
// Three formats are read, two are written (all integers little-endian):
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
//   HNS1 (ours, index=hnsw: the vectors and the dataset's graph, written after full builds):
//     offset 0   "HNS1"                magic
//            4   u32 version           = 1 (anything else is rejected)
//            8   u32 vsqLen            length of the vector part
//           12   u32 crc32             CRC-32 of the graph part (every byte from 16 + vsqLen on)
//           16   vsqLen bytes          the vector part: a complete VSQ1 blob (own CRC, token)
//    16+vsqLen   graph part:           u32 metaLen | metaLen bytes of graph state
//                                      | u32 blocks | blocks x ( u32 len | len bytes of a
//                                      node block )
//     The graph state and node blocks are core/hnsw.h's encode_meta() / encode_block() bytes
//     (each CRC-sealed too): parameters, entry point, and per node its rowid, level and links.
//     Traversal rows are not stored; they are recomputed from the vector part on load. A blob
//     whose vector part is sound but whose graph part is not still yields the vectors: the
//     graph is then rebuilt from them (counter graph_rebuilds) and the blob rewritten.
//     A table without index=hnsw reads the vector part only.
//
// "COV1" cover-tree blobs are not decoded: they are treated like a corrupt blob (rebuilt from
// the data table, then overwritten with VSQ1). Every count is checked against the bytes that
// remain before anything is allocated; a truncated, corrupt or unknown blob is never trusted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vecsqlite {

struct IndexRow {
  int64_t rowid;   // data-table rowid (legacy blobs: 0, to be resolved by the caller)
  std::string id;  // document id
  const uint8_t* vec;  // dim float32 values, little-endian, inside the decoded blob
};

enum class BlobKind { none, legacy, vsq1, hns1, invalid };

struct DecodedIndex {
  BlobKind kind = BlobKind::none;
  uint32_t dim = 0;
  int64_t token = 0;  // VSQ1 and HNS1 only
  std::vector<IndexRow> rows;
  // HNS1 only: the graph part (inside the decoded blob) and whether its CRC matched.
  const uint8_t* graph = nullptr;
  size_t graph_bytes = 0;
  bool graph_crc_ok = false;
};

// Decodes `blob`; kind is `invalid` for anything that fails a check (or a COV1 blob).
DecodedIndex decode_index_blob(const uint8_t* blob, size_t n);

// Appends the VSQ1 header; rows are added with vsq1_add_row, then vsq1_finish fixes n and crc.
void vsq1_begin(std::vector<uint8_t>* out, uint32_t dim, int64_t token);
void vsq1_add_row(std::vector<uint8_t>* out, int64_t rowid, const std::string& id, const float* vec,
                  uint32_t dim);
void vsq1_finish(std::vector<uint8_t>* out, uint32_t n);

// Wraps a finished VSQ1 blob `vsq` and a graph part into an HNS1 blob.
void hns1_encode(std::vector<uint8_t>* out, const std::vector<uint8_t>& vsq, const std::vector<uint8_t>& graph);
// Splits an HNS1 graph part into the state bytes and the node blocks. False when the lengths
// do not add up.
struct GraphPart {
  const uint8_t* meta = nullptr;
  size_t meta_bytes = 0;
  std::vector<std::pair<const uint8_t*, size_t>> blocks;
};
bool split_graph_part(const uint8_t* p, size_t n, GraphPart* out);
// Appends a length-prefixed chunk (u32 length, bytes) to a graph part.
void append_chunk(std::vector<uint8_t>* out, const void* data, size_t n);
void append_u32(std::vector<uint8_t>* out, uint32_t v);

// Legacy brute-force writer (tests and tools build old blobs with it).
void legacy_encode(std::vector<uint8_t>* out, uint32_t dim, const std::vector<std::string>& ids,
                   const std::vector<const float*>& vecs);


}  // namespace vecsqlite
