// vec0 partition keys, metadata and auxiliary columns: the parts that do not depend on the table.
//
// This file holds the parts that do not depend on the vtab itself: column definitions, the
// value type used for partition tuples and filter targets, the metadata chunk byte layouts
// (decode / per-slot encode), and filter evaluation on the decoded, columnar values.
//
// METADATA CHUNK LAYOUT ("<t>_metadatachunksNN".data, one row per chunk, rowid = chunk_id):
//   boolean  chunk_size/8 bytes, bit j (LSB first) = value of slot j
//   integer  chunk_size x int64 LE
//   float    chunk_size x double LE
//   text     chunk_size x 16 bytes: int32 LE byte length, then the first 12 bytes (zero padded);
//            a string longer than 12 bytes is also stored whole in "<t>_metadatatextNN"
//            (rowid = the user rowid, data TEXT)
//   NULLs (a vecsqlite extension; 0.1.9 rejects them): the blob gets an optional TRAILING null
//   bitmap of chunk_size/8 bytes right after the layout above (bit j set = slot j is NULL; the
//   slot's value bytes are zero). The tail is appended the first time a NULL is written into
//   that chunk, so files that never stored a NULL are byte-identical to 0.1.9's.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "sqlite/ext.h"

namespace vecsqlite {
namespace vec0 {

constexpr int kMaxPartitionColumns = 4;
constexpr int kMaxMetadataColumns = 16;
constexpr int kMaxAuxColumns = 16;

enum class MetaType { boolean, integer, real, text };
enum class AuxType { text, integer, real, blob };

struct PartitionColumn {
  std::string name;
  bool text = false;
};
struct MetadataColumn {
  std::string name;
  MetaType type = MetaType::integer;
};
struct AuxColumn {
  std::string name;
  AuxType type = AuxType::text;
};

const char* meta_type_name(MetaType t);  // "BOOLEAN", "INTEGER", "FLOAT", "TEXT"
const char* aux_type_name(AuxType t);    // "TEXT", "INTEGER", "FLOAT", "BLOB"

// A copied SQLite value (partition tuples, filter targets, aux row cache).
struct Value {
  int type = SQLITE_NULL;  // SQLITE_NULL / INTEGER / FLOAT / TEXT / BLOB
  int64_t i = 0;
  double d = 0;
  std::string s;  // TEXT or BLOB bytes
};
Value value_of(sqlite3_value* v);
void result_value(sqlite3_context* ctx, const Value& v);
void bind_value(sqlite3_stmt* st, int idx, const Value& v);
// SQLite's ordering for values without affinity (NULL < numbers < TEXT < BLOB; BINARY text).
int compare_values(const Value& a, const Value& b);
// Exact tuple identity (NULL equals NULL), for grouping chunks by partition tuple.
bool tuple_less(const std::vector<Value>& a, const std::vector<Value>& b);

// An integer from an INTEGER, or from a REAL holding a whole number in int64 range.
bool whole_integer(sqlite3_value* v, int64_t* out);

// Checks a value for a metadata column (vecsqlite: NULL allowed, whole REALs allowed for
// INTEGER). On error sets *err to the original's message and returns false.
bool check_metadata_value(const MetadataColumn& c, sqlite3_value* v, Value* out, std::string* err);
// Partition key value: TEXT / INTEGER (whole REAL accepted) / NULL.
bool check_partition_value(const PartitionColumn& c, sqlite3_value* v, Value* out, std::string* err);
// Aux value: the declared type or NULL (whole REAL accepted for INTEGER, stored as INTEGER).
bool check_aux_value(const AuxColumn& c, sqlite3_value* v, Value* out, std::string* err);

// Decoded metadata of one column in one chunk.
struct MetaChunk {
  std::vector<int64_t> i;       // boolean (0/1) and integer
  std::vector<double> d;        // float
  std::vector<std::string> s;   // text (whole strings)
  std::vector<uint8_t> nulls;   // null bitmap (cs/8 bytes) when the blob has the tail, else empty
  bool is_null(int off) const {
    return !nulls.empty() && ((nulls[static_cast<size_t>(off / 8)] >> (off % 8)) & 1);
  }
};

size_t meta_base_bytes(MetaType t, int chunk_size);
// Decodes a chunk blob (with or without the null tail). False when the size is wrong.
bool decode_meta_chunk(MetaType t, int chunk_size, const uint8_t* data, size_t n, MetaChunk* out);
// Stores `v` (already checked) into slot `off` of the decoded chunk.
void set_meta_slot(MetaType t, MetaChunk* mc, int off, const Value& v);
// The on-disk bytes of slot `off` (after set_meta_slot): writes `*len` bytes for offset `*at`.
// boolean: the whole byte containing the bit.
void slot_bytes(MetaType t, const MetaChunk& mc, int off, uint8_t buf[16], int* len, int* at);
void result_meta(sqlite3_context* ctx, MetaType t, const MetaChunk& mc, int off);

// Metadata filter (KNN WHERE): op letters a=EQ b=GT c=LE d=LT e=GE f=NE g=IN, and the vecsqlite
// additions n=IS NULL, m=IS NOT NULL.
struct MetaFilter {
  int col = 0;
  char op = 'a';
  MetaType type = MetaType::integer;
  int64_t i = 0;
  double d = 0;
  std::string s;
  bool null_target = false;      // comparison with NULL: nothing matches
  std::vector<int64_t> in_i;     // IN list (sorted)
  std::vector<std::string> in_s; // IN list (sorted)
};
// Builds a filter from the constraint value (IN lists through sqlite3_vtab_in_first/next).
int make_meta_filter(const MetadataColumn& c, int col, char op, sqlite3_value* v, MetaFilter* out);
inline int cmp_bytes(const std::string& a, const std::string& b) {
  const int c = a.compare(0, std::string::npos, b);  // byte-wise (char_traits<char>: unsigned compare)
  return c < 0 ? -1 : c > 0 ? 1 : 0;
}
template <typename T>
inline bool apply_op(char op, const T& a, const T& b) {
  switch (op) {
    case 'a': return a == b;
    case 'b': return a > b;
    case 'c': return a <= b;
    case 'd': return a < b;
    case 'e': return a >= b;
    case 'f': return a != b;
    default: return false;
  }
}
// Inline: evaluated once per candidate row in the KNN filter pass.
inline bool meta_match(const MetaFilter& f, const MetaChunk& mc, int off) {
  const bool null = mc.is_null(off);
  if (f.op == 'n') return null;
  if (f.op == 'm') return !null;
  if (null || f.null_target) return false;
  const size_t j = static_cast<size_t>(off);
  if (f.op == 'g') {
    if (f.type == MetaType::text)
      return std::binary_search(f.in_s.begin(), f.in_s.end(), mc.s[j],
                                [](const std::string& a, const std::string& b) { return cmp_bytes(a, b) < 0; });
    return std::binary_search(f.in_i.begin(), f.in_i.end(), mc.i[j]);
  }
  switch (f.type) {
    case MetaType::boolean:
    case MetaType::integer: return apply_op(f.op, mc.i[j], f.i);
    case MetaType::real: return apply_op(f.op, mc.d[j], f.d);
    case MetaType::text: return apply_op(f.op, cmp_bytes(mc.s[j], f.s), 0);
  }
  return false;
}

// Partition filter: op letters as for metadata (a..f), g = IN (vecsqlite: one scan over all the
// listed partitions, so k rows in total), n = IS NULL, m = IS NOT NULL (vecsqlite).
struct PartFilter {
  int col = 0;
  char op = 'a';
  Value v;
  std::vector<Value> in;
};
bool part_match(const PartFilter& f, const Value& v);

// Columnar evaluation of every filter over one chunk: clears bit j (word j / 64, LSB first) of
// `words` ((chunk_size + 63) / 64 of them, set by the caller: e.g. the validity bits) for
// each slot j that fails a filter.
void chunk_mask(const std::vector<MetaFilter>& filters, const std::vector<MetaChunk>& meta, int chunk_size,
                uint64_t* words);

}  // namespace vec0
}  // namespace vecsqlite
