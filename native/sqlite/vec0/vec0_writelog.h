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
//   drop       (chunk)                        the chunk's rows were deleted (SQL, at once):
//                                             earlier writes to it are discarded at flush
//   row delete (rowid)                        a "_rowids" row to delete (cancels a pending
//                                             insert of the same rowid)
//   run        (chunk, first slot, rowids[n], text ids[n])
//                                             n rows inserted into slots first .. first+n-1:
//                                             each one a _rowids row, its validity bit set,
//                                             its rowid in the rowids blob and its vectors,
//                                             whose bytes are the owner's (below)
//   blob numbers are the owner's; the layout (set_layout) names the validity and rowids blobs
//   and the vector blobs, which runs write. The log interprets no other blob.
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
// RUNS. A bulk insert fills the slots of a chunk one after another; each row then costs the
// log 8 bytes (its rowid), where separate entries for its _rowids row, validity byte, rowid
// and vectors cost over 160. A row extends the last run when it takes the next slot of that
// run's chunk and nothing the run's blobs or rows depend on was logged since (only writes to
// blobs outside the layout may come between), and no savepoint opened since.
//   A run keeps no vector bytes: an INSERT already copies them into the owner's arena, and
// the flush reads them from there (rows appended in order lie in the arena in one piece too,
// and reach SQLite in one blob write from it). The rule that keeps this exact: the arena rows
// of a pending run must not change or go. So the owner calls materialize(chunk, slot) before
// it overwrites or removes the rows of that slot (the log then copies the run's vector bytes
// into a buffer of its own), and materialize_all() before it drops or rebuilds its cache;
// rollback_to() that drops entries materializes what it keeps, as the owner rebuilds its
// cache after it; one that drops nothing changes nothing (an owner that rebuilds its cache
// anyway calls materialize_all() first, as always). A
// source that no longer has a row a run needs (a broken owner) makes flush() fail with an
// internal error rather than write anything else.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

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

  // What a run writes (see RUNS above): bit `slot` of the validity blob, 8 bytes (the rowid,
  // little-endian) at 8 * slot of the rowids blob, and for each vector blob `bytes` bytes at
  // slot * bytes, which the source holds.
  struct Layout {
    int validity_blob = 0;
    int rowids_blob = 1;
    struct VectorBlob {
      int blob;
      uint32_t bytes;
    };
    std::vector<VectorBlob> vectors;
  };
  void set_layout(Layout l) {
    layout_ = std::move(l);
    row_vector_bytes_ = 0;
    for (const auto& v : layout_.vectors) row_vector_bytes_ += v.bytes;
  }
  // Where runs get their vector bytes: the rows of vector blob `blob` for the `count` slots
  // of `chunk` from `slot` on, back to back, or nullptr when the source cannot hand them out
  // in one piece. For count 1, nullptr means the source has no such row; for more, the log
  // then asks slot by slot.
  using Source = std::function<const uint8_t*(int blob, int64_t chunk, int slot, uint32_t count)>;
  void set_source(Source s) { source_ = std::move(s); }
  // A row inserted into (chunk, slot): its _rowids row (with `text_id` unless it is null), its
  // validity bit, its rowid and the bytes of every vector blob, which the source must hold
  // from now on until the row's run is materialized or written.
  void append_row(int64_t rowid, int64_t chunk, uint32_t slot, const char* text_id, size_t text_len);
  // The pending run holding (chunk, slot), if any, takes a copy of its vector bytes now.
  void materialize(int64_t chunk, int slot) {
    if (!pending_runs_.empty()) materialize_slot(chunk, slot);
  }
  // Every pending run takes a copy of its vector bytes now.
  void materialize_all();
  // The owner could not keep the log whole (a copy ran out of memory): from now on flush()
  // fails before writing anything, until clear().
  void mark_lost() { run_lost_ = true; }
  bool has_pending_runs() const { return !pending_runs_.empty(); }
  void drop_chunk(int64_t chunk);

  // "_rowids" rows as the flush hands them to the sink (text ids only for text keys).
  struct RowidRow {
    int64_t rowid;
    int64_t chunk;
    int offset;
    bool has_text;
    const char* text;  // has_text: text_len bytes in the log's buffers, valid during the sink call
    size_t text_len;
  };
  void delete_rowid(int64_t rowid);
  // Visits the pending row operations in order: (insert?, rowid, text id or null).
  void each_rowid_op(const std::function<void(bool insert, int64_t rowid, const std::string* text)>& fn) const;
  // Receives the net effect on "_rowids" at flush: rows to delete first, then rows to insert.
  // `max_inserted` is the largest rowid any logged insert used (also inserts that a later
  // delete cancelled): the AUTOINCREMENT sequence must reach it, as if the rows had been written.
  using RowidSink = std::function<int(const std::vector<int64_t>& deletes, const std::vector<RowidRow>& inserts,
                                      bool any_insert, int64_t max_inserted)>;

  bool empty() const { return entries_.empty(); }
  // Bytes the flush would write (runs' vectors included), bounding how far the log runs ahead.
  size_t pending_bytes() const {
    return data_.size() + bulk_.size() + kept_.size() + 8 * run_rowids_.size() + run_text_.size() + run_vector_bytes_;
  }
  // True when no savepoint is open, so a flush lands at the transaction level.
  bool at_transaction_level() const { return marks_.empty(); }

  void savepoint(int level);
  void release(int level);
  // Drops what was logged since savepoint `level` opened; false when that was nothing.
  bool rollback_to(int level);
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
  static constexpr int kDrop = -1, kRowDelete = -3, kRun = -4;
  // Where an entry's bytes are.
  enum Where : uint8_t { kInData, kInBulk, kRunPending, kRunKept };
  struct Entry {
    int blob;          // >= 0: a blob write; or kDrop / kRowDelete / kRun
                       // (a row delete: `chunk` holds the rowid; a run: its chunk, first
                       // slot in `offset`, runs_[pos])
    uint32_t len;
    int64_t chunk;
    uint32_t offset;
    Where where;       // kInData: data_; kInBulk: bulk_ (writes of kBulkBytes and more);
                       // kRunPending: a run reading its vectors from the source;
                       // kRunKept: a run whose vectors are in kept_
    size_t pos;        // into data_ / bulk_, or runs_
  };
  struct Run {
    uint32_t count;    // rows
    bool has_text;
    size_t rowid_pos;  // run_rowids_[rowid_pos .. + count)
    size_t text_pos;   // run_text_spans_[text_pos .. + count) when has_text
    size_t kept_pos;   // kRunKept: kept_ from here, vector blob by vector blob, count rows each
  };
  // Vector-sized writes go to their own buffer, so that a run of rows appended to one chunk
  // lies there in one piece and reaches SQLite in one blob write, without being assembled.
  static constexpr uint32_t kBulkBytes = 64;
  const uint8_t* bytes_of(const Entry& e) const { return (e.where == kInBulk ? bulk_ : data_).data() + e.pos; }
  // One stretch of a blob that an entry writes: bytes (ptr), or (bits) the validity bits
  // offset .. offset + len - 1 set.
  struct Piece {
    uint32_t offset;
    uint32_t len;
    const uint8_t* ptr;
    bool bits;
  };
  // The pieces entry `i` writes into `blob`, appended to *out (adjacent ones merged); false
  // when a pending run's source lacks a row.
  bool pieces_of(size_t i, int blob, std::vector<Piece>* out) const;
  static void apply_piece(const Piece& p, uint8_t* data, size_t lo);  // data = blob bytes from lo
  bool in_layout(int blob) const;
  std::string run_text(const Run& r, uint32_t k) const;
  void materialize_slot(int64_t chunk, int slot);
  void materialize_run(size_t entry);
  void materialize_entries();  // every pending run, whatever pending_runs_ holds
  void index() const;  // builds by_blob_ lazily

  std::vector<Entry> entries_;
  std::vector<uint8_t> data_;
  std::vector<uint8_t> bulk_;
  // Runs: their rowids and text ids (spans into run_text_), in run order.
  std::vector<Run> runs_;
  std::vector<int64_t> run_rowids_;
  std::vector<std::pair<size_t, size_t>> run_text_spans_;
  std::string run_text_;
  // Materialized runs' vector bytes. Never cut by rollback_to (a run that stays may have been
  // materialized after the savepoint opened); emptied with the log.
  std::vector<uint8_t> kept_;
  Layout layout_;
  Source source_;
  // Pending runs by chunk (entry indexes), for materialize(chunk, slot).
  std::map<int64_t, std::vector<size_t>> pending_runs_;
  size_t row_vector_bytes_ = 0;  // the layout's vector bytes per row
  size_t run_vector_bytes_ = 0;  // vector bytes of the pending runs
  bool run_open_ = false;        // the last run may be extended (see RUNS above)
  size_t open_run_ = 0;          // its entry index
  bool run_lost_ = false;        // a run found no bytes for a row when it was materialized
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
