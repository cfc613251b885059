// Vec0WriteLog: the deferred blob writes of one vec0 table inside one write transaction.
//
// WHY: every vec0 INSERT touches three chunk blobs (validity, rowids, one vector per column).
// Writing them at once costs a sqlite3_blob_open (a compiled statement) per blob per row;
// the log instead keeps the bytes in memory and writes each touched blob region once per
// chunk: at xSync (commit), or earlier when the log grows past a bound while no savepoint is
// open. The chunk tables stay the source of truth; the log is only ever ahead of them inside
// the connection's own open write transaction.
//
// FORMAT: an append-only list of entries, in the order the writes happened.
//   write      (blob, chunk, offset, bytes)   bytes live in one shared byte buffer
//   ref write  (blob, chunk, offset, len, key) the bytes are the owner's: the row `key` of the
//                                             owner's cache (its arena) holds them, handed out
//                                             by the source (set_source) when needed
//   drop       (chunk)                        the chunk's rows were deleted (SQL, at once):
//                                             earlier writes to it are discarded at flush
//   row insert (rowid, chunk, offset, text id) a "_rowids" row to insert
//   row delete (rowid)                        a "_rowids" row to delete (cancels a pending
//                                             insert of the same rowid)
//   blob: 0 = _chunks.validity, 1 = _chunks.rowids, 2 + i = _vector_chunks<i>.vectors
//   (owners may define further blob numbers: the log never interprets them).
//
// SAVEPOINTS: SQLite tells the table when a savepoint (or a statement journal) opens, is
// released or rolled back (xSavepoint / xRelease / xRollbackTo). The log records a mark
// (level, entry count) per open savepoint; ROLLBACK TO truncates the log to the mark, exactly
// as SQLite rolls the tables back to the same point. Writes reach SQLite early only while no
// savepoint is open, so they always land at the transaction level they belong to.
//
// READS while writes are pending: overlay() applies the pending writes of one blob to a copy
// read from SQLite, which is how the owner rebuilds its cache in the middle of a transaction.
//
// REF WRITES keep a vector's bytes out of the log: an INSERT or UPDATE already copies them into
// the owner's arena, and the flush reads them from there (a run of rows appended to one chunk
// lies in the arena in one piece too, and reaches SQLite in one blob write from it). The rule
// that keeps this exact: the arena row of a key with a pending ref write must not change or go
// while the ref is pending. So the owner calls materialize(key) before it overwrites or removes
// the row of `key` (the log then copies the bytes it still needs into a buffer of its own),
// and materialize_all() before it drops or rebuilds its cache; rollback_to() materializes
// what it keeps, as the owner rebuilds its cache after it. A source that no longer has a row
// a ref needs (a broken owner) makes flush() fail with an internal error rather than write
// anything else.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/idmap.h"
#include "sqlite/ext.h"

namespace vecsqlite {

class Vec0WriteLog {
 public:
  // Where blob number `blob` of chunk `chunk` lives: table name and column.
  struct Target {
    std::string table;
    const char* column;
  };
  using Resolver = std::function<Target(int blob)>;

  void write(int blob, int64_t chunk, uint32_t offset, const void* bytes, uint32_t len);
  // A write whose `len` bytes are the source's row `key` (see REF WRITES above). The writes
  // of one key (one per blob) are logged one after another.
  void write_ref(int blob, int64_t chunk, uint32_t offset, uint32_t len, int64_t key);
  // Where ref writes get their bytes: the row of `key` for blob number `blob` (len bytes), or
  // nullptr when the source has no such row.
  using Source = std::function<const uint8_t*(int blob, int64_t key)>;
  void set_source(Source s) { source_ = std::move(s); }
  // The pending ref writes of `key` (of every blob) take a copy of their bytes now.
  void materialize(int64_t key) {
    if (!refs_.empty()) materialize_key(key);
  }
  // Every pending ref write takes a copy of its bytes now.
  void materialize_all();
  bool has_refs() const { return !refs_.empty(); }
  void drop_chunk(int64_t chunk);

  // "_rowids" rows. `text_id` is null for integer keys.
  struct RowidRow {
    int64_t rowid;
    int64_t chunk;
    int offset;
    bool has_text;
    std::string text;
  };
  void insert_rowid(int64_t rowid, int64_t chunk, int offset, const char* text_id, size_t text_len);
  void delete_rowid(int64_t rowid);
  // Visits the pending row operations in order: (insert?, rowid, text id or null).
  void each_rowid_op(const std::function<void(bool insert, int64_t rowid, const std::string* text)>& fn) const;
  // Receives the net effect on "_rowids" at flush: rows to delete first, then rows to insert.
  // `max_inserted` is the largest rowid any logged insert used (also inserts that a later
  // delete cancelled): the AUTOINCREMENT sequence must reach it, as if the rows had been written.
  using RowidSink = std::function<int(const std::vector<int64_t>& deletes, const std::vector<RowidRow>& inserts,
                                      bool any_insert, int64_t max_inserted)>;

  bool empty() const { return entries_.empty(); }
  // Bytes the flush would write (ref writes included), bounding how far the log runs ahead.
  size_t pending_bytes() const { return data_.size() + bulk_.size() + kept_.size() + ref_bytes_; }
  // True when no savepoint is open, so a flush lands at the transaction level.
  bool at_transaction_level() const { return marks_.empty(); }

  void savepoint(int level);
  void release(int level);
  void rollback_to(int level);
  void clear();

  // Applies the pending writes for (blob, chunk) to `data` (the blob's `size` bytes as SQLite
  // has them). Returns true when anything was applied.
  bool overlay(int blob, int64_t chunk, uint8_t* data, size_t size) const;
  bool touches(int blob, int64_t chunk) const;

  // Writes every pending region to SQLite and empties the log. On failure returns the SQLite
  // code with *err set (the original's wording: "could not open/write <column> blob on ...");
  // the log is then cleared too (the transaction is going to fail).
  int flush(sqlite3* db, const std::string& schema, const Resolver& where, const RowidSink& rows, std::string* err);

 private:
  static constexpr int kDrop = -1, kRowInsert = -2, kRowDelete = -3;
  // Where an entry's bytes are.
  enum Where : uint8_t { kInData, kInBulk, kInKept, kInSource };
  struct Entry {
    int blob;          // >= 0: a blob write; or kDrop / kRowInsert / kRowDelete
                       // (rows: `chunk` holds the rowid; an insert's data is the chunk id
                       // (8 bytes), a has-text byte, then the text id; slot in `offset`)
    uint32_t len;
    int64_t chunk;
    uint32_t offset;
    Where where;       // kInData: data_; kInBulk: bulk_ (writes of kBulkBytes and more);
                       // kInKept: kept_ (a materialized ref); kInSource: a ref write
    size_t pos;        // into data_ / bulk_ / kept_; for a ref write, the source key
  };
  // Vector-sized writes go to their own buffer, so that a run of rows appended to one chunk
  // lies there in one piece and reaches SQLite in one blob write, without being assembled.
  static constexpr uint32_t kBulkBytes = 64;
  // The entry's bytes; nullptr for a ref write the source cannot serve.
  const uint8_t* bytes_of(const Entry& e) const;
  void materialize_key(int64_t key);
  void materialize_entry(Entry& e);
  void materialize_entries();  // every ref write, whatever refs_ holds
  void index() const;  // builds by_blob_ lazily

  std::vector<Entry> entries_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> bulk_;
  // Materialized ref writes' bytes. Never cut by rollback_to (an entry that stays may have
  // been materialized after the savepoint opened); emptied with the log.
  std::vector<uint8_t> kept_;
  Source source_;
  IdMap<uint32_t> refs_;  // key -> its first pending ref write (entry index)
  size_t ref_bytes_ = 0;  // bytes of the pending ref writes
  bool ref_lost_ = false;  // a ref write found no bytes when it was materialized
  std::vector<std::pair<int, size_t>> marks_;  // (savepoint level, entries_.size() at open)
  std::vector<uint8_t> span_;                   // flush scratch: one blob region
  mutable bool indexed_ = false;
  mutable std::map<std::pair<int, int64_t>, std::vector<size_t>> by_blob_;
  // The last few by_blob_ groups looked up (map nodes do not move); cleared with by_blob_.
  mutable std::array<std::pair<std::pair<int, int64_t>, std::vector<size_t>*>, 4> recent_{};
  mutable size_t recent_next_ = 0;
  std::vector<size_t>& group_of(int blob, int64_t chunk) const;
  void forget_recent() const;
  bool row_deletes_ = false;  // a row delete was logged since the last clear (kept through
                              // rollback_to: it only selects the general path at flush)
};

}  // namespace vecsqlite
