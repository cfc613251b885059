// The `vec0` virtual table: drop-in compatible with asg017/sqlite-vec 0.1.9 (vec0-design.md §5).
//
// STORAGE (the source of truth; byte-identical to the original, so files interoperate):
//   "<t>_info"(key text primary key, value any)   CREATE_VERSION 'v0.1.9', _MAJOR 0, _MINOR 1, _PATCH 9
//       plus vecsqlite keys the original never reads: vecsqlite_write_token (int64, see
//       FRESHNESS), and the change log ring vecsqlite_change_head (int64) and
//       vecsqlite_change_00 .. _63 (BLOBs, layout in vec0_changelog.h)
//   "<t>_chunks"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT NULL,
//               validity BLOB NOT NULL,rowids BLOB NOT NULL)
//       validity: chunk_size/8 bytes, bit j (LSB-first) = slot j occupied
//       rowids:   chunk_size x int64 LE (0 in free slots); size = chunk_size
//   "<t>_rowids"(rowid INTEGER PRIMARY KEY AUTOINCREMENT,id,chunk_id INTEGER,chunk_offset INTEGER)
//       (id TEXT UNIQUE NOT NULL with a text primary key; NULL otherwise)
//   "<t>_vector_chunksNN"(rowid PRIMARY KEY,vectors BLOB NOT NULL)  one row per chunk (rowid =
//       chunk_id), chunk_size x vector bytes, slot j at j * vector bytes, zeroed when free.
//   Inserts go to the first free slot of the latest chunk (a new zeroblob chunk when full);
//   free slots of older chunks are never reused; a chunk whose last row is deleted is deleted.
//   Issue 6 (vtab_vec0_columns.inc, vec0_columns.h for the byte layouts):
//   partition keys  "<t>_chunks" gets `sequence_id integer,partition00,...` before validity; every
//                   chunk holds one partition tuple and inserts go to the latest chunk of the tuple
//   metadata        "<t>_metadatachunksNN"(rowid PRIMARY KEY, data BLOB NOT NULL) one row per chunk,
//                   "<t>_metadatatextNN"(rowid PRIMARY KEY, data TEXT) for texts over 12 bytes
//                   (keyed by user rowid); NULLs: an optional trailing null bitmap (vecsqlite)
//   auxiliary       "<t>_auxiliary"( rowid integer PRIMARY KEY , value00, ...) keyed by rowid
//
// PLANS (idxNum:idxStr, visible in EXPLAIN QUERY PLAN, identical to the original):
//   fullscan  0:1
//   point     <colUsed>:2!___           rowid = ? / pk = ? (not IN), no MATCH
//   knn       <vector column index>:3{___}___[[___][*<op>__]...
//             {___ query vector, }___ k (from `k = ?` or LIMIT), [___ rowid IN (...),
//             *a__ distance >, *b__ >=, *c__ <, *d__ <=
//             ]<P><op>_ partition key P ('A' + index), &<M><op>_ metadata column M, op a = EQ,
//             b GT, c LE, d LT, e GE, f NE, g IN (metadata; and partition IN, a vecsqlite
//             change: one scan for all listed partitions), n IS NULL / m IS NOT NULL (vecsqlite)
//   One 4-character block per argv entry, in argv order.
//
// CACHE: queries never re-read chunk blobs. Each vtab (one per connection) keeps, per partition
// tuple (one group without partition keys) and vector column, an Arena (core/arena.h) whose
// ids are "position keys" chunk_id*4096 + (4095-offset), so TopK's id tie-break reproduces the
// original's tie order (earlier chunk first, higher slot first within a chunk); and per chunk
// its decoded metadata columns. A KNN scans only the selected groups' arenas, each with one
// scan_topk (threaded from 16 MiB on); rowid IN and metadata filters become an allowed-slot
// bitmap (or, when selective, a gathered block of the allowed rows) and distance constraints
// bounds, all applied before the top-k.
//
// WRITES: xUpdate validates everything, updates the cache at once and puts the shadow-table
// changes of the row into a write log (vec0_writelog.h): validity / rowids / vector bytes and
// the _rowids row. An INSERT appends to the log's current run (consecutive slots of a chunk:
// 8 bytes a row), whose vector bytes the flush reads from the arena; an UPDATE or DELETE first
// has the run holding its slot copy them (materialize), and so does a cache reload. The log
// reaches the tables at xSync (each touched chunk blob written once, _rowids rows in multi-row
// INSERTs), or earlier once it holds 16 MiB while no savepoint is open. Chunk creation and
// deletion, metadata slots, long text and aux rows are written at once (they live in tables
// the log does not touch). ROLLBACK TO truncates the log at the savepoint's mark; ROLLBACK
// drops it; both mark the cache stale when the transaction changed the table, and a reload in
// the middle of a transaction overlays what the log still holds. A write from inside the
// table's own write (a trigger on a shadow table) is refused.
// Inside an open write transaction, plain SQL reads of _chunks, _rowids and _vector_chunksNN
// may not show that transaction's latest vec0 writes yet.
//
// FRESHNESS: PRAGMA data_version moves when another connection or process committed to the
// file. The table's change marker then says whether that commit touched this table: the key
// vecsqlite_write_token in "<t>_info" (a random int64 that every vecsqlite transaction writing
// the table replaces at xSync), the AUTOINCREMENT sequences of _rowids and _chunks (moved by
// any implementation's inserts), and a fingerprint of the validity bitmaps (XOR of a hash per
// chunk, kept current by every write; moved by any implementation's inserts and deletes).
// Unchanged marker: the cache is kept. Changed by vecsqlite commits only: the change log
// (a ring of "<t>_info" rows vecsqlite_change_NN, vec0_changelog.h: per commit the chunks it touched and
// the marker before and after) names the chunks to re-read, and only those are (refresh_from_log;
// the validity fingerprint must then match the tables'). Otherwise, or when the chain of logged
// commits is broken (a commit by the original in between, more commits than the log keeps), the
// cache is reloaded whole, lazily. A table whose marker has no token (never written by
// vecsqlite) reloads on every data_version change. The original's own in-place UPDATEs do not
// move the marker (see README).
//
// k: no 4096 cap. k is limited only by the rows in the table (TopK allocates for what it keeps),
// so `k = 1e9` costs as much as a full sort of the table, never more.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/arena.h"
#include "kernels/kernels.h"
#include "sqlite/ext.h"
#include "sqlite/freshness.h"
#include "sqlite/vec0_changelog.h"
#include "sqlite/vec0_columns.h"
#include "sqlite/vec0_vector.h"
#include "sqlite/vec0_writelog.h"

namespace vecsqlite {
namespace {

using vec0::ElementType;
using vec0::string_printf;

constexpr int kMaxVectorColumns = 16;
constexpr int kMaxDims = 8192;
constexpr int kMaxChunkSize = 4096;
constexpr int kDefaultChunkSize = 1024;

// ---- error catalogue (vec0-design.md §5.8; original spellings kept) -------------------------
constexpr const char* kCtorPrefix = "vec0 constructor error: ";
constexpr const char* kInternal = "Internal sqlite-vec error: ";

enum class Dist { l2, l1, cosine, hamming };

struct VectorColumn {
  std::string name;
  ElementType type = ElementType::float32;
  int dims = 0;
  Dist dist = Dist::l2;
  size_t nbytes() const { return vec0::vector_byte_size(type, static_cast<size_t>(dims)); }
};

// Declared user columns in declaration order (issue 6: vectors, partition keys, metadata and
// auxiliary columns may be interleaved). Column c of the vtab (1-based) is order[c - 1].
enum class ColKind { vector, partition, metadata, aux };
struct ColRef {
  ColKind kind;
  int idx;  // index within its kind
};

struct Config {
  bool has_pk = false;
  bool text_pk = false;
  std::string pk_name;
  std::vector<VectorColumn> vcols;
  std::vector<vec0cols::PartitionColumn> pcols;
  std::vector<vec0cols::MetadataColumn> mcols;
  std::vector<vec0cols::AuxColumn> acols;
  std::vector<ColRef> order;
  int chunk_size = kDefaultChunkSize;
  int ncols() const { return static_cast<int>(order.size()); }
  // argv index (xUpdate) of user column j of kind k.
  int argv_of(ColKind k, int idx) const {
    for (size_t j = 0; j < order.size(); j++)
      if (order[j].kind == k && order[j].idx == idx) return 3 + static_cast<int>(j);
    return -1;
  }
};

// ---- CREATE argument parsing -----------------------------------------------------------------
enum class Tok { ident, number, lbracket, rbracket, eq, lparen, rparen, comma, plus, end, bad };
struct Token {
  Tok kind;
  std::string text;
};

std::vector<Token> tokenize(const std::string& s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { i++; continue; }
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')) {
      size_t j = i + 1;
      while (j < s.size() && (isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) j++;
      out.push_back({Tok::ident, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c >= '0' && c <= '9') {
      size_t j = i + 1;
      while (j < s.size() && s[j] >= '0' && s[j] <= '9') j++;
      out.push_back({Tok::number, s.substr(i, j - i)});
      i = j;
      continue;
    }
    Tok k = Tok::bad;
    switch (c) {
      case '[': k = Tok::lbracket; break;
      case ']': k = Tok::rbracket; break;
      case '=': k = Tok::eq; break;
      case '(': k = Tok::lparen; break;
      case ')': k = Tok::rparen; break;
      case ',': k = Tok::comma; break;
      case '+': k = Tok::plus; break;
      default: break;
    }
    out.push_back({k, std::string(1, c)});
    i++;
    if (k == Tok::bad) break;
  }
  out.push_back({Tok::end, ""});
  return out;
}

// The original compares keywords only up to the token's length: "te" is "text".
bool kw(const Token& t, const char* word) {
  if (t.kind != Tok::ident) return false;
  const size_t n = t.text.size();
  if (n > strlen(word)) return false;
  return sqlite3_strnicmp(t.text.c_str(), word, static_cast<int>(n)) == 0;
}
bool starts_with_ci(const std::string& s, const char* prefix) {
  const size_t n = strlen(prefix);
  return s.size() >= n && sqlite3_strnicmp(s.c_str(), prefix, static_cast<int>(n)) == 0;
}

// Results: 0 = not this kind of argument, 1 = parsed, -1 = error (err set).
int parse_vector_column(const std::vector<Token>& t, const std::string& arg, VectorColumn* out,
                        std::string* err) {
  if (t.size() < 4 || t[0].kind != Tok::ident || t[1].kind != Tok::ident) return 0;
  ElementType type;
  if (starts_with_ci(t[1].text, "float") || starts_with_ci(t[1].text, "f32")) type = ElementType::float32;
  else if (starts_with_ci(t[1].text, "int8") || starts_with_ci(t[1].text, "i8")) type = ElementType::int8;
  else if (starts_with_ci(t[1].text, "bit")) type = ElementType::bit;
  else return 0;
  auto fail = [&]() {
    *err = string_printf("%scould not parse vector column '%s'", kCtorPrefix, arg.c_str());
    return -1;
  };
  // `b float` alone is metadata; `b float not null` is a broken vector column (as 0.1.9).
  if (t[2].kind != Tok::lbracket) return t[2].kind == Tok::end ? 0 : fail();
  if (t[3].kind != Tok::number || t.size() < 5 || t[4].kind != Tok::rbracket) return fail();
  const long long dims = t[3].text.size() > 12 ? (1LL << 40) : atoll(t[3].text.c_str());
  if (dims <= 0) return fail();
  if (dims > kMaxDims) {
    *err = string_printf("%sDimension on vector column too large, provided %lld, maximum %lld",
                         kCtorPrefix, dims, static_cast<long long>(kMaxDims));
    return -1;
  }
  if (type == ElementType::bit && dims % 8 != 0) return fail();
  out->name = t[0].text;
  out->type = type;
  out->dims = static_cast<int>(dims);
  out->dist = type == ElementType::bit ? Dist::hamming : Dist::l2;
  size_t i = 5;
  while (t[i].kind != Tok::end) {
    if (kw(t[i], "distance_metric") && t[i].text.size() == strlen("distance_metric") &&
        t[i + 1].kind == Tok::eq && t[i + 2].kind == Tok::ident) {
      if (type == ElementType::bit) return fail();
      const std::string& m = t[i + 2].text;
      if (sqlite3_stricmp(m.c_str(), "l2") == 0) out->dist = Dist::l2;
      else if (sqlite3_stricmp(m.c_str(), "l1") == 0) out->dist = Dist::l1;
      else if (sqlite3_stricmp(m.c_str(), "cosine") == 0) out->dist = Dist::cosine;
      else return fail();
      i += 3;
    } else if (sqlite3_stricmp(t[i].text.c_str(), "indexed") == 0 && t[i].kind == Tok::ident) {
      // `indexed by flat()` is the default index; ANN indexes are not part of 0.1.9.
      if (t[i + 1].kind == Tok::ident && sqlite3_stricmp(t[i + 1].text.c_str(), "by") == 0 &&
          t[i + 2].kind == Tok::ident && sqlite3_stricmp(t[i + 2].text.c_str(), "flat") == 0 &&
          t[i + 3].kind == Tok::lparen && t[i + 4].kind == Tok::rparen) {
        i += 5;
      } else {
        return fail();
      }
    } else {
      return fail();
    }
  }
  return 1;
}

bool is_key_type(const Token& t, bool* is_text) {
  if (kw(t, "text")) { *is_text = true; return true; }
  if (kw(t, "int") || kw(t, "integer")) { *is_text = false; return true; }
  return false;
}

int parse_config(int argc, const char* const* argv, Config* cfg, std::string* err) {
  for (int a = 3; a < argc; a++) {
    const std::string arg = argv[a];
    const std::vector<Token> t = tokenize(arg);
    VectorColumn vc;
    const int r = parse_vector_column(t, arg, &vc, err);
    if (r < 0) return SQLITE_ERROR;
    if (r > 0) {
      if (static_cast<int>(cfg->vcols.size()) >= kMaxVectorColumns) {
        *err = string_printf("%sToo many provided vector columns, maximum %d", kCtorPrefix,
                             kMaxVectorColumns);
        return SQLITE_ERROR;
      }
      cfg->order.push_back({ColKind::vector, static_cast<int>(cfg->vcols.size())});
      cfg->vcols.push_back(vc);
      continue;
    }
    bool is_text = false;
    // Partition key: name type partition key (issue 6).
    // (Tokens after the definition are ignored, as 0.1.9 does.)
    if (t.size() >= 5 && t[0].kind == Tok::ident && is_key_type(t[1], &is_text) &&
        kw(t[2], "partition") && kw(t[3], "key")) {
      if (static_cast<int>(cfg->pcols.size()) >= vec0cols::kMaxPartitionColumns) {
        *err = string_printf("%sMore than %d partition key columns were provided", kCtorPrefix,
                             vec0cols::kMaxPartitionColumns);
        return SQLITE_ERROR;
      }
      cfg->order.push_back({ColKind::partition, static_cast<int>(cfg->pcols.size())});
      cfg->pcols.push_back({t[0].text, is_text});
      continue;
    }
    // Primary key: name text|int|integer primary key.
    if (t.size() >= 5 && t[0].kind == Tok::ident && is_key_type(t[1], &is_text) &&
        kw(t[2], "primary") && kw(t[3], "key")) {
      if (cfg->has_pk) {
        *err = string_printf(
            "%sMore than one primary key definition was provided, vec0 only suports a single "
            "primary key column",
            kCtorPrefix);
        return SQLITE_ERROR;
      }
      cfg->has_pk = true;
      cfg->text_pk = is_text;
      cfg->pk_name = t[0].text;
      continue;
    }
    // Auxiliary: +name type (issue 6).
    // `+name [type] ...`: the name may be a number (`+1 text`), trailing tokens are ignored, and
    // without a type the name itself is read as the type (0.1.9: `+b` is a BLOB column named b,
    // `+d` a FLOAT one, `+x` no aux column at all).
    if (t[0].kind == Tok::plus && t.size() >= 3 && (t[1].kind == Tok::ident || t[1].kind == Tok::number) &&
        (t[2].kind == Tok::ident || t[2].kind == Tok::end)) {
      const Token& ty = t[2].kind == Tok::end ? t[1] : t[2];
      vec0cols::AuxType at;
      bool ok = true;
      if (kw(ty, "text")) at = vec0cols::AuxType::text;
      else if (kw(ty, "int") || kw(ty, "integer")) at = vec0cols::AuxType::integer;
      else if (kw(ty, "float") || kw(ty, "double")) at = vec0cols::AuxType::real;
      else if (kw(ty, "blob")) at = vec0cols::AuxType::blob;
      else ok = false;
      if (ok) {
        if (static_cast<int>(cfg->acols.size()) >= vec0cols::kMaxAuxColumns) {
          *err = string_printf("%sMore than %d auxiliary columns were provided", kCtorPrefix,
                               vec0cols::kMaxAuxColumns);
          return SQLITE_ERROR;
        }
        cfg->order.push_back({ColKind::aux, static_cast<int>(cfg->acols.size())});
        cfg->acols.push_back({t[1].text, at});
        continue;
      }
    }
    // Metadata: name <type> ... (issue 6).
    if (t.size() >= 3 && t[0].kind == Tok::ident && t[1].kind == Tok::ident) {
      static const char* kMetaTypes[] = {"boolean", "bool",  "int64",   "integer64", "integer", "int",
                                         "float",   "double", "float64", "f64",       "text"};
      static const vec0cols::MetaType kMetaKinds[] = {
          vec0cols::MetaType::boolean, vec0cols::MetaType::boolean, vec0cols::MetaType::integer,
          vec0cols::MetaType::integer, vec0cols::MetaType::integer, vec0cols::MetaType::integer,
          vec0cols::MetaType::real,    vec0cols::MetaType::real,    vec0cols::MetaType::real,
          vec0cols::MetaType::real,    vec0cols::MetaType::text};
      bool found = false;
      for (size_t m = 0; m < sizeof kMetaTypes / sizeof kMetaTypes[0]; m++) {
        if (kw(t[1], kMetaTypes[m])) {
          if (static_cast<int>(cfg->mcols.size()) >= vec0cols::kMaxMetadataColumns) {
            *err = string_printf("%sMore than %d metadata columns were provided", kCtorPrefix,
                                 vec0cols::kMaxMetadataColumns);
            return SQLITE_ERROR;
          }
          cfg->order.push_back({ColKind::metadata, static_cast<int>(cfg->mcols.size())});
          cfg->mcols.push_back({t[0].text, kMetaKinds[m]});
          found = true;
          break;
        }
      }
      if (found) continue;
    }
    // Table option, parsed as 0.1.9 does: a key (an identifier, or nothing before another
    // token), compared by prefix with chunk_size, an optional '=', one value (not a number: 0).
    bool bad_token = false;
    for (const Token& tk : t) bad_token = bad_token || tk.kind == Tok::bad;
    if (t.size() >= 3 && !bad_token) {
      const std::string key = t[0].kind == Tok::ident ? t[0].text : std::string();
      const size_t vi = t[0].kind == Tok::ident ? 1 : 0;
      const bool is_chunk = key.size() <= strlen("chunk_size") &&
                            sqlite3_strnicmp(key.c_str(), "chunk_size", static_cast<int>(key.size())) == 0;
      if (!is_chunk) {
        *err = string_printf("%sUnknown table option: %s", kCtorPrefix, key.c_str());
        return SQLITE_ERROR;
      }
      size_t v = t[vi].kind == Tok::eq ? vi + 1 : vi;
      if (t[0].kind != Tok::ident) v = 1;  // "+y": the value is the token after the first
      if (t[v].kind == Tok::end) {
        *err = string_printf("%scould not parse table option '%s'", kCtorPrefix, arg.c_str());
        return SQLITE_ERROR;
      }
      long long n = 0;
      if (t[v].kind == Tok::number) {
        n = t[v].text.size() > 12 ? (1LL << 40) : atoll(t[v].text.c_str());
        if (t[v + 1].kind != Tok::end) {
          *err = string_printf("%scould not parse table option '%s'", kCtorPrefix, arg.c_str());
          return SQLITE_ERROR;
        }
      }
      if (n <= 0) {
        *err = string_printf("%schunk_size must be a non-zero positive integer", kCtorPrefix);
        return SQLITE_ERROR;
      }
      if (n % 8 != 0) {
        *err = string_printf("%schunk_size must be divisible by 8", kCtorPrefix);
        return SQLITE_ERROR;
      }
      if (n > kMaxChunkSize) {
        *err = string_printf("%schunk_size too large", kCtorPrefix);
        return SQLITE_ERROR;
      }
      cfg->chunk_size = static_cast<int>(n);
      continue;
    }
    *err = string_printf("%sCould not parse '%s'", kCtorPrefix, arg.c_str());
    return SQLITE_ERROR;
  }
  if (cfg->vcols.empty()) {
    *err = string_printf("%sAt least one vector column is required", kCtorPrefix);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

// ---- the table -------------------------------------------------------------------------------
inline int64_t pos_key(int64_t chunk_id, int offset) {
  return chunk_id * kMaxChunkSize + (kMaxChunkSize - 1 - offset);
}
inline int64_t pos_chunk(int64_t key) { return key / kMaxChunkSize; }

// A 64-bit fingerprint of one chunk's validity bitmap: the XOR over its 8-byte words (the
// last one zero-padded) of a hash of (chunk id, word index, word). A write that flips one bit
// updates it from that word alone (fp_word before and after).
inline uint64_t fp_word(int64_t chunk, size_t w, uint64_t word) {
  uint64_t z = word ^ (static_cast<uint64_t>(chunk) * 0x9e3779b97f4a7c15ULL) ^ ((w + 1) * 0xc2b2ae3d27d4eb4fULL);
  z ^= z >> 30;
  z *= 0xbf58476d1ce4e5b9ULL;
  z ^= z >> 27;
  z *= 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t validity_word(const uint8_t* v, size_t n, size_t w) {
  uint64_t x = 0;
  std::memcpy(&x, v + 8 * w, std::min<size_t>(8, n - 8 * w));
  return x;
}
uint64_t chunk_fp(int64_t chunk, const uint8_t* v, size_t n) {
  uint64_t h = 0;
  for (size_t w = 0; 8 * w < n; w++) h ^= fp_word(chunk, w, validity_word(v, n, w));
  return h;
}
// Sets byte `at` of a chunk's cached validity bitmap, keeping the table fingerprint current.
inline void set_validity_byte(uint64_t* fp, int64_t chunk, std::vector<uint8_t>* val, size_t at, uint8_t byte) {
  const size_t w = at / 8;
  const uint64_t before = validity_word(val->data(), val->size(), w);
  (*val)[at] = byte;
  *fp ^= fp_word(chunk, w, before) ^ fp_word(chunk, w, validity_word(val->data(), val->size(), w));
}
inline int pos_offset(int64_t key) { return kMaxChunkSize - 1 - static_cast<int>(key % kMaxChunkSize); }

Dtype dtype_of(ElementType t) {
  return t == ElementType::float32 ? Dtype::f32 : t == ElementType::int8 ? Dtype::i8 : Dtype::u1;
}

// Issue 6: rows are grouped by partition-key tuple; each group has its own arenas, so a KNN
// over one partition scans only that partition's vectors. A table without partition keys has
// exactly one group. Every chunk belongs to one group (chunks hold one tuple each).
struct Group {
  std::vector<vec0cols::Value> tuple;
  std::vector<Arena> arenas;  // per vector column, ids = position keys
  std::set<int64_t> chunks;   // chunk ids of this tuple (the latest is the insert target)
  // Where the next insert looks first: slot hint_next of chunk hint_chunk, whose cached validity
  // bitmap is *hint_val. Every slot below it is taken: a delete in the chunk drops the hint.
  int64_t hint_chunk = -1;
  int hint_next = 0;
  std::vector<uint8_t>* hint_val = nullptr;
  void drop_hint() {
    hint_chunk = -1;
    hint_val = nullptr;
  }
};
// Position key -> rowid: per chunk, a dense array indexed by slot (what the chunk's rowids blob
// holds) with a presence bitmap, so that an insert is two stores and a lookup two loads after
// finding the chunk (the last one found is remembered: inserts and scans go chunk by chunk).
// Chunks in id order, so a full scan reads them in the original's order.
class RowidSlots {
 public:
  RowidSlots() = default;
  RowidSlots(const RowidSlots& o) : chunks_(o.chunks_), n_(o.n_) {}
  RowidSlots(RowidSlots&& o) noexcept : chunks_(std::move(o.chunks_)), n_(o.n_) { o.forget(); }
  RowidSlots& operator=(RowidSlots o) noexcept {
    chunks_.swap(o.chunks_);
    std::swap(n_, o.n_);
    forget();
    o.forget();
    return *this;
  }
  size_t size() const { return n_; }
  bool find(int64_t key, int64_t* rowid) const {
    const Slots* c = chunk(pos_chunk(key));
    const size_t s = static_cast<size_t>(pos_offset(key));
    if (c == nullptr || s >= c->ids.size() || !(c->live[s / 64] >> (s % 64) & 1)) return false;
    *rowid = c->ids[s];
    return true;
  }
  void set(int64_t key, int64_t rowid) {
    const int64_t id = pos_chunk(key);
    Slots* c = chunk(id);
    if (c == nullptr) {
      c = &chunks_[id];
      last_id_ = id;
      last_ = c;
    }
    const size_t s = static_cast<size_t>(pos_offset(key));
    if (s >= c->ids.size()) {
      const size_t n = (std::max(s + 1, 2 * c->ids.size()) + 63) / 64 * 64;
      c->ids.resize(n);
      c->live.resize(n / 64);
    }
    uint64_t& w = c->live[s / 64];
    if (!(w >> (s % 64) & 1)) n_++;
    w |= uint64_t{1} << (s % 64);
    c->ids[s] = rowid;
  }
  bool erase(int64_t key) {
    Slots* c = chunk(pos_chunk(key));
    const size_t s = static_cast<size_t>(pos_offset(key));
    if (c == nullptr || s >= c->ids.size() || !(c->live[s / 64] >> (s % 64) & 1)) return false;
    c->live[s / 64] &= ~(uint64_t{1} << (s % 64));
    n_--;
    return true;
  }
  // Forgets a chunk (its rows are gone).
  void drop_chunk(int64_t id) {
    auto it = chunks_.find(id);
    if (it == chunks_.end()) return;
    for (uint64_t w : it->second.live) n_ -= static_cast<size_t>(__builtin_popcountll(w));
    if (last_ == &it->second) forget();
    chunks_.erase(it);
  }
  // Every (key, rowid), chunk by chunk, slot by slot.
  template <typename F>
  void each(F f) const {
    for (const auto& kv : chunks_)
      for (size_t w = 0; w < kv.second.live.size(); w++)
        for (uint64_t bits = kv.second.live[w]; bits != 0; bits &= bits - 1) {
          const size_t s = 64 * w + static_cast<size_t>(__builtin_ctzll(bits));
          f(pos_key(kv.first, static_cast<int>(s)), kv.second.ids[s]);
        }
  }

 private:
  struct Slots {
    std::vector<int64_t> ids;
    std::vector<uint64_t> live;
  };
  // The chunk's slots, or nullptr (the lookup cache is the only state a const lookup changes).
  Slots* chunk(int64_t id) const {
    if (last_ != nullptr && last_id_ == id) return last_;
    auto it = chunks_.find(id);
    if (it == chunks_.end()) return nullptr;
    last_id_ = id;
    last_ = &it->second;
    return last_;
  }
  void forget() {
    last_ = nullptr;
    last_id_ = INT64_MIN;
  }
  mutable std::map<int64_t, Slots> chunks_;  // map nodes stay put: last_ stays valid until copied
  size_t n_ = 0;
  mutable int64_t last_id_ = INT64_MIN;
  mutable Slots* last_ = nullptr;
};

// Per chunk: its group and the decoded metadata columns (columnar, indexed by slot).
struct ChunkCols {
  int group = 0;
  std::vector<vec0cols::MetaChunk> meta;
};
struct TupleLess {
  bool operator()(const std::vector<vec0cols::Value>& a, const std::vector<vec0cols::Value>& b) const {
    return vec0cols::tuple_less(a, b);
  }
};

struct Cache {
  bool valid = false;
  std::vector<Group> groups;
  std::map<std::vector<vec0cols::Value>, int, TupleLess> group_of;
  std::unordered_map<int64_t, ChunkCols> chunk_cols;  // chunk_id -> group, metadata
  IdMap<int64_t> pos_of;     // rowid -> position key
  RowidSlots rowid_at;       // position key -> rowid
  std::unordered_map<int64_t, std::string> text_of;        // rowid -> text id (text pk)
  std::unordered_map<std::string, int64_t> rowid_of_text;  // text id -> rowid
  std::map<int64_t, std::vector<uint8_t>> validity;        // chunk_id -> validity bitmap
  // max(0, largest rowid in _rowids, its sqlite_sequence value): the AUTOINCREMENT state, so
  // that an insert without an id gets the rowid the original would give it.
  int64_t max_rowid = 0;
  // XOR over chunks of chunk_fp(chunk_id, validity): kept up to date by every write, compared
  // with the tables' when another connection committed (part of the change marker).
  uint64_t validity_fp = 0;
  bool has_marker = false;  // `marker` was read when the cache was last known to be current
  struct Marker {
    bool has_token = false;
    int64_t token = 0, seq_rowids = -1, seq_chunks = -1;
    bool operator==(const Marker& o) const {
      return has_token == o.has_token && token == o.token && seq_rowids == o.seq_rowids && seq_chunks == o.seq_chunks;
    }
  } marker;
};

struct Vec0Table {
  sqlite3_vtab base;  // must be first
  sqlite3* db = nullptr;
  std::string schema;
  std::string name;
  Config cfg;
  Cache cache;
  DataVersionProbe probe;
  std::unordered_map<std::string, sqlite3_stmt*> stmts;  // write statements, keyed by SQL text
  // Shadow-table names and the hot write statements' SQL (set_names(): at connect and rename).
  std::string n_chunks, n_rowids;
  std::vector<std::string> n_vchunks;
  std::vector<std::string> n_mchunks, n_mtext;  // per metadata column (n_mtext: "" unless TEXT)
  std::string n_aux, sql_aux_select;
  std::string sql_insert_rowid, sql_delete_rowid;
  std::string sql_insert_rowid_auto, sql_next_rowid;  // apply_rowids: rows without their rowid
  // Blob writes of the open write transaction not yet in the chunk tables (vec0_writelog.h).
  Vec0WriteLog log;
  std::vector<vec0::Vector> insert_vecs;  // an INSERT's parsed vectors (valid during the xUpdate)
  int update_depth = 0;                   // xUpdate calls in progress (see xUpdate)
  // The full-size _rowids inserts of apply_rowids (with and without the rowid), prepared on
  // first use for `rows` rows.
  struct KeptInsert {
    sqlite3_stmt* st = nullptr;
    size_t rows = 0;
  } ins_rowids, ins_rowids_auto;
  bool wrote = false;  // this transaction changed the table: xSync stores a new write token
  // Between xBegin and commit/rollback no other connection can commit (this one holds the
  // write lock), so data_version is checked once per write transaction.
  bool in_write_txn = false, txn_checked = false;
  bool mutated = false;  // the current xUpdate has started changing tables, log or cache
  bool txn_mutated = false;  // some xUpdate of this transaction did
  // A write that failed after it began changing the table leaves shadow rows or log entries
  // behind that only a rollback removes: SQLite undoes a failed statement only when it took a
  // statement savepoint (multi-row statements), not for a single-row INSERT / UPDATE / DELETE
  // inside a transaction. Until a rollback reaches back past it (a ROLLBACK, or ROLLBACK TO a
  // savepoint opened before it, levels < broken_below), xSync refuses to commit.
  bool broken = false;
  int broken_below = 0;
  int open_levels = 0;  // savepoint levels SQLite has opened on this table (xSavepoint / xRelease)
  // xUpdate calls that changed something, and their count when each open savepoint level
  // began (kUnknownLevel: SQLite opened that level before this table joined the transaction).
  // A ROLLBACK TO a level nothing changed since keeps the cache (xRollbackTo).
  uint64_t mutations = 0;
  std::vector<uint64_t> level_mutations;
  static constexpr uint64_t kUnknownLevel = UINT64_MAX;
  // For the change log (vec0_changelog.h): the chunks this transaction's writes touched, and
  // the table's marker and validity fingerprint when it first wrote (txn_pre_ok: known).
  std::set<int64_t> txn_chunks;
  bool txn_pre_taken = false, txn_pre_ok = false;
  Cache::Marker txn_pre;
  uint64_t txn_pre_fp = 0;
  int64_t last_noted = -1;  // the chunk note_chunk() saw last (runs of inserts share one)
  void note_chunk(int64_t chunk) {
    if (chunk == last_noted) return;
    txn_chunks.insert(chunk);
    last_noted = chunk;
  }
  // At each transaction boundary (xBegin, xCommit, xRollback).
  void reset_txn_changes() {
    txn_chunks.clear();
    last_noted = -1;
    txn_pre_taken = txn_pre_ok = false;
    broken = false;
    open_levels = 0;
    level_mutations.clear();
  }
  void finalize_all() {
    for (auto& kv : stmts) sqlite3_finalize(kv.second);
    stmts.clear();
    for (KeptInsert* k : {&ins_rowids, &ins_rowids_auto}) {
      sqlite3_finalize(k->st);
      *k = KeptInsert();
    }
  }
  ~Vec0Table() { finalize_all(); }
  // column layout: 0 = rowid/pk, 1..n = user columns (cfg.order), n+1 = distance, n+2 = k
  int col_distance() const { return 1 + cfg.ncols(); }
  int col_k() const { return 2 + cfg.ncols(); }
  const ColRef* col_ref(int col) const {
    return col >= 1 && col <= cfg.ncols() ? &cfg.order[static_cast<size_t>(col - 1)] : nullptr;
  }
};

void set_err(Vec0Table* t, const std::string& msg) {
  sqlite3_free(t->base.zErrMsg);
  t->base.zErrMsg = sqlite3_mprintf("%s", msg.c_str());
}

std::string shadow(const Vec0Table* t, const char* suffix) { return t->name + "_" + suffix; }
std::string vchunks_name(const Vec0Table* t, size_t i) {
  return t->name + string_printf("_vector_chunks%02d", static_cast<int>(i));
}

void set_names(Vec0Table* t) {
  t->n_chunks = shadow(t, "chunks");
  t->n_rowids = shadow(t, "rowids");
  t->n_vchunks.clear();
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) t->n_vchunks.push_back(vchunks_name(t, i));
  t->n_mchunks.clear();
  t->n_mtext.clear();
  for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
    t->n_mchunks.push_back(t->name + string_printf("_metadatachunks%02d", static_cast<int>(i)));
    t->n_mtext.push_back(t->cfg.mcols[i].type == vec0cols::MetaType::text
                             ? t->name + string_printf("_metadatatext%02d", static_cast<int>(i))
                             : std::string());
  }
  t->n_aux = shadow(t, "auxiliary");
  t->sql_aux_select = "SELECT ";
  for (size_t i = 0; i < t->cfg.acols.size(); i++)
    t->sql_aux_select += string_printf("%svalue%02d", i ? ", " : "", static_cast<int>(i));
  t->sql_aux_select += string_printf(" FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_aux.c_str());
  t->sql_insert_rowid = string_printf("INSERT INTO \"%w\".\"%w\"(rowid, id, chunk_id, chunk_offset) VALUES (?, ?, ?, ?)",
                                      t->schema.c_str(), t->n_rowids.c_str());
  t->sql_insert_rowid_auto = string_printf("INSERT INTO \"%w\".\"%w\"(id, chunk_id, chunk_offset) VALUES (?, ?, ?)",
                                           t->schema.c_str(), t->n_rowids.c_str());
  t->sql_next_rowid = string_printf("SELECT max(0, coalesce((SELECT max(rowid) FROM \"%w\".\"%w\"), 0), "
                                    "coalesce((SELECT seq FROM \"%w\".sqlite_sequence WHERE name = '%q'), 0))",
                                    t->schema.c_str(), t->n_rowids.c_str(), t->schema.c_str(), t->n_rowids.c_str());
  t->sql_delete_rowid = string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_rowids.c_str());
}

// Runs one statement with optional int64 binds; returns the SQLite rc.
int exec_sql(sqlite3* db, const std::string& sql, std::string* err) {
  char* e = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &e);
  if (rc != SQLITE_OK && err != nullptr) *err = e != nullptr ? e : sqlite3_errmsg(db);
  sqlite3_free(e);
  return rc;
}

// Blob numbers in the write log (vec0_writelog.h).
constexpr int kBlobValidity = 0;
constexpr int kBlobRowids = 1;
constexpr int kBlobVectors = 2;  // + vector column index
constexpr int kBlobMeta = kBlobVectors + 16;  // + metadata column index: _metadatachunksNN.data

// Log writes reach SQLite early, while no savepoint is open, once this many bytes are pending.
constexpr size_t kLogFlushBytes = 16u << 20;

int prepare(Vec0Table* t, const std::string& sql, sqlite3_stmt** st);
int step_done(Vec0Table* t, sqlite3_stmt* st);

// max(0, largest rowid in _rowids, its sqlite_sequence value): see Cache::max_rowid. One less
// than the rowid SQLite gives a _rowids row inserted without one.
int read_max_rowid(Vec0Table* t, int64_t* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, t->sql_next_rowid, &st);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW) {
    *out = sqlite3_column_int64(st, 0);
    rc = SQLITE_OK;
  } else if (rc == SQLITE_DONE) {
    rc = SQLITE_ERROR;
  }
  sqlite3_reset(st);
  return rc;
}

// Applies the log's net _rowids changes: deletes, then inserts in statements of up to
// kRowsPerInsert rows (fewer where the library allows fewer than 4 parameters a row).
constexpr size_t kRowsPerInsert = 256;
constexpr size_t kAutoRowidsMin = 64;  // rows a flush inserts before it looks for the next rowid
int apply_rowids(Vec0Table* t, const std::vector<int64_t>& deletes, const std::vector<Vec0WriteLog::RowidRow>& inserts,
                 bool any_insert, int64_t max_inserted) {
  sqlite3_stmt* st = nullptr;
  int rc;
  for (int64_t rowid : deletes) {
    rc = prepare(t, t->sql_delete_rowid, &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, rowid);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
  }
  const size_t per = std::max<size_t>(
      1, std::min<size_t>(kRowsPerInsert, static_cast<size_t>(sqlite3_limit(t->db, SQLITE_LIMIT_VARIABLE_NUMBER, -1)) / 4));
  // The rowid SQLite gives a row inserted without one (AUTOINCREMENT: one past the largest of
  // the table's rowids and its sqlite_sequence value). A batch whose rowids are exactly the next
  // ones (a bulk insert of ascending ids, or of no ids) goes in without them: SQLite then appends
  // each row instead of searching the table for its rowid first (about 0.16 instead of 0.28 us
  // a row). Small flushes skip the query this needs.
  int64_t next = 0;
  bool know_next = false;
  if (inserts.size() >= kAutoRowidsMin) {
    int64_t m = 0;
    rc = read_max_rowid(t, &m);
    if (rc != SQLITE_OK) return rc;
    know_next = m < INT64_MAX - static_cast<int64_t>(inserts.size());
    if (know_next) next = m + 1;  // (m may be INT64_MAX: no overflow)
  }
  for (size_t i = 0; i < inserts.size();) {
    const size_t n = std::min(per, inserts.size() - i);
    bool in_order = know_next;
    for (size_t j = 0; in_order && j < n; j++) in_order = inserts[i + j].rowid == next + static_cast<int64_t>(j);
    Vec0Table::KeptInsert& kept = in_order ? t->ins_rowids_auto : t->ins_rowids;
    const std::string& head = in_order ? t->sql_insert_rowid_auto : t->sql_insert_rowid;
    const char* more = in_order ? ", (?, ?, ?)" : ", (?, ?, ?, ?)";
    if (n == per && kept.st != nullptr && kept.rows == per) {
      st = kept.st;  // the full-size statement, kept apart: no SQL text to build and look up
    } else {
      std::string sql = head;
      for (size_t j = 1; j < n; j++) sql += more;
      if (n == per) {
        sqlite3_finalize(kept.st);
        kept = Vec0Table::KeptInsert();
        rc = sqlite3_prepare_v3(t->db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &kept.st, nullptr);
        if (rc != SQLITE_OK) {
          set_err(t, sqlite3_errmsg(t->db));
          return rc;
        }
        kept.rows = per;
        st = kept.st;
      } else {
        rc = prepare(t, sql, &st);
        if (rc != SQLITE_OK) return rc;
      }
    }
    // Every parameter is bound each time (the id as NULL for integer keys): no clearing needed.
    const int cols = in_order ? 3 : 4;
    int64_t batch_max = INT64_MIN;
    for (size_t j = 0; j < n; j++) {
      const Vec0WriteLog::RowidRow& r = inserts[i + j];
      int p = cols * static_cast<int>(j);
      if (!in_order) sqlite3_bind_int64(st, ++p, r.rowid);
      if (r.has_text) sqlite3_bind_text(st, ++p, r.text, static_cast<int>(r.text_len), SQLITE_STATIC);
      else sqlite3_bind_null(st, ++p);
      sqlite3_bind_int64(st, ++p, r.chunk);
      sqlite3_bind_int(st, ++p, r.offset);
      batch_max = std::max(batch_max, r.rowid);
    }
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) {
      set_err(t, string_printf("Error inserting id into rowids shadow table: %s", sqlite3_errmsg(t->db)));
      return rc == SQLITE_ROW || rc == SQLITE_OK ? SQLITE_ERROR : rc;
    }
    if (in_order) {
      // SQLite chose the rowids: they must be the ones the log holds (checked on the last).
      if (sqlite3_last_insert_rowid(t->db) != batch_max) {
        set_err(t, string_printf("%s_rowids rows got other rowids than expected (%lld, not %lld)", kInternal,
                                 static_cast<long long>(sqlite3_last_insert_rowid(t->db)), static_cast<long long>(batch_max)));
        return SQLITE_INTERNAL;
      }
      next += static_cast<int64_t>(n);
    } else if (know_next && batch_max >= next) {
      know_next = batch_max < INT64_MAX - static_cast<int64_t>(inserts.size());
      if (know_next) next = batch_max + 1;
    }
    i += n;
  }
  // Rows inserted and deleted again inside the transaction never reached _rowids, but their
  // rowids count for AUTOINCREMENT, as they do in the original.
  if (any_insert && max_inserted > 0) {
    rc = prepare(t, string_printf("UPDATE \"%w\".sqlite_sequence SET seq = ?1 WHERE name = '%q' AND seq < ?1",
                                  t->schema.c_str(), t->n_rowids.c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int64(st, 1, max_inserted);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
    if (sqlite3_changes(t->db) == 0) {
      rc = prepare(t, string_printf("INSERT INTO \"%w\".sqlite_sequence(name, seq) SELECT '%q', ?1 WHERE NOT EXISTS "
                                    "(SELECT 1 FROM \"%w\".sqlite_sequence WHERE name = '%q')",
                                    t->schema.c_str(), t->n_rowids.c_str(), t->schema.c_str(), t->n_rowids.c_str()), &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, max_inserted);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) return rc;
    }
  }
  return SQLITE_OK;
}

int flush_log(Vec0Table* t) {
  std::string err;
  const int rc = t->log.flush(
      t->db, t->schema,
      [t](int blob) -> Vec0WriteLog::Target {
        if (blob == kBlobValidity) return {t->n_chunks, "validity"};
        if (blob == kBlobRowids) return {t->n_chunks, "rowids"};
        if (blob >= kBlobMeta) return {t->n_mchunks[static_cast<size_t>(blob - kBlobMeta)], "data"};
        return {t->n_vchunks[static_cast<size_t>(blob - kBlobVectors)], "vectors"};
      },
      [t](const std::vector<int64_t>& deletes, const std::vector<Vec0WriteLog::RowidRow>& inserts, bool any,
          int64_t max_inserted) { return apply_rowids(t, deletes, inserts, any, max_inserted); },
      &err);
  if (rc != SQLITE_OK && !err.empty()) set_err(t, err);
  return rc;
}

// A metadata slot write (len bytes at offset `at` of _metadatachunks<i>.data of `chunk`),
// deferred in the write log like the vector bytes.
int write_meta_bytes(Vec0Table* t, size_t i, int64_t chunk, const void* buf, int len, int at) {
  t->log.write(kBlobMeta + static_cast<int>(i), chunk, static_cast<uint32_t>(at), buf, static_cast<uint32_t>(len));
  return SQLITE_OK;
}

// ---- issue 6: partition groups, metadata and aux columns (in the included file) ----------
#include "sqlite/vtab_vec0_columns.inc"  // NOLINT(build/include)

// Where the write log's runs find their vector bytes (Vec0WriteLog::Source): the arena rows of
// `count` consecutive slots from `slot` on, when they lie back to back.
const uint8_t* vector_rows(Vec0Table* t, int blob, int64_t chunk, int slot, uint32_t count) {
  if (blob < kBlobVectors || blob >= kBlobMeta || count == 0) return nullptr;
  const int64_t first = pos_key(chunk, slot);
  const Arena* a = arena_ptr(t->cache, first, static_cast<size_t>(blob - kBlobVectors));
  size_t s0 = 0;
  if (a == nullptr || !a->slot_of(first, &s0) || s0 + count > a->size()) return nullptr;
  const int64_t* ids = a->ids() + s0;
  for (uint32_t k = 1; k < count; k++)
    if (ids[k] != pos_key(chunk, slot + static_cast<int>(k))) return nullptr;
  return static_cast<const uint8_t*>(a->row_at(s0));
}

// The write log's run layout (vec0_writelog.h, RUNS): validity, rowids and the vector blobs.
Vec0WriteLog::Layout log_layout(const Config& cfg) {
  Vec0WriteLog::Layout l;
  l.validity_blob = kBlobValidity;
  l.rowids_blob = kBlobRowids;
  for (size_t i = 0; i < cfg.vcols.size(); i++)
    l.vectors.push_back({kBlobVectors + static_cast<int>(i), static_cast<uint32_t>(cfg.vcols[i].nbytes())});
  return l;
}

std::atomic<int64_t> g_cache_loads{0};

// The vectors of column i of one chunk (`data`: its whole vectors blob) into the arenas, for
// the slots the chunk's validity bitmap marks (load_cache and refresh_chunks).
void upsert_chunk_vectors(Cache& c, int64_t chunk, size_t i, const std::vector<uint8_t>& validity, const uint8_t* data,
                          size_t nb, int cs) {
  for (int j = 0; j < cs; j++) {
    if (!(validity[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
    const int64_t key = pos_key(chunk, j);
    arena_for(c, key, i).upsert(key, data + static_cast<size_t>(j) * nb);
  }
}


// Rebuilds the cache from the chunk tables (they are the source of truth).
int load_cache(Vec0Table* t) {
  g_cache_loads++;
  Cache& c = t->cache;
  t->log.materialize_all();  // the arenas pending runs read from go now
  c = Cache();
  const int cs = t->cfg.chunk_size;
  const size_t vbytes = static_cast<size_t>(cs / 8);
  const size_t rbytes = static_cast<size_t>(cs) * 8;
  sqlite3_stmt* st = nullptr;
  std::string sql = "SELECT chunk_id, validity, rowids";
  for (size_t p = 0; p < t->cfg.pcols.size(); p++) sql += string_printf(", partition%02d", static_cast<int>(p));
  sql += string_printf(" FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_chunks.c_str());
  int rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
  if (rc != SQLITE_OK) {
    set_err(t, string_printf("Error preparing stmtChunk: %s", sqlite3_errmsg(t->db)));
    return rc;
  }
  std::vector<std::pair<int64_t, std::vector<int64_t>>> chunk_rows;  // chunk -> rowid per slot (-1 free)
  size_t n_rows = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const int64_t chunk_id = sqlite3_column_int64(st, 0);
    const uint8_t* val = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
    const size_t nval = static_cast<size_t>(sqlite3_column_bytes(st, 1));
    const uint8_t* rows = static_cast<const uint8_t*>(sqlite3_column_blob(st, 2));
    const size_t nrows = static_cast<size_t>(sqlite3_column_bytes(st, 2));
    if (nval != vbytes) {
      set_err(t, string_printf("chunk validity size doesn't match - expected %d, found %d",
                               static_cast<int>(vbytes), static_cast<int>(nval)));
      rc = SQLITE_ERROR;
      break;
    }
    if (nrows != rbytes) {
      set_err(t, string_printf("chunk rowids size doesn't match - expected %d, found %d",
                               static_cast<int>(rbytes), static_cast<int>(nrows)));
      rc = SQLITE_ERROR;
      break;
    }
    std::vector<uint8_t> v(val, val + nval);
    t->log.overlay(kBlobValidity, chunk_id, v.data(), v.size());
    std::vector<uint8_t> rows_copy;
    if (t->log.touches(kBlobRowids, chunk_id)) {
      rows_copy.assign(rows, rows + nrows);
      t->log.overlay(kBlobRowids, chunk_id, rows_copy.data(), rows_copy.size());
      rows = rows_copy.data();
    }
    std::vector<int64_t> slots(static_cast<size_t>(cs), -1);
    for (int j = 0; j < cs; j++) {
      if (v[static_cast<size_t>(j / 8)] & (1u << (j % 8))) {
        std::memcpy(&slots[static_cast<size_t>(j)], rows + static_cast<size_t>(j) * 8, 8);
        n_rows++;
      }
    }
    c.validity_fp ^= chunk_fp(chunk_id, v.data(), v.size());
    c.validity.emplace(chunk_id, std::move(v));
    chunk_rows.emplace_back(chunk_id, std::move(slots));
    cols_register_chunk(t, chunk_id, partition_tuple_of(t, st, 3));  // issue 6
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE) {
    if (rc == SQLITE_ROW || rc == SQLITE_OK) rc = SQLITE_ERROR;
    if (t->base.zErrMsg == nullptr) set_err(t, sqlite3_errmsg(t->db));
    c = Cache();
    return rc;
  }
  // The row maps, sized once; then every arena reserved for the rows it gets, and their fresh
  // pages faulted in on a helper thread while this one reads the vector blobs (on a VM, the
  // kernel zeroing those pages is a third of a cold load).
  c.pos_of.reserve(n_rows);
  std::unordered_map<Arena*, size_t> arena_rows;
  for (const auto& cr : chunk_rows) {
    size_t used = 0;
    const std::vector<uint8_t>& val = c.validity[cr.first];
    for (int j = 0; j < cs; j++) {
      const int64_t id = cr.second[static_cast<size_t>(j)];
      if (id == -1 && !(val[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
      const int64_t key = pos_key(cr.first, j);
      c.pos_of[id] = key;
      c.rowid_at.set(key, id);
      used++;
    }
    if (used == 0) continue;
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) arena_rows[&arena_for(c, pos_key(cr.first, 0), i)] += used;
  }
  std::vector<std::function<void()>> prefault;
  for (auto& ar : arena_rows) {
    ar.first->reserve(ar.first->size() + ar.second);
    if (auto f = ar.first->prefaulter(ar.first->size() + ar.second)) prefault.push_back(std::move(f));
  }
  // Joined before the arenas could go (every `c = Cache()` below), and on any other way out.
  struct Helper {
    std::thread th;
    void join() {
      if (th.joinable()) th.join();
    }
    ~Helper() { join(); }
  } helper;
  if (!prefault.empty()) {
    try {
      helper.th = std::thread([fs = std::move(prefault)] {
        for (const auto& f : fs) f();
      });
    } catch (...) {
      // no thread: the pages fault in as the rows arrive
    }
  }
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
    const size_t nb = t->cfg.vcols[i].nbytes();
    sql = string_printf("SELECT vectors FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(),
                        t->n_vchunks[i].c_str());
    rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      set_err(t, sqlite3_errmsg(t->db));
      helper.join();
      c = Cache();
      return rc;
    }
    for (const auto& cr : chunk_rows) {
      sqlite3_bind_int64(st, 1, cr.first);
      rc = sqlite3_step(st);
      if (rc != SQLITE_ROW) {
        set_err(t, string_printf("%scould not open vectors blob on %s.%s.%lld", kInternal, t->schema.c_str(),
                                 t->n_vchunks[i].c_str(), static_cast<long long>(cr.first)));
        sqlite3_finalize(st);
        helper.join();
        c = Cache();
        return SQLITE_ERROR;
      }
      const uint8_t* data = static_cast<const uint8_t*>(sqlite3_column_blob(st, 0));
      const size_t n = static_cast<size_t>(sqlite3_column_bytes(st, 0));
      std::vector<uint8_t> patched;
      if (n == nb * static_cast<size_t>(cs) && t->log.touches(kBlobVectors + static_cast<int>(i), cr.first)) {
        patched.assign(data, data + n);
        t->log.overlay(kBlobVectors + static_cast<int>(i), cr.first, patched.data(), n);
        data = patched.data();
      }
      if (n != nb * static_cast<size_t>(cs)) {
        set_err(t, string_printf("vectors blob size doesn't match - expected %d, found %d",
                                 static_cast<int>(nb * static_cast<size_t>(cs)), static_cast<int>(n)));
        sqlite3_finalize(st);
        helper.join();
        c = Cache();
        return SQLITE_ERROR;
      }
      upsert_chunk_vectors(c, cr.first, i, c.validity[cr.first], data, nb, cs);
      sqlite3_reset(st);
    }
    sqlite3_finalize(st);
  }
  helper.join();
  if (t->cfg.text_pk) {
    sql = string_printf("SELECT rowid, id FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_rowids.c_str());
    rc = sqlite3_prepare_v2(t->db, sql.c_str(), -1, &st, nullptr);
    if (rc != SQLITE_OK) {
      set_err(t, sqlite3_errmsg(t->db));
      c = Cache();
      return rc;
    }
    while (sqlite3_step(st) == SQLITE_ROW) {
      const int64_t rid = sqlite3_column_int64(st, 0);
      const char* s = reinterpret_cast<const char*>(sqlite3_column_text(st, 1));
      std::string id = s != nullptr ? std::string(s, static_cast<size_t>(sqlite3_column_bytes(st, 1))) : std::string();
      c.rowid_of_text[id] = rid;
      c.text_of[rid] = std::move(id);
    }
    sqlite3_finalize(st);
    // Rows of this transaction still in the write log.
    t->log.each_rowid_op([&c](bool insert, int64_t rid, const std::string* text) {
      auto old = c.text_of.find(rid);
      if (old != c.text_of.end()) {
        c.rowid_of_text.erase(old->second);
        c.text_of.erase(old);
      }
      if (insert && text != nullptr) {
        c.rowid_of_text[*text] = rid;
        c.text_of[rid] = *text;
      }
    });
  }
  // AUTOINCREMENT state of _rowids, including rows still in the write log.
  rc = read_max_rowid(t, &c.max_rowid);
  if (rc != SQLITE_OK) {
    set_err(t, sqlite3_errmsg(t->db));
    c = Cache();
    return rc;
  }
  t->log.each_rowid_op([&c](bool insert, int64_t rid, const std::string*) {
    if (insert && rid > c.max_rowid) c.max_rowid = rid;
  });
  rc = cols_load(t);  // issue 6
  if (rc != SQLITE_OK) {
    c = Cache();
    return rc;
  }
  c.valid = true;
  return SQLITE_OK;
}

// ---- the per-table change marker -----------------------------------------------------------
// "<t>_info" key vecsqlite_write_token holds a random int64 that every vecsqlite transaction
// writing the table replaces at xSync. With the AUTOINCREMENT sequences of _rowids and _chunks
// (which move on any insert, by any implementation) and the validity fingerprint (any insert or
// delete) it tells whether the table changed since the cache was loaded, without reading it.
constexpr const char* kTokenKey = "vecsqlite_write_token";

int read_marker(Vec0Table* t, Cache::Marker* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT (SELECT value FROM \"%w\".\"%w\" WHERE key = '%s'), "
                                    "(SELECT seq FROM \"%w\".sqlite_sequence WHERE name = '%q'), "
                                    "(SELECT seq FROM \"%w\".sqlite_sequence WHERE name = '%q')",
                                    t->schema.c_str(), shadow(t, "info").c_str(), kTokenKey, t->schema.c_str(),
                                    t->n_rowids.c_str(), t->schema.c_str(), t->n_chunks.c_str()),
                   &st);
  if (rc != SQLITE_OK) return rc;
  rc = sqlite3_step(st);
  if (rc != SQLITE_ROW) {
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_ERROR : rc;
  }
  Cache::Marker m;
  m.has_token = sqlite3_column_type(st, 0) == SQLITE_INTEGER;
  m.token = m.has_token ? sqlite3_column_int64(st, 0) : 0;
  m.seq_rowids = sqlite3_column_type(st, 1) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 1);
  m.seq_chunks = sqlite3_column_type(st, 2) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 2);
  sqlite3_reset(st);
  *out = m;
  return SQLITE_OK;
}

// The validity fingerprint of the chunk tables as this connection sees them (a pass over
// _chunks that reads only the small validity column).
int read_validity_fp(Vec0Table* t, uint64_t* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT chunk_id, validity FROM \"%w\".\"%w\"", t->schema.c_str(), t->n_chunks.c_str()), &st);
  if (rc != SQLITE_OK) return rc;
  uint64_t fp = 0;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    const uint8_t* v = static_cast<const uint8_t*>(sqlite3_column_blob(st, 1));
    fp ^= chunk_fp(sqlite3_column_int64(st, 0), v, static_cast<size_t>(sqlite3_column_bytes(st, 1)));
  }
  sqlite3_reset(st);
  if (rc != SQLITE_DONE) return rc;
  *out = fp;
  return SQLITE_OK;
}

int write_token(Vec0Table* t, int64_t* written) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(key, value) VALUES ('%s', ?) "
                                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                    t->schema.c_str(), shadow(t, "info").c_str(), kTokenKey),
                   &st);
  if (rc != SQLITE_OK) return rc;
  int64_t token = 0;
  sqlite3_randomness(sizeof token, &token);
  sqlite3_bind_int64(st, 1, token);
  *written = token;
  return step_done(t, st);
}

// ---- the change log (vec0_changelog.h) ------------------------------------------------------
constexpr const char* kChangeHeadKey = "vecsqlite_change_head";
std::atomic<int64_t> g_refreshes{0};

// All entries of the ring (vec0_changelog.h); rows that do not decode are left out.
int read_change_log(Vec0Table* t, Vec0ChangeLog* out) {
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT value FROM \"%w\".\"%w\" WHERE key BETWEEN 'vecsqlite_change_00' AND "
                                    "'vecsqlite_change_99'", t->schema.c_str(), shadow(t, "info").c_str()),
                   &st);
  if (rc != SQLITE_OK) return rc;
  while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
    if (sqlite3_column_type(st, 0) != SQLITE_BLOB) continue;
    int64_t seq = 0;
    Vec0Change c;
    if (Vec0ChangeLog::decode_entry(sqlite3_column_blob(st, 0), static_cast<size_t>(sqlite3_column_bytes(st, 0)), &seq, &c))
      out->add(std::move(c));
  }
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

// At xSync, after the write token: writes this commit (the chunks it touched, the marker
// before and after) into the next slot of the table's change log ring, and moves the head.
int write_change_log(Vec0Table* t, int64_t token) {
  Vec0Change ch;
  ch.token = token;
  ch.prev_token = t->txn_pre.token;
  ch.pre = Vec0MarkerState{t->txn_pre.seq_rowids, t->txn_pre.seq_chunks, t->txn_pre_fp};
  ch.recorded = t->txn_pre_ok && t->txn_pre.has_token && t->cache.valid && t->cache.has_marker &&
                t->cache.marker.token == token && t->txn_chunks.size() <= Vec0ChangeLog::kMaxChunks;
  if (ch.recorded) {
    ch.post = Vec0MarkerState{t->cache.marker.seq_rowids, t->cache.marker.seq_chunks, t->cache.validity_fp};
    ch.chunks.assign(t->txn_chunks.begin(), t->txn_chunks.end());
  }
  const std::string info = shadow(t, "info");
  sqlite3_stmt* st = nullptr;
  int rc = prepare(t, string_printf("SELECT value FROM \"%w\".\"%w\" WHERE key = '%s'", t->schema.c_str(), info.c_str(),
                                    kChangeHeadKey),
                   &st);
  if (rc != SQLITE_OK) return rc;
  int64_t seq = 0;
  rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_type(st, 0) == SQLITE_INTEGER && sqlite3_column_int64(st, 0) >= 0 &&
      sqlite3_column_int64(st, 0) < INT64_MAX)
    seq = sqlite3_column_int64(st, 0) + 1;
  sqlite3_reset(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return rc;
  const std::string blob = Vec0ChangeLog::encode_entry(seq, ch);
  rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(key, value) VALUES (?1, ?2), ('%s', ?3) "
                                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                t->schema.c_str(), info.c_str(), kChangeHeadKey),
               &st);
  if (rc != SQLITE_OK) return rc;
  const std::string key = Vec0ChangeLog::slot_key(seq);
  sqlite3_bind_text(st, 1, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(st, 2, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(st, 3, seq);
  return step_done(t, st);
}

// Re-reads the listed chunks into the cache (rows, vectors, metadata, text ids); chunks that
// no longer exist are dropped. Any failure leaves the cache half-updated: the caller then
// reloads it whole.
int refresh_chunks(Vec0Table* t, const std::set<int64_t>& chunks) {
  Cache& c = t->cache;
  for (Group& g : c.groups) g.drop_hint();  // bitmaps change or go
  const int cs = t->cfg.chunk_size;
  const size_t nv = t->cfg.vcols.size();
  for (int64_t chunk : chunks) {
    auto vit = c.validity.find(chunk);
    if (vit == c.validity.end()) continue;
    for (int j = 0; j < cs; j++) {
      if (!(vit->second[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
      const int64_t key = pos_key(chunk, j);
      for (size_t i = 0; i < nv; i++) {
        Arena* a = arena_ptr(c, key, i);
        if (a != nullptr) a->remove(key);
      }
      int64_t rid;
      if (!c.rowid_at.find(key, &rid)) continue;
      auto pit = c.pos_of.find(rid);
      if (pit != c.pos_of.end() && pit->second == key) {
        c.pos_of.erase(pit);
        auto ti = c.text_of.find(rid);
        if (ti != c.text_of.end()) {
          c.rowid_of_text.erase(ti->second);
          c.text_of.erase(ti);
        }
      }
      c.rowid_at.erase(key);
    }
    c.validity_fp ^= chunk_fp(chunk, vit->second.data(), vit->second.size());
    c.validity.erase(vit);
    cols_forget_chunk(c, chunk);
  }
  std::string sql = "SELECT validity, rowids";
  for (size_t p = 0; p < t->cfg.pcols.size(); p++) sql += string_printf(", partition%02d", static_cast<int>(p));
  sql += string_printf(" FROM \"%w\".\"%w\" WHERE chunk_id = ?", t->schema.c_str(), t->n_chunks.c_str());
  std::vector<sqlite3_stmt*> stmts;
  auto done = [&stmts](int rc) {
    for (sqlite3_stmt* s : stmts) sqlite3_finalize(s);
    return rc;
  };
  auto add = [&](const std::string& q) -> sqlite3_stmt* {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(t->db, q.c_str(), -1, &s, nullptr) != SQLITE_OK) {
      sqlite3_finalize(s);
      return nullptr;
    }
    stmts.push_back(s);
    return s;
  };
  sqlite3_stmt* sc = add(sql);
  if (sc == nullptr) return done(SQLITE_ERROR);
  std::vector<sqlite3_stmt*> sv;
  for (size_t i = 0; i < nv; i++) {
    sqlite3_stmt* s = add(string_printf("SELECT vectors FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(),
                                        t->n_vchunks[i].c_str()));
    if (s == nullptr) return done(SQLITE_ERROR);
    sv.push_back(s);
  }
  sqlite3_stmt* stext = nullptr;
  if (t->cfg.text_pk) {
    stext = add(string_printf("SELECT id FROM \"%w\".\"%w\" WHERE rowid = ?", t->schema.c_str(), t->n_rowids.c_str()));
    if (stext == nullptr) return done(SQLITE_ERROR);
  }
  const size_t vbytes = static_cast<size_t>(cs / 8), rbytes = static_cast<size_t>(cs) * 8;
  for (int64_t chunk : chunks) {
    sqlite3_reset(sc);
    sqlite3_bind_int64(sc, 1, chunk);
    int rc = sqlite3_step(sc);
    if (rc == SQLITE_DONE) continue;  // deleted
    if (rc != SQLITE_ROW) return done(rc);
    if (static_cast<size_t>(sqlite3_column_bytes(sc, 0)) != vbytes || static_cast<size_t>(sqlite3_column_bytes(sc, 1)) != rbytes)
      return done(SQLITE_ERROR);
    const uint8_t* vb = static_cast<const uint8_t*>(sqlite3_column_blob(sc, 0));
    std::vector<uint8_t> v(vb, vb + vbytes);
    std::vector<int64_t> ids(static_cast<size_t>(cs));
    std::memcpy(ids.data(), sqlite3_column_blob(sc, 1), rbytes);
    cols_register_chunk(t, chunk, partition_tuple_of(t, sc, 2));
    for (int j = 0; j < cs; j++) {
      if (!(v[static_cast<size_t>(j / 8)] & (1u << (j % 8)))) continue;
      const int64_t id = ids[static_cast<size_t>(j)];
      const int64_t key = pos_key(chunk, j);
      if (!c.pos_of.emplace(id, key).second) return done(SQLITE_ERROR);  // also in an unchanged chunk
      c.rowid_at.set(key, id);
      if (stext != nullptr) {
        sqlite3_reset(stext);
        sqlite3_bind_int64(stext, 1, id);
        if (sqlite3_step(stext) == SQLITE_ROW && sqlite3_column_type(stext, 0) == SQLITE_TEXT) {
          std::string s(reinterpret_cast<const char*>(sqlite3_column_text(stext, 0)),
                        static_cast<size_t>(sqlite3_column_bytes(stext, 0)));
          c.rowid_of_text[s] = id;
          c.text_of[id] = std::move(s);
        }
      }
    }
    c.validity_fp ^= chunk_fp(chunk, v.data(), v.size());
    for (size_t i = 0; i < nv; i++) {
      const size_t nb = t->cfg.vcols[i].nbytes();
      sqlite3_reset(sv[i]);
      sqlite3_bind_int64(sv[i], 1, chunk);
      if (sqlite3_step(sv[i]) != SQLITE_ROW || static_cast<size_t>(sqlite3_column_bytes(sv[i], 0)) != nb * static_cast<size_t>(cs))
        return done(SQLITE_ERROR);
      upsert_chunk_vectors(c, chunk, i, v, static_cast<const uint8_t*>(sqlite3_column_blob(sv[i], 0)), nb, cs);
    }
    c.validity.emplace(chunk, std::move(v));
    rc = cols_load_chunk(t, chunk);  // issue 6
    if (rc != SQLITE_OK) return done(rc);
  }
  return done(SQLITE_OK);
}

// Brings a cache that is a few vecsqlite commits behind up to the table at marker `now` by
// re-reading only the chunks those commits touched (the change log). Returns SQLITE_OK when
// the cache is current; anything else means: reload it whole.
int refresh_from_log(Vec0Table* t, const Cache::Marker& now) {
  Cache& c = t->cache;
  if (!c.has_marker || !c.marker.has_token || !now.has_token || !t->log.empty()) return SQLITE_ERROR;
  uint64_t fp = 0;
  int rc = read_validity_fp(t, &fp);
  if (rc != SQLITE_OK) return rc;
  Vec0ChangeLog log;
  rc = read_change_log(t, &log);
  if (rc != SQLITE_OK) return rc;
  std::set<int64_t> chunks;
  if (!log.plan(c.marker.token, Vec0MarkerState{c.marker.seq_rowids, c.marker.seq_chunks, c.validity_fp}, now.token,
                Vec0MarkerState{now.seq_rowids, now.seq_chunks, fp}, &chunks))
    return SQLITE_ERROR;
  try {
    rc = refresh_chunks(t, chunks);
  } catch (...) {
    rc = SQLITE_NOMEM;
  }
  if (rc != SQLITE_OK) return rc;
  if (c.validity_fp != fp) return SQLITE_ERROR;
  rc = read_max_rowid(t, &c.max_rowid);
  if (rc != SQLITE_OK) return rc;
  c.marker = now;
  g_refreshes++;
  return SQLITE_OK;
}

// Makes sure the cache reflects the database as this connection sees it. data_version moves
// when another connection committed to the file; the table's marker then says whether that
// commit touched this table.
int ensure_fresh(Vec0Table* t) {
  const bool check = !(t->in_write_txn && t->txn_checked);
  if (t->in_write_txn) t->txn_checked = true;
  if (check && t->probe.changed() && t->cache.valid) {
    Cache::Marker now;
    uint64_t fp = 0;
    const bool got = t->cache.has_marker && t->cache.marker.has_token && read_marker(t, &now) == SQLITE_OK;
    const bool same = got && now == t->cache.marker && read_validity_fp(t, &fp) == SQLITE_OK && fp == t->cache.validity_fp;
    // Changed by vecsqlite commits the change log describes: re-read those chunks only.
    if (!same && !(got && refresh_from_log(t, now) == SQLITE_OK)) t->cache.valid = false;
  }
  if (t->cache.valid) return SQLITE_OK;
  const int rc = load_cache(t);
  if (rc == SQLITE_OK) t->cache.has_marker = read_marker(t, &t->cache.marker) == SQLITE_OK;
  return rc;
}

// ---- xCreate / xConnect ----------------------------------------------------------------------
std::string declare_sql(const Config& cfg) {
  std::string s = "CREATE TABLE x(";
  if (cfg.has_pk) s += string_printf("\"%w\" primary key, ", cfg.pk_name.c_str());
  else s += "rowid, ";
  for (const ColRef& r : cfg.order) {
    const std::string& n = r.kind == ColKind::vector ? cfg.vcols[static_cast<size_t>(r.idx)].name
                           : r.kind == ColKind::partition ? cfg.pcols[static_cast<size_t>(r.idx)].name
                           : r.kind == ColKind::metadata ? cfg.mcols[static_cast<size_t>(r.idx)].name
                                                         : cfg.acols[static_cast<size_t>(r.idx)].name;
    s += string_printf("\"%w\", ", n.c_str());
  }
  s += "distance hidden, k hidden)";
  if (cfg.has_pk) s += " without rowid";
  return s;
}

int init_table(sqlite3* db, int argc, const char* const* argv, sqlite3_vtab** ppVtab, char** pzErr,
               bool create) {
  std::unique_ptr<Vec0Table> t(new (std::nothrow) Vec0Table());
  if (!t) return SQLITE_NOMEM;
  std::memset(&t->base, 0, sizeof(t->base));
  t->db = db;
  t->schema = argv[1];
  t->name = argv[2];
  Vec0Table* self = t.get();
  t->log.set_source([self](int blob, int64_t chunk, int slot, uint32_t count) {
    return vector_rows(self, blob, chunk, slot, count);
  });
  std::string err;
  if (parse_config(argc, argv, &t->cfg, &err) != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", err.c_str());
    return SQLITE_ERROR;
  }
  t->log.set_layout(log_layout(t->cfg));
  int rc = sqlite3_declare_vtab(db, declare_sql(t->cfg).c_str());
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%scould not declare virtual table, '%s'", kCtorPrefix, sqlite3_errmsg(db));
    return SQLITE_ERROR;
  }
  if (create) {
    const char* sc = t->schema.c_str();
    std::string sql = string_printf("CREATE TABLE \"%w\".\"%w\" (key text primary key, value any)", sc,
                                    shadow(t.get(), "info").c_str());
    if (exec_sql(db, sql, &err) != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("Could not create '_info' shadow table: %s", err.c_str());
      return SQLITE_ERROR;
    }
    sql = string_printf(
        "INSERT INTO \"%w\".\"%w\"(key, value) VALUES ('CREATE_VERSION', 'v0.1.9'), "
        "('CREATE_VERSION_MAJOR', 0), ('CREATE_VERSION_MINOR', 1), ('CREATE_VERSION_PATCH', 9)",
        sc, shadow(t.get(), "info").c_str());
    if (exec_sql(db, sql, &err) != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("Could not create '_info' shadow table: %s", err.c_str());
      return SQLITE_ERROR;
    }
    if (t->cfg.pcols.empty()) {
      sql = string_printf(
          "CREATE TABLE \"%w\".\"%w\"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT "
          "NULL,validity BLOB NOT NULL,rowids BLOB NOT NULL)",
          sc, shadow(t.get(), "chunks").c_str());
    } else {  // issue 6: the original's DDL with partition columns
      sql = string_printf("CREATE TABLE \"%w\".\"%w\"(chunk_id INTEGER PRIMARY KEY AUTOINCREMENT,size INTEGER NOT NULL,sequence_id integer,",
                          sc, shadow(t.get(), "chunks").c_str());
      for (size_t p = 0; p < t->cfg.pcols.size(); p++) sql += string_printf("partition%02d,", static_cast<int>(p));
      sql += "validity BLOB NOT NULL, rowids BLOB NOT NULL)";
    }
    if (exec_sql(db, sql, &err) != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("Could not create '_chunks' shadow table: %s", err.c_str());
      return SQLITE_ERROR;
    }
    sql = string_printf(
        "CREATE TABLE \"%w\".\"%w\"(rowid INTEGER PRIMARY KEY AUTOINCREMENT,%s,chunk_id "
        "INTEGER,chunk_offset INTEGER)",
        sc, shadow(t.get(), "rowids").c_str(), t->cfg.text_pk ? "id TEXT UNIQUE NOT NULL" : "id");
    if (exec_sql(db, sql, &err) != SQLITE_OK) {
      *pzErr = sqlite3_mprintf("Could not create '_rowids' shadow table: %s", err.c_str());
      return SQLITE_ERROR;
    }
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
      sql = string_printf("CREATE TABLE \"%w\".\"%w\"(rowid PRIMARY KEY,vectors BLOB NOT NULL)", sc,
                          vchunks_name(t.get(), i).c_str());
      if (exec_sql(db, sql, &err) != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("Could not create '_vector_chunks%02d' shadow table: %s", static_cast<int>(i),
                                 err.c_str());
        return SQLITE_ERROR;
      }
    }
    // issue 6: metadata chunk (+ long text) tables, then the aux table.
    for (size_t i = 0; i < t->cfg.mcols.size(); i++) {
      sql = string_printf("CREATE TABLE \"%w\".\"%w_metadatachunks%02d\"(rowid PRIMARY KEY, data BLOB NOT NULL);", sc,
                          t->name.c_str(), static_cast<int>(i));
      if (exec_sql(db, sql, &err) != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("Could not create '_metata_chunks%02d' shadow table: %s", static_cast<int>(i), err.c_str());
        return SQLITE_ERROR;
      }
      if (t->cfg.mcols[i].type != vec0cols::MetaType::text) continue;
      sql = string_printf("CREATE TABLE \"%w\".\"%w_metadatatext%02d\"(rowid PRIMARY KEY, data TEXT);", sc,
                          t->name.c_str(), static_cast<int>(i));
      if (exec_sql(db, sql, &err) != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("Could not create '_metadatatext%02d' shadow table: %s", static_cast<int>(i), err.c_str());
        return SQLITE_ERROR;
      }
    }
    if (!t->cfg.acols.empty()) {
      sql = string_printf("CREATE TABLE \"%w\".\"%w_auxiliary\"( rowid integer PRIMARY KEY ", sc, t->name.c_str());
      for (size_t i = 0; i < t->cfg.acols.size(); i++) sql += string_printf(", value%02d", static_cast<int>(i));
      sql += ")";
      if (exec_sql(db, sql, &err) != SQLITE_OK) {
        *pzErr = sqlite3_mprintf("Could not create auxiliary shadow table: %s", err.c_str());
        return SQLITE_ERROR;
      }
    }
  }
  set_names(t.get());
  rc = t->probe.open(db, t->schema);
  if (rc != SQLITE_OK) {
    *pzErr = sqlite3_mprintf("%s", sqlite3_errmsg(db));
    return rc;
  }
  *ppVtab = &t.release()->base;
  return SQLITE_OK;
}

int xCreate(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** pp, char** pzErr) {
  try {
    return init_table(db, argc, argv, pp, pzErr, true);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}
int xConnect(sqlite3* db, void*, int argc, const char* const* argv, sqlite3_vtab** pp, char** pzErr) {
  try {
    return init_table(db, argc, argv, pp, pzErr, false);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int xDisconnect(sqlite3_vtab* p) {
  delete reinterpret_cast<Vec0Table*>(p);
  return SQLITE_OK;
}

int xDestroy(sqlite3_vtab* p) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  t->finalize_all();
  try {
    std::string sql;
    const char* sc = t->schema.c_str();
    sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, shadow(t, "info").c_str());
    sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, t->n_chunks.c_str());
    sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, t->n_rowids.c_str());
    for (size_t i = 0; i < t->cfg.vcols.size(); i++)
      sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, t->n_vchunks[i].c_str());
    for (size_t i = 0; i < t->cfg.mcols.size(); i++) {  // issue 6
      sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, t->n_mchunks[i].c_str());
      if (!t->n_mtext[i].empty()) sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, t->n_mtext[i].c_str());
    }
    if (!t->cfg.acols.empty()) sql += string_printf("DROP TABLE IF EXISTS \"%w\".\"%w\";", sc, t->n_aux.c_str());
    std::string err;
    const int rc = exec_sql(t->db, sql, &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
  } catch (...) {
    return SQLITE_NOMEM;
  }
  delete t;
  return SQLITE_OK;
}

// ---- xBestIndex --------------------------------------------------------------------------------
int best_index(Vec0Table* t, sqlite3_index_info* info) {
  int match = -1, kcon = -1, limit = -1, rowid_in = -1, point = -1;
  std::vector<std::pair<int, char>> dist;  // constraint index, op letter
  for (int i = 0; i < info->nConstraint; i++) {
    const auto& c = info->aConstraint[i];
    if (!c.usable) continue;
    if (c.op == SQLITE_INDEX_CONSTRAINT_LIMIT) { limit = i; continue; }
    if (c.iColumn >= 1 && c.iColumn < t->col_distance() && t->col_ref(c.iColumn)->kind == ColKind::vector &&
        c.op == SQLITE_INDEX_CONSTRAINT_MATCH) {
      if (match >= 0) {
        set_err(t, "only 1 MATCH operator is allowed in a single vec0 query");
        return SQLITE_ERROR;
      }
      match = i;
    } else if (c.iColumn == t->col_k() && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      kcon = i;
    } else if (c.iColumn == 0 && c.op == SQLITE_INDEX_CONSTRAINT_EQ) {
      if (sqlite3_vtab_in(info, i, -1)) {
        if (rowid_in >= 0) {
          set_err(t, "only 1 'rowid in (..)' operator is allowed in a single vec0 query");
          return SQLITE_ERROR;
        }
        rowid_in = i;
      } else {
        point = i;
      }
    }
  }
  if (match >= 0) {
    for (int i = 0; i < info->nConstraint; i++) {
      const auto& c = info->aConstraint[i];
      if (!c.usable || c.iColumn != t->col_distance()) continue;
      char op;
      switch (c.op) {
        case SQLITE_INDEX_CONSTRAINT_GT: op = 'a'; break;
        case SQLITE_INDEX_CONSTRAINT_GE: op = 'b'; break;
        case SQLITE_INDEX_CONSTRAINT_LT: op = 'c'; break;
        case SQLITE_INDEX_CONSTRAINT_LE: op = 'd'; break;
        default:
          set_err(t, "Illegal WHERE constraint on distance column in a KNN query. Only one of GT, GE, LT, LE constraints are allowed.");
          return SQLITE_ERROR;
      }
      dist.emplace_back(i, op);
    }
    std::vector<std::pair<int, std::string>> pblocks, mblocks;  // issue 6
    int rc = cols_best_index(t, info, &pblocks, &mblocks);
    if (rc != SQLITE_OK) return rc;
    if (kcon < 0 && limit < 0) {
      set_err(t, "A LIMIT or 'k = ?' constraint is required on vec0 knn queries.");
      return SQLITE_ERROR;
    }
    if (kcon >= 0 && limit >= 0) {
      set_err(t, "Only LIMIT or 'k =?' can be provided, not both");
      return SQLITE_ERROR;
    }
    for (int i = 0; i < info->nOrderBy; i++) {
      if (info->aOrderBy[i].iColumn != t->col_distance()) {
        set_err(t, "Only a single 'ORDER BY distance' clause is allowed on vec0 KNN queries, not on other columns");
        return SQLITE_ERROR;
      }
      if (info->aOrderBy[i].desc) {
        set_err(t, "Only ascending in ORDER BY distance clause is supported, DESC is not supported yet.");
        return SQLITE_ERROR;
      }
    }
    if (info->nOrderBy > 1) {
      set_err(t, "Only a single 'ORDER BY distance' clause is allowed on vec0 KNN queries");
      return SQLITE_ERROR;
    }
    std::string s = "3";
    int argi = 1;
    auto use = [&](int ci, const char* block) {
      info->aConstraintUsage[ci].argvIndex = argi++;
      info->aConstraintUsage[ci].omit = 1;
      s += block;
    };
    use(match, "{___");
    use(kcon >= 0 ? kcon : limit, "}___");
    if (rowid_in >= 0) {
      use(rowid_in, "[___");
      sqlite3_vtab_in(info, rowid_in, 1);
    }
    for (const auto& b : pblocks) use(b.first, b.second.c_str());
    for (const auto& b : mblocks) use(b.first, b.second.c_str());
    for (const auto& d : dist) {
      char block[5] = {'*', d.second, '_', '_', 0};
      use(d.first, block);
    }
    info->idxNum = t->col_ref(info->aConstraint[match].iColumn)->idx;  // the vector column's index
    info->idxStr = sqlite3_mprintf("%s", s.c_str());
    if (info->idxStr == nullptr) return SQLITE_NOMEM;
    info->needToFreeIdxStr = 1;
    info->estimatedCost = 30.0;
    info->estimatedRows = 10;
    return SQLITE_OK;
  }
  if (point >= 0) {
    info->aConstraintUsage[point].argvIndex = 1;
    info->aConstraintUsage[point].omit = 1;
    info->idxNum = static_cast<int>(info->colUsed);
    info->idxStr = const_cast<char*>("2!___");
    info->needToFreeIdxStr = 0;
    info->estimatedCost = 10.0;
    info->estimatedRows = 1;
    info->idxFlags |= SQLITE_INDEX_SCAN_UNIQUE;
    return SQLITE_OK;
  }
  info->idxNum = 0;
  info->idxStr = const_cast<char*>("1");
  info->needToFreeIdxStr = 0;
  info->estimatedCost = 3000000.0;
  info->estimatedRows = 100000;
  return SQLITE_OK;
}

int xBestIndex(sqlite3_vtab* p, sqlite3_index_info* info) {
  try {
    return best_index(reinterpret_cast<Vec0Table*>(p), info);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

// ---- cursor ------------------------------------------------------------------------------------
struct Vec0Cursor {
  sqlite3_vtab_cursor base;
  int64_t aux_key = -1;                   // issue 6: the aux row read for this position key
  std::vector<vec0cols::Value> aux_vals;
  bool knn = false;
  std::vector<int64_t> keys;     // position keys, in output order
  std::vector<float> dists;      // knn only
  int64_t k = 0;
  size_t at = 0;
};

Vec0Table* table_of(sqlite3_vtab_cursor* c) { return reinterpret_cast<Vec0Table*>(c->pVtab); }

int xOpen(sqlite3_vtab*, sqlite3_vtab_cursor** pp) {
  Vec0Cursor* c = new (std::nothrow) Vec0Cursor();
  if (c == nullptr) return SQLITE_NOMEM;
  std::memset(&c->base, 0, sizeof(c->base));
  *pp = &c->base;
  return SQLITE_OK;
}
int xClose(sqlite3_vtab_cursor* p) {
  delete reinterpret_cast<Vec0Cursor*>(p);
  return SQLITE_OK;
}

// An integer id from a value: INTEGER, or a REAL holding a whole number (better-sqlite3 binds
// JS numbers as REAL). Returns false otherwise.
bool integer_id(sqlite3_value* v, int64_t* out) { return vec0cols::whole_integer(v, out); }

// Resolves a user id (integer rowid or text pk) to the internal rowid; false when absent.
bool lookup_rowid(Vec0Table* t, sqlite3_value* v, int64_t* rowid) {
  if (t->cfg.text_pk) {
    if (sqlite3_value_type(v) != SQLITE_TEXT) return false;
    const char* s = reinterpret_cast<const char*>(sqlite3_value_text(v));
    auto it = t->cache.rowid_of_text.find(std::string(s, static_cast<size_t>(sqlite3_value_bytes(v))));
    if (it == t->cache.rowid_of_text.end()) return false;
    *rowid = it->second;
    return true;
  }
  return integer_id(v, rowid) && t->cache.pos_of.count(*rowid) != 0;
}

int knn_filter(Vec0Table* t, Vec0Cursor* cur, int col, const char* idxStr, int argc, sqlite3_value** argv) {
  const VectorColumn& vc = t->cfg.vcols[static_cast<size_t>(col)];
  sqlite3_value* qv = nullptr;
  sqlite3_value* kv = nullptr;
  sqlite3_value* inv = nullptr;
  std::vector<std::pair<char, double>> dcons;
  const size_t n = strlen(idxStr);
  for (int i = 0; i < argc && 1 + 4 * static_cast<size_t>(i) + 1 < n + 1; i++) {
    const char* b = idxStr + 1 + 4 * i;
    if (b[0] == '{') qv = argv[i];
    else if (b[0] == '}') kv = argv[i];
    else if (b[0] == '[') inv = argv[i];
    else if (b[0] == '*') dcons.emplace_back(b[1], sqlite3_value_double(argv[i]));
  }
  if (qv == nullptr || kv == nullptr) {
    set_err(t, string_printf("%sinvalid knn plan '%s'", kInternal, idxStr));
    return SQLITE_ERROR;
  }
  vec0::Vector q;
  std::string err;
  int rc = vec0::parse_vector(qv, vec0::ParseMode::by_subtype, &q, &err);
  if (rc != SQLITE_OK) {
    if (rc == SQLITE_NOMEM) return rc;
    set_err(t, string_printf("Query vector on the \"%s\" column is invalid: %s", vc.name.c_str(), err.c_str()));
    return SQLITE_ERROR;
  }
  if (q.type() != vc.type) {
    set_err(t, string_printf("Query vector for the \"%s\" column is expected to be of type %s, but a %s vector was provided.",
                             vc.name.c_str(), vec0::element_type_name(vc.type), vec0::element_type_name(q.type())));
    return SQLITE_ERROR;
  }
  if (static_cast<int>(q.dims()) != vc.dims) {
    set_err(t, string_printf("Dimension mismatch for query vector for the \"%s\" column. Expected %d dimensions but received %d.",
                             vc.name.c_str(), vc.dims, static_cast<int>(q.dims())));
    return SQLITE_ERROR;
  }
  int64_t k = 0;
  if (!integer_id(kv, &k)) k = sqlite3_value_int64(kv);
  if (k < 0) {
    set_err(t, "k value in knn queries must be greater than or equal to 0.");
    return SQLITE_ERROR;
  }
  cur->k = k;
  rc = ensure_fresh(t);
  if (rc != SQLITE_OK) return rc;
  // issue 6: partition filters pick the groups (only their arenas are scanned); metadata
  // filters and rowid IN become a per-slot allowed bitmap, evaluated before top-k.
  std::vector<vec0cols::PartFilter> pfilters;
  std::vector<vec0cols::MetaFilter> mfilters;
  rc = cols_knn_filters(t, idxStr, argc, argv, &pfilters, &mfilters);
  if (rc != SQLITE_OK) return rc;
  std::vector<const Group*> groups;  // the selected partitions with rows
  size_t total = 0;
  auto take = [&](Group& g) {
    if (!g.arenas[static_cast<size_t>(col)].empty()) {
      g.arenas[static_cast<size_t>(col)].prepare_sketch();  // built once, for large float arenas
      groups.push_back(&g);
      total += g.arenas[static_cast<size_t>(col)].size();
    }
  };
  std::vector<vec0cols::Value> exact;  // one `=` per partition key: a direct lookup
  const int exact_kind = pfilters.empty() ? 0 : cols_exact_tuple(t, pfilters, &exact);
  if (exact_kind == 1) {
    auto git = t->cache.group_of.find(exact);
    if (git != t->cache.group_of.end()) take(t->cache.groups[static_cast<size_t>(git->second)]);
  } else if (exact_kind == 0) {
    for (Group& g : t->cache.groups) {
      bool ok = true;
      for (const auto& pf : pfilters) ok = ok && vec0cols::part_match(pf, g.tuple[static_cast<size_t>(pf.col)]);
      if (ok) take(g);
    }
  }
  if (k == 0 || total == 0) return SQLITE_OK;
  // rowid IN (...): the set of allowed position keys. Unknown ids are skipped (the original
  // returned nothing at all for a text-key list with one unknown id).
  std::unordered_set<int64_t> allowed;
  const bool use_in = inv != nullptr;
  if (use_in) {
    sqlite3_value* v = nullptr;
    for (rc = sqlite3_vtab_in_first(inv, &v); rc == SQLITE_OK && v != nullptr; rc = sqlite3_vtab_in_next(inv, &v)) {
      int64_t rid;
      if (lookup_rowid(t, v, &rid)) allowed.insert(t->cache.pos_of[rid]);
    }
    if (rc != SQLITE_OK && rc != SQLITE_DONE) return rc;
    if (allowed.empty()) return SQLITE_OK;
  }
  // Distance constraints (targets cast to f32, as the original): the tightest lower and upper
  // bound; on equal targets the strict comparison is the tighter one.
  ScanFilter bounds;
  for (const auto& dc : dcons) {
    const float target = static_cast<float>(dc.second);
    const bool lower = dc.first == 'a' || dc.first == 'b';
    const bool strict = dc.first == 'a' || dc.first == 'c';
    float& bound = lower ? bounds.lo : bounds.hi;
    bool& has = lower ? bounds.has_lo : bounds.has_hi;
    bool& is_strict = lower ? bounds.lo_strict : bounds.hi_strict;
    if (!has || (lower ? target > bound : target < bound)) {
      bound = target;
      is_strict = strict;
    } else if (target == bound) {
      is_strict = is_strict || strict;
    }
    has = true;
    if (std::isnan(target)) return SQLITE_OK;  // no distance compares true with NaN
  }
  TopK top(static_cast<size_t>(std::min<int64_t>(k, static_cast<int64_t>(total))));
  const Metric m = vc.dist == Dist::l2 ? Metric::l2 : vc.dist == Dist::l1 ? Metric::l1
                 : vc.dist == Dist::cosine ? Metric::cos : Metric::hamming;
  const size_t dim = vc.type == ElementType::bit ? vc.nbytes() : static_cast<size_t>(vc.dims);
  const bool use_bits = use_in || !mfilters.empty();
  const KernelTable& kt = kernels();
  std::vector<ScanJob> jobs;                       // the arenas to scan, with their filters
  std::vector<AllowedRows> allows(use_bits ? groups.size() : 0);  // per group (dense: a bitmap)
  if (use_bits) {  // issue 6: metadata filters / rowid IN, evaluated before the top-k
    // Per group: the allowed rows; a selective filter's rows are scanned at once (distances for
    // those rows only), a bitmap joins the one scan below. Several groups (partitions) are
    // shared out between threads (work_parts of their bytes); one large group splits its own
    // work instead.
    Arena::SketchQuery sq;
    if (dtype_of(vc.type) == Dtype::f32) {
      for (const Group* gp : groups)
        if (gp->arenas[static_cast<size_t>(col)].has_sketch()) {
          sq = Arena::sketch_query(m, q.f32(), dim);
          break;
        }
    }
    const Arena::SketchQuery* sqp = sq.usable() ? &sq : nullptr;
    size_t bytes = 0;
    for (const Group* gp : groups) bytes += gp->arenas[static_cast<size_t>(col)].size() * vc.nbytes();
    const size_t gparts = groups.size() > 1 ? std::min(work_parts(bytes), groups.size()) : 1;
    std::vector<std::unique_ptr<TopK>> tops;
    for (size_t p = 1; p < gparts; p++) tops.emplace_back(new TopK(top.capacity()));
    std::vector<int> status(gparts, SQLITE_OK);
    // Contiguous runs of groups with about equal rows per part.
    std::vector<size_t> first(gparts + 1, groups.size());
    first[0] = 0;
    for (size_t gi = 0, p = 1, acc = 0; gi < groups.size() && p < gparts; gi++) {
      acc += groups[gi]->arenas[static_cast<size_t>(col)].size();
      if (acc * gparts >= total * p) first[p++] = gi + 1;
    }
    run_parts(gparts, [&](size_t p) {
      TopK* tp = p == 0 ? &top : tops[p - 1].get();
      try {
        for (size_t gi = first[p]; gi < first[p + 1] && status[p] == SQLITE_OK; gi++) {
          const Arena& arena = groups[gi]->arenas[static_cast<size_t>(col)];
          AllowedRows& allow = allows[gi];
          cols_knn_allowed(t, *groups[gi], static_cast<size_t>(col), mfilters, use_in ? &allowed : nullptr, &allow,
                           gparts == 1);
          if (allow.empty() || allow.dense) continue;
          const bool done = gparts == 1 ? scan_slots_topk(kt, arena, m, q.bytes(), sqp, allow.slots.data(),
                                                          allow.slots.size(), tp, bounds)
                                        : arena.scan_slots(kt, m, q.bytes(), sqp, allow.slots.data(), allow.slots.size(),
                                                           tp, bounds);
          if (!done) status[p] = SQLITE_ERROR;
          allow.slots = std::vector<size_t>();
        }
      } catch (...) {
        status[p] = SQLITE_NOMEM;
      }
    });
    for (size_t p = 0; p < gparts; p++) {
      if (status[p] == SQLITE_NOMEM) return SQLITE_NOMEM;
      if (status[p] != SQLITE_OK) {
        set_err(t, string_printf("%sno distance kernel for the \"%s\" column", kInternal, vc.name.c_str()));
        return SQLITE_ERROR;
      }
    }
    merge_topk(tops, &top);
    for (size_t gi = 0; gi < groups.size(); gi++) {
      if (allows[gi].empty() || !allows[gi].dense) continue;
      ScanJob job;
      job.arena = &groups[gi]->arenas[static_cast<size_t>(col)];
      job.filter = bounds;
      job.filter.allowed = allows[gi].bits.data();
      jobs.push_back(job);
    }
  } else {
    for (const Group* gp : groups) {
      ScanJob job;
      job.arena = &gp->arenas[static_cast<size_t>(col)];
      job.filter = bounds;
      jobs.push_back(job);
    }
  }
  // One scan over the selected arenas together (threaded from 16 MiB in all), filters applied
  // in the scan.
  if (!jobs.empty() && !scan_topk_many(kt, jobs, m, q.bytes(), &top)) {
    set_err(t, string_printf("%sno distance kernel for the \"%s\" column", kInternal, vc.name.c_str()));
    return SQLITE_ERROR;
  }
  std::vector<TopK::Item> items(top.size());
  const size_t got = top.take_sorted(items.data());
  cur->keys.reserve(got);
  cur->dists.reserve(got);
  for (size_t i = 0; i < got; i++) {
    cur->keys.push_back(items[i].id);
    cur->dists.push_back(items[i].distance);
  }
  return SQLITE_OK;
}

int filter(Vec0Table* t, Vec0Cursor* cur, int idxNum, const char* idxStr, int argc, sqlite3_value** argv) {
  cur->keys.clear();
  cur->dists.clear();
  cur->aux_key = -1;
  cur->at = 0;
  cur->knn = false;
  if (idxStr != nullptr && idxStr[0] == '3') {
    cur->knn = true;
    if (idxNum < 0 || idxNum >= static_cast<int>(t->cfg.vcols.size())) {
      set_err(t, string_printf("%sinvalid knn plan '%s'", kInternal, idxStr));
      return SQLITE_ERROR;
    }
    return knn_filter(t, cur, idxNum, idxStr, argc, argv);
  }
  int rc = ensure_fresh(t);
  if (rc != SQLITE_OK) return rc;
  if (idxStr != nullptr && idxStr[0] == '2' && argc >= 1) {
    int64_t rid;
    if (lookup_rowid(t, argv[0], &rid)) cur->keys.push_back(t->cache.pos_of[rid]);
    return SQLITE_OK;
  }
  // Chunk order, then slot order (the original's ORDER BY chunk_id, chunk_offset).
  cur->keys.reserve(t->cache.rowid_at.size());
  t->cache.rowid_at.each([cur](int64_t key, int64_t) { cur->keys.push_back(key); });
  return SQLITE_OK;
}

int xFilter(sqlite3_vtab_cursor* p, int idxNum, const char* idxStr, int argc, sqlite3_value** argv) {
  try {
    return filter(table_of(p), reinterpret_cast<Vec0Cursor*>(p), idxNum, idxStr, argc, argv);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}

int xNext(sqlite3_vtab_cursor* p) {
  reinterpret_cast<Vec0Cursor*>(p)->aux_key = -1;
  reinterpret_cast<Vec0Cursor*>(p)->at++;
  return SQLITE_OK;
}
int xEof(sqlite3_vtab_cursor* p) {
  Vec0Cursor* c = reinterpret_cast<Vec0Cursor*>(p);
  return c->at >= c->keys.size();
}

int column(sqlite3_vtab_cursor* p, sqlite3_context* ctx, int col) {
  Vec0Cursor* c = reinterpret_cast<Vec0Cursor*>(p);
  Vec0Table* t = table_of(p);
  if (c->at >= c->keys.size()) return SQLITE_OK;
  const int64_t key = c->keys[c->at];
  if (col == t->col_distance()) {
    if (c->knn) sqlite3_result_double(ctx, static_cast<double>(c->dists[c->at]));
    return SQLITE_OK;
  }
  if (col == t->col_k()) {
    if (c->knn) sqlite3_result_int64(ctx, c->k);
    return SQLITE_OK;
  }
  int64_t rowid;
  if (!t->cache.rowid_at.find(key, &rowid)) return SQLITE_OK;  // deleted meanwhile
  if (col == 0) {
    if (t->cfg.text_pk) {
      auto ti = t->cache.text_of.find(rowid);
      if (ti != t->cache.text_of.end())
        sqlite3_result_text(ctx, ti->second.data(), static_cast<int>(ti->second.size()), SQLITE_TRANSIENT);
    } else {
      sqlite3_result_int64(ctx, rowid);
    }
    return SQLITE_OK;
  }
  const ColRef* ref = t->col_ref(col);
  if (ref == nullptr) return SQLITE_OK;
  if (ref->kind != ColKind::vector) {  // issue 6
    if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;  // UPDATE leaves it: sqlite3_value_nochange
    return cols_column(t, &c->aux_key, &c->aux_vals, ctx, *ref, key, rowid);
  }
  // An UPDATE that does not set this vector leaves it alone (sqlite3_value_nochange): re-reading
  // an int8/bit vector without its subtype made `SET other = ...` fail the type check.
  if (sqlite3_vtab_nochange(ctx)) return SQLITE_OK;
  const Arena* arena = arena_ptr(t->cache, key, static_cast<size_t>(ref->idx));
  const void* row = arena != nullptr ? arena->find(key) : nullptr;
  // With its subtype, as 0.1.9: vec_type() / vec_to_json() / vec_distance_*() see int8 and bit.
  if (row != nullptr) vec0::result_vector(ctx, t->cfg.vcols[static_cast<size_t>(ref->idx)].type, row, arena->row_bytes());
  return SQLITE_OK;
}

int xColumn(sqlite3_vtab_cursor* p, sqlite3_context* ctx, int col) {
  try {
    return column(p, ctx, col);
  } catch (...) {  // issue 6: the aux / metadata paths allocate
    sqlite3_result_error_nomem(ctx);
    return SQLITE_NOMEM;
  }
}

int xRowid(sqlite3_vtab_cursor* p, sqlite3_int64* out) {
  Vec0Cursor* c = reinterpret_cast<Vec0Cursor*>(p);
  Vec0Table* t = table_of(p);
  int64_t rowid;
  if (c->at >= c->keys.size() || !t->cache.rowid_at.find(c->keys[c->at], &rowid)) {
    set_err(t, string_printf("%srow is no longer present", kInternal));
    return SQLITE_ERROR;
  }
  *out = rowid;
  return SQLITE_OK;
}

// ---- writes ------------------------------------------------------------------------------------
// Cached statements: prepare() hands out a reset statement with cleared bindings, step_done()
// resets it again. They are finalized when the table disconnects, is renamed or dropped.
int step_done(Vec0Table* t, sqlite3_stmt* st) {
  const int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
    set_err(t, sqlite3_errmsg(t->db));
    sqlite3_reset(st);
    return rc == SQLITE_OK ? SQLITE_ERROR : rc;
  }
  sqlite3_reset(st);
  return SQLITE_OK;
}

int prepare(Vec0Table* t, const std::string& sql, sqlite3_stmt** st) {
  auto it = t->stmts.find(sql);
  if (it != t->stmts.end()) {
    sqlite3_reset(it->second);
    sqlite3_clear_bindings(it->second);
    *st = it->second;
    return SQLITE_OK;
  }
  const int rc = sqlite3_prepare_v3(t->db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, st, nullptr);
  if (rc != SQLITE_OK) {
    set_err(t, sqlite3_errmsg(t->db));
    return rc;
  }
  t->stmts.emplace(sql, *st);
  return SQLITE_OK;
}

int delete_row(Vec0Table* t, int64_t rowid) {
  Cache& c = t->cache;
  auto pit = c.pos_of.find(rowid);
  if (pit == c.pos_of.end()) return SQLITE_OK;
  const int64_t key = pit->second;
  const int64_t chunk = pos_chunk(key);
  const int off = pos_offset(key);
  auto vit = c.validity.find(chunk);
  if (vit == c.validity.end() || !(vit->second[static_cast<size_t>(off / 8)] & (1u << (off % 8)))) {
    set_err(t, string_printf("vec0 deletion error: validity bit is not set for %s.%s.%lld at %d", t->schema.c_str(),
                             t->n_chunks.c_str(), static_cast<long long>(chunk), off));
    return SQLITE_ERROR;
  }
  std::vector<uint8_t>& val = vit->second;
  uint8_t byte = static_cast<uint8_t>(val[static_cast<size_t>(off / 8)] & ~(1u << (off % 8)));
  t->mutated = true;
  if (ChunkCols* cc = chunk_cols_of(c, chunk)) c.groups[static_cast<size_t>(cc->group)].drop_hint();  // a slot frees
  t->note_chunk(chunk);
  t->log.delete_rowid(rowid);
  int rc = SQLITE_OK;
  bool empty = byte == 0;
  for (size_t i = 0; empty && i < val.size(); i++) if (i != static_cast<size_t>(off / 8) && val[i] != 0) empty = false;
  rc = cols_delete_row(t, chunk, off, rowid, empty);  // issue 6
  if (rc != SQLITE_OK) return rc;
  if (empty) {
    std::string sql = string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = %lld;", t->schema.c_str(),
                                    t->n_chunks.c_str(), static_cast<long long>(chunk));
    for (size_t i = 0; i < t->cfg.vcols.size(); i++)
      sql += string_printf("DELETE FROM \"%w\".\"%w\" WHERE rowid = %lld;", t->schema.c_str(),
                           t->n_vchunks[i].c_str(), static_cast<long long>(chunk));
    std::string err;
    rc = exec_sql(t->db, sql, &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
    t->log.drop_chunk(chunk);
  } else {
    t->log.write(kBlobValidity, chunk, static_cast<uint32_t>(off / 8), &byte, 1);
    const int64_t zero = 0;
    t->log.write(kBlobRowids, chunk, static_cast<uint32_t>(off) * 8, &zero, 8);
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
      const size_t nb = t->cfg.vcols[i].nbytes();
      static const uint8_t kZeros[8192 * 4] = {};
      t->log.write(kBlobVectors + static_cast<int>(i), chunk, static_cast<uint32_t>(static_cast<size_t>(off) * nb),
                   kZeros, static_cast<uint32_t>(nb));
    }
  }
  // Cache (a pending run holding the row takes its copy before the arena rows go).
  t->log.materialize(chunk, off);
  for (size_t i = 0; i < t->cfg.vcols.size(); i++) arena_for(c, key, i).remove(key);
  if (empty) {
    c.validity_fp ^= chunk_fp(chunk, val.data(), val.size());
    c.validity.erase(vit);
    cols_forget_chunk(c, chunk);  // issue 6
  } else {
    set_validity_byte(&c.validity_fp, chunk, &val, static_cast<size_t>(off / 8), byte);
  }
  c.rowid_at.erase(key);
  c.pos_of.erase(pit);
  if (t->cfg.text_pk) {
    auto ti = c.text_of.find(rowid);
    if (ti != c.text_of.end()) {
      c.rowid_of_text.erase(ti->second);
      c.text_of.erase(ti);
    }
  }
  return SQLITE_OK;
}

int insert_row(Vec0Table* t, sqlite3_value* idv, const std::vector<vec0::Vector>& vecs, const RowCols& rcols,
               int64_t* out_rowid) {
  Cache& c = t->cache;
  const int cs = t->cfg.chunk_size;
  // Slot: first free bit of the latest chunk (of this partition tuple, issue 6), or a new chunk.
  // (Rows whose partition tuple has a NULL share chunks too; 0.1.9 made a chunk per such row.)
  int64_t chunk = 0;
  int off = -1;
  const int group = group_for(t, rcols.part);
  Group& g = c.groups[static_cast<size_t>(group)];
  std::vector<uint8_t>* valp = nullptr;  // the target chunk's cached validity bitmap
  if (!g.chunks.empty()) {
    const int64_t latest = *g.chunks.rbegin();
    if (g.hint_val != nullptr && g.hint_chunk == latest && g.hint_next < cs &&
        !((*g.hint_val)[static_cast<size_t>(g.hint_next / 8)] & (1u << (g.hint_next % 8)))) {
      chunk = latest;  // the slot after the last insert, with none free below it
      off = g.hint_next;
      valp = g.hint_val;
    } else {
      auto last = c.validity.find(latest);
      const size_t nbits = last != c.validity.end() ? last->second.size() : 0;
      size_t b = 0;
      for (; b + 8 <= nbits; b += 8) {  // full stretches 8 bytes at a time
        uint64_t x;
        std::memcpy(&x, last->second.data() + b, 8);
        if (x != ~uint64_t{0}) break;
      }
      for (; b < nbits; b++) {
        const unsigned byte = last->second[b];
        if (byte != 0xff) {
          off = static_cast<int>(b * 8) + __builtin_ctz(~byte);
          break;
        }
      }
      if (off >= 0) {
        chunk = last->first;
        valp = &last->second;
      }
    }
  }
  // The rowid: the caller's integer id, or the next AUTOINCREMENT value of _rowids (what the
  // original's INSERT with a NULL rowid gets). The _rowids row itself goes into the write log.
  int64_t rowid;
  if (!t->cfg.text_pk && idv != nullptr) {
    rowid = *out_rowid;
  } else {
    if (c.max_rowid == INT64_MAX) {
      set_err(t, "Error inserting id into rowids shadow table: database or disk is full");
      return SQLITE_FULL;
    }
    rowid = c.max_rowid + 1;
  }
  sqlite3_stmt* st = nullptr;
  int rc = SQLITE_OK;
  t->mutated = true;
  if (off < 0) {
    std::string psql, pvals;  // issue 6: partition values of the new chunk
    for (size_t p = 0; p < t->cfg.pcols.size(); p++) {
      psql += string_printf(", partition%02d", static_cast<int>(p));
      pvals += ", ?";
    }
    rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(size, validity, rowids%s) VALUES (?, zeroblob(?), zeroblob(?)%s)",
                                  t->schema.c_str(), t->n_chunks.c_str(), psql.c_str(), pvals.c_str()), &st);
    if (rc != SQLITE_OK) return rc;
    sqlite3_bind_int(st, 1, cs);
    sqlite3_bind_int(st, 2, cs / 8);
    sqlite3_bind_int(st, 3, cs * 8);
    for (size_t p = 0; p < rcols.part.size(); p++) vec0cols::bind_value(st, 4 + static_cast<int>(p), rcols.part[p]);
    rc = step_done(t, st);
    if (rc != SQLITE_OK) return rc;
    chunk = sqlite3_last_insert_rowid(t->db);
    off = 0;
    for (size_t i = 0; i < t->cfg.vcols.size(); i++) {
      rc = prepare(t, string_printf("INSERT INTO \"%w\".\"%w\"(_rowid_, rowid, vectors) VALUES (?1, ?1, zeroblob(?2))",
                                    t->schema.c_str(), t->n_vchunks[i].c_str()), &st);
      if (rc != SQLITE_OK) return rc;
      sqlite3_bind_int64(st, 1, chunk);
      sqlite3_bind_int64(st, 2, static_cast<sqlite3_int64>(t->cfg.vcols[i].nbytes()) * cs);
      rc = step_done(t, st);
      if (rc != SQLITE_OK) {
        set_err(t, string_printf("%sCould not insert a new vector chunk", kInternal));
        return rc;
      }
    }
    rc = cols_new_chunk(t, chunk);  // issue 6
    if (rc != SQLITE_OK) return rc;
    valp = &c.validity.emplace(chunk, std::vector<uint8_t>(static_cast<size_t>(cs / 8), 0)).first->second;
    c.validity_fp ^= chunk_fp(chunk, valp->data(), valp->size());
    cols_register_chunk(t, chunk, rcols.part);
  }
  {
    Group& gg = c.groups[static_cast<size_t>(group)];  // (cols_register_chunk may add groups)
    gg.hint_chunk = chunk;
    gg.hint_next = off + 1;
    gg.hint_val = valp;
  }
  t->note_chunk(chunk);
  if (rowid > c.max_rowid) c.max_rowid = rowid;
  // The vector bytes are copied once, into the arenas; the log's run refers to them there
  // (vec0_writelog.h, RUNS), with the row's _rowids row, validity bit and rowid.
  const int64_t key = pos_key(chunk, off);
  for (size_t i = 0; i < vecs.size(); i++) arena_for(c, key, i).upsert(key, vecs[i].bytes());
  if (t->cfg.text_pk) {
    t->log.append_row(rowid, chunk, static_cast<uint32_t>(off), reinterpret_cast<const char*>(sqlite3_value_text(idv)),
                      static_cast<size_t>(sqlite3_value_bytes(idv)));
  } else {
    t->log.append_row(rowid, chunk, static_cast<uint32_t>(off), nullptr, 0);
  }
  std::vector<uint8_t>& val = *valp;
  const uint8_t byte = static_cast<uint8_t>(val[static_cast<size_t>(off / 8)] | (1u << (off % 8)));
  rc = cols_insert_row(t, chunk, off, rowid, rcols);  // issue 6
  if (rc != SQLITE_OK) return rc;
  set_validity_byte(&c.validity_fp, chunk, &val, static_cast<size_t>(off / 8), byte);
  c.pos_of[rowid] = key;
  c.rowid_at.set(key, rowid);
  if (t->cfg.text_pk) {
    std::string s(reinterpret_cast<const char*>(sqlite3_value_text(idv)), static_cast<size_t>(sqlite3_value_bytes(idv)));
    c.rowid_of_text[s] = rowid;
    c.text_of[rowid] = std::move(s);
  }
  *out_rowid = rowid;
  return SQLITE_OK;
}

// Validates one vector for column i ("Inserted" / "Updated" wording).
int check_vector(Vec0Table* t, size_t i, sqlite3_value* v, bool update, vec0::Vector* out) {
  const VectorColumn& vc = t->cfg.vcols[i];
  std::string err;
  const int rc = vec0::parse_vector(v, vec0::ParseMode::by_subtype, out, &err);
  if (rc == SQLITE_NOMEM) return rc;
  if (rc != SQLITE_OK) {
    set_err(t, string_printf("%s vector for the \"%s\" column is invalid: %s", update ? "Updated" : "Inserted",
                             vc.name.c_str(), err.c_str()));
    return SQLITE_ERROR;
  }
  if (out->type() != vc.type) {
    set_err(t, string_printf("%s vector for the \"%s\" column is expected to be of type %s, but a %s vector was provided.",
                             update ? "Updated" : "Inserted", vc.name.c_str(), vec0::element_type_name(vc.type),
                             vec0::element_type_name(out->type())));
    return SQLITE_ERROR;
  }
  if (static_cast<int>(out->dims()) != vc.dims) {
    set_err(t, string_printf("Dimension mismatch for %s vector for the \"%s\" column. Expected %d dimensions but received %d.",
                             update ? "new updated" : "inserted", vc.name.c_str(), vc.dims, static_cast<int>(out->dims())));
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

int update(Vec0Table* t, int argc, sqlite3_value** argv, sqlite3_int64* pRowid) {
  int rc = ensure_fresh(t);
  if (rc != SQLITE_OK) return rc;
  if (!t->txn_pre_taken) {  // the table as this write transaction found it (change log)
    t->txn_pre_taken = true;
    t->txn_pre_ok = t->cache.valid && t->cache.has_marker;
    t->txn_pre = t->cache.marker;
    t->txn_pre_fp = t->cache.validity_fp;
  }
  const size_t nv = t->cfg.vcols.size();
  if (argc == 1) {  // DELETE
    int64_t rid;
    if (!lookup_rowid(t, argv[0], &rid)) return SQLITE_OK;
    return delete_row(t, rid);
  }
  // argv[2] = rowid/pk column, argv[3..3+nv) vectors, then distance, k.
  sqlite3_value* hidden_d = argv[2 + t->col_distance()];
  sqlite3_value* hidden_k = argv[2 + t->col_k()];
  if (sqlite3_value_type(hidden_d) != SQLITE_NULL) {
    set_err(t, "A value was provided for the hidden \"distance\" column.");
    return SQLITE_ERROR;
  }
  if (sqlite3_value_type(hidden_k) != SQLITE_NULL) {
    set_err(t, "A value was provided for the hidden \"k\" column.");
    return SQLITE_ERROR;
  }
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {  // INSERT: validate everything first
    sqlite3_value* idv = t->cfg.has_pk ? argv[2] : argv[1];
    if (!t->cfg.has_pk && sqlite3_value_type(idv) == SQLITE_NULL) idv = argv[2];
    int64_t rowid = 0;
    bool has_id = false;
    int64_t existing = 0;
    bool exists = false;
    if (t->cfg.text_pk) {
      if (sqlite3_value_type(idv) != SQLITE_TEXT) {
        set_err(t, string_printf("The %s virtual table was declared with a TEXT primary key, but a non-TEXT value was provided in an INSERT.",
                                 t->name.c_str()));
        return SQLITE_ERROR;
      }
      exists = lookup_rowid(t, idv, &existing);
    } else if (sqlite3_value_type(idv) != SQLITE_NULL) {
      if (!integer_id(idv, &rowid)) {
        set_err(t, string_printf("Only integers are allows for primary key values on %s", t->name.c_str()));
        return SQLITE_ERROR;
      }
      has_id = true;
      exists = t->cache.pos_of.count(rowid) != 0;
      existing = rowid;
    }
    std::vector<vec0::Vector>& vecs = t->insert_vecs;  // reused: no allocation per row
    vecs.resize(nv);
    for (size_t i = 0; i < nv; i++) {
      rc = check_vector(t, i, argv[t->cfg.argv_of(ColKind::vector, static_cast<int>(i))], false, &vecs[i]);
      if (rc != SQLITE_OK) return rc;
    }
    RowCols rcols;  // issue 6
    rc = cols_check_insert(t, argv, &rcols);
    if (rc != SQLITE_OK) return rc;
    if (exists) {
      if (sqlite3_vtab_on_conflict(t->db) != SQLITE_REPLACE) {
        set_err(t, string_printf("UNIQUE constraint failed on %s primary key", t->name.c_str()));
        return SQLITE_CONSTRAINT;
      }
      rc = delete_row(t, existing);
      if (rc != SQLITE_OK) return rc;
    }
    rc = insert_row(t, has_id || t->cfg.text_pk ? idv : nullptr, vecs, rcols, &rowid);
    if (rc == SQLITE_OK) *pRowid = rowid;
    return rc;
  }
  // UPDATE
  int64_t rid;
  if (!lookup_rowid(t, argv[0], &rid)) return SQLITE_OK;
  if (t->cfg.has_pk) {
    if (sqlite3_value_type(argv[2]) != sqlite3_value_type(argv[0]) ||
        (t->cfg.text_pk && strcmp(reinterpret_cast<const char*>(sqlite3_value_text(argv[2])),
                                  reinterpret_cast<const char*>(sqlite3_value_text(argv[0]))) != 0) ||
        (!t->cfg.text_pk && sqlite3_value_int64(argv[2]) != sqlite3_value_int64(argv[0]))) {
      set_err(t, "UPDATEs on vec0 primary key values are not allowed.");
      return SQLITE_ERROR;
    }
  } else {
    int64_t newid;
    const bool same = integer_id(argv[1], &newid) && newid == rid &&
                      (sqlite3_value_type(argv[2]) == SQLITE_NULL || (integer_id(argv[2], &newid) && newid == rid));
    if (!same) {
      set_err(t, "UPDATEs on vec0 primary key values are not allowed.");
      return SQLITE_ERROR;
    }
  }
  RowCols rcols;  // issue 6: partition -> aux -> metadata, then vectors
  rc = cols_check_update(t, argv, &rcols);
  if (rc != SQLITE_OK) return rc;
  std::vector<vec0::Vector> vecs(nv);
  std::vector<bool> change(nv, false);
  for (size_t i = 0; i < nv; i++) {
    sqlite3_value* v = argv[t->cfg.argv_of(ColKind::vector, static_cast<int>(i))];
    if (sqlite3_value_nochange(v)) continue;
    if (sqlite3_value_type(v) == SQLITE_NULL) {
      set_err(t, string_printf("Cannot set the vector column \"%s\" to NULL: vec0 vectors are required (delete the row instead).",
                               t->cfg.vcols[i].name.c_str()));
      return SQLITE_ERROR;
    }
    rc = check_vector(t, i, v, true, &vecs[i]);
    if (rc != SQLITE_OK) return rc;
    change[i] = true;
  }
  t->mutated = true;
  const int64_t key = t->cache.pos_of[rid];
  const int64_t chunk = pos_chunk(key);
  const int off = pos_offset(key);
  t->note_chunk(chunk);
  rc = cols_update_row(t, chunk, off, rid, rcols);  // issue 6
  if (rc != SQLITE_OK) return rc;
  // The row's arena bytes change: a pending run holding it takes its copy first.
  if (std::find(change.begin(), change.end(), true) != change.end()) t->log.materialize(chunk, off);
  for (size_t i = 0; i < nv; i++) {
    if (!change[i]) continue;
    const size_t nb = t->cfg.vcols[i].nbytes();
    t->log.write(kBlobVectors + static_cast<int>(i), chunk, static_cast<uint32_t>(static_cast<size_t>(off) * nb),
                 vecs[i].bytes(), static_cast<uint32_t>(nb));
    arena_for(t->cache, key, i).upsert(key, vecs[i].bytes());
  }
  return SQLITE_OK;
}

// The shadow-table writes this table makes on its own (the write log's flush, the token and
// change log at xSync) must not show through sqlite3_last_insert_rowid(): the user's last
// INSERT is what that reports, as with the original (which writes the same rows in xUpdate,
// before SQLite sets the rowid of the INSERT).
struct KeepLastRowid {
  sqlite3* db;
  sqlite3_int64 saved;
  explicit KeepLastRowid(sqlite3* d) : db(d), saved(sqlite3_last_insert_rowid(d)) {}
  ~KeepLastRowid() { sqlite3_set_last_insert_rowid(db, saved); }
};

int xUpdate(sqlite3_vtab* p, int argc, sqlite3_value** argv, sqlite3_int64* pRowid) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  int rc;
  struct Depth {
    int& d;
    explicit Depth(int& x) : d(++x) {}
    ~Depth() { d--; }
  } depth(t->update_depth);
  if (t->update_depth > 1) {
    // A write from inside this table's own write: a trigger on one of its shadow tables (which
    // SQLite allows only outside defensive mode) fired by the shadow-table writes of an INSERT.
    // The outer write is half done; refusing keeps the table whole (0.1.9 fails there too).
    set_err(t, string_printf("vec0 table %s cannot be written from inside its own write (a trigger on one of its shadow tables?)",
                             t->name.c_str()));
    return SQLITE_ERROR;
  }
  try {
    t->mutated = false;
    rc = update(t, argc, argv, pRowid);
    if (rc == SQLITE_OK) {
      t->wrote = true;
      // Bound the log: write it out while that cannot cross a savepoint (vec0_writelog.h).
      if (t->log.at_transaction_level() && t->log.pending_bytes() >= kLogFlushBytes) {
        KeepLastRowid keep(t->db);
        rc = flush_log(t);
      }
    }
  } catch (...) {
    rc = SQLITE_NOMEM;
    t->mutated = true;  // wherever it stopped
  }
  // A write that failed after it began changing the table (not a validation error, which
  // comes first) may have left shadow rows and log entries: the cache is reloaded, and the
  // transaction cannot commit until a rollback undoes them (see `broken`).
  if (t->mutated) {
    t->txn_mutated = true;
    t->mutations++;
  }
  if (rc != SQLITE_OK && t->mutated) {
    t->cache.valid = false;
    t->broken_below = t->broken ? std::min(t->broken_below, t->open_levels) : t->open_levels;
    t->broken = true;
  }
  return rc;
}

// ---- transactions and lifecycle ---------------------------------------------------------------
// xSync (before SQLite commits the shadow tables): the pending blob writes go to the chunk
// tables, and a table this transaction changed gets a new random write token in _info, the
// per-table change marker that lets other connections keep their cache when data_version
// moved because of writes to other tables (see ensure_fresh).
int xBegin(sqlite3_vtab* p) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  t->log.clear();
  t->wrote = false;
  t->in_write_txn = true;
  t->txn_checked = false;
  t->txn_mutated = false;
  t->reset_txn_changes();
  return SQLITE_OK;
}
int xSync(sqlite3_vtab* p) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  if (t->broken) {
    set_err(t, string_printf("vec0 table %s: a write to it failed part-way in this transaction; "
                             "roll the transaction back (or back to a savepoint from before that write)",
                             t->name.c_str()));
    return SQLITE_ERROR;
  }
  KeepLastRowid keep(t->db);
  try {
    int rc = flush_log(t);
    if (rc != SQLITE_OK) return rc;
    if (!t->wrote) return SQLITE_OK;
    t->wrote = false;
    int64_t token = 0;
    rc = write_token(t, &token);
    if (rc != SQLITE_OK) return rc;
    if (t->cache.valid) t->cache.has_marker = read_marker(t, &t->cache.marker) == SQLITE_OK;
    return write_change_log(t, token);
  } catch (...) {
    return SQLITE_NOMEM;
  }
}
int xCommit(sqlite3_vtab* p) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  if (!t->log.empty()) t->cache.valid = false;  // not reached: xSync flushed it
  t->log.clear();
  t->wrote = false;
  t->in_write_txn = t->txn_checked = false;
  t->reset_txn_changes();
  return SQLITE_OK;
}
int xRollback(sqlite3_vtab* p) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  t->log.clear();
  t->wrote = false;
  t->in_write_txn = t->txn_checked = false;
  // Nothing to undo in the cache when this transaction never changed the table (for example a
  // single statement that failed validation).
  if (t->txn_mutated) t->cache.valid = false;
  t->txn_mutated = false;
  t->reset_txn_changes();
  return SQLITE_OK;
}
int xSavepoint(sqlite3_vtab* p, int level) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  try {
    t->log.savepoint(level);
    t->level_mutations.resize(static_cast<size_t>(level) + 1, Vec0Table::kUnknownLevel);
  } catch (...) {
    return SQLITE_NOMEM;
  }
  t->open_levels = level + 1;
  t->level_mutations[static_cast<size_t>(level)] = t->mutations;
  return SQLITE_OK;
}
int xRelease(sqlite3_vtab* p, int level) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  t->log.release(level);
  // Levels from `level` on are gone; one opened later was opened after a failed write.
  t->open_levels = level;
  t->broken_below = std::min(t->broken_below, level);
  if (t->level_mutations.size() > static_cast<size_t>(level)) t->level_mutations.resize(static_cast<size_t>(level));
  return SQLITE_OK;
}
int xRollbackTo(sqlite3_vtab* p, int level) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  if (level < t->broken_below) t->broken = false;  // the failed write is undone too
  t->open_levels = level + 1;
  const size_t lv = static_cast<size_t>(level);
  // Nothing this table holds changed since `level` began (a failed statement that wrote
  // nothing, a savepoint of the application's around other tables): log and cache stay.
  const bool unchanged = lv < t->level_mutations.size() && t->level_mutations[lv] == t->mutations;
  int rc = SQLITE_OK;
  try {
    t->log.rollback_to(level);  // copies the kept runs' vector bytes when it drops any
    t->level_mutations.resize(lv + 1, Vec0Table::kUnknownLevel);  // later levels are gone
    if (!unchanged) t->level_mutations[lv] = t->mutations;  // the state is the savepoint's again
  } catch (...) {
    // The log may now miss bytes of rows it still has to write: it refuses to flush, so this
    // transaction cannot commit them; the cache is rebuilt from the tables either way.
    t->log.mark_lost();
    t->level_mutations.clear();  // every level unknown: the next ROLLBACK TO reloads
    rc = SQLITE_NOMEM;
  }
  // Reloaded from the rolled-back tables plus what the log still holds.
  if ((!unchanged || rc != SQLITE_OK) && t->txn_mutated) t->cache.valid = false;
  return rc;
}

int xRename(sqlite3_vtab* p, const char* zNew) {
  Vec0Table* t = reinterpret_cast<Vec0Table*>(p);
  t->finalize_all();
  try {
    const char* sc = t->schema.c_str();
    std::string sql;
    const char* suffixes[] = {"info", "chunks", "rowids"};
    for (const char* s : suffixes)
      sql += string_printf("ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_%s\";", sc, shadow(t, s).c_str(), zNew, s);
    for (size_t i = 0; i < t->cfg.vcols.size(); i++)
      sql += string_printf("ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_vector_chunks%02d\";", sc,
                           t->n_vchunks[i].c_str(), zNew, static_cast<int>(i));
    for (size_t i = 0; i < t->cfg.mcols.size(); i++) {  // issue 6
      sql += string_printf("ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_metadatachunks%02d\";", sc,
                           t->n_mchunks[i].c_str(), zNew, static_cast<int>(i));
      if (!t->n_mtext[i].empty())
        sql += string_printf("ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_metadatatext%02d\";", sc,
                             t->n_mtext[i].c_str(), zNew, static_cast<int>(i));
    }
    if (!t->cfg.acols.empty())
      sql += string_printf("ALTER TABLE \"%w\".\"%w\" RENAME TO \"%w_auxiliary\";", sc, t->n_aux.c_str(), zNew);
    std::string err;
    const int rc = exec_sql(t->db, sql, &err);
    if (rc != SQLITE_OK) {
      set_err(t, err);
      return rc;
    }
    t->name = zNew;
    set_names(t);
    t->cache.valid = false;
  } catch (...) {
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

int xShadowName(const char* name) {
  static const char* kNames[] = {"rowids", "chunks", "auxiliary", "info"};
  for (const char* n : kNames)
    if (sqlite3_stricmp(name, n) == 0) return 1;
  for (int i = 0; i < 16; i++) {
    char buf[32];
    snprintf(buf, sizeof buf, "metadatachunks%02d", i);
    if (sqlite3_stricmp(name, buf) == 0) return 1;
    snprintf(buf, sizeof buf, "metadatatext%02d", i);
    if (sqlite3_stricmp(name, buf) == 0) return 1;
  }
  return 0;
}

sqlite3_module make_module() {
  sqlite3_module m;
  std::memset(&m, 0, sizeof m);
  m.iVersion = 3;
  m.xCreate = xCreate;
  m.xConnect = xConnect;
  m.xBestIndex = xBestIndex;
  m.xDisconnect = xDisconnect;
  m.xDestroy = xDestroy;
  m.xOpen = xOpen;
  m.xClose = xClose;
  m.xFilter = xFilter;
  m.xNext = xNext;
  m.xEof = xEof;
  m.xColumn = xColumn;
  m.xRowid = xRowid;
  m.xUpdate = xUpdate;
  m.xBegin = xBegin;
  m.xSync = xSync;
  m.xCommit = xCommit;
  m.xRollback = xRollback;
  m.xRename = xRename;
  m.xSavepoint = xSavepoint;
  m.xRelease = xRelease;
  m.xRollbackTo = xRollbackTo;
  m.xShadowName = xShadowName;
  return m;
}

const sqlite3_module kVec0Module = make_module();

}  // namespace

int64_t vec0_cache_loads() { return g_cache_loads.load(); }
int64_t vec0_refreshes() { return g_refreshes.load(); }

int register_vec0_module(sqlite3* db, char** pzErr) {
  const int rc = sqlite3_create_module_v2(db, "vec0", &kVec0Module, nullptr, nullptr);
  if (rc != SQLITE_OK) *pzErr = sqlite3_mprintf("vecsqlite: cannot register vec0: %s", sqlite3_errmsg(db));
  return rc;
}

}  // namespace vecsqlite
