// Vec0ChangeLog: which chunks the last few vecsqlite commits to a vec0 table touched, so that
// another connection whose cache is a few commits behind re-reads those chunks instead of the
// whole table.
//
// STORAGE: a ring of kSlots rows in "<t>_info", so that a commit writes one small row
// whatever the log holds:
//   vecsqlite_change_head          INTEGER: seq of the newest entry (entries count from 0)
//   vecsqlite_change_NN            BLOB of little-endian int64s, NN = seq % kSlots as two digits:
//     seq, token, prev_token,
//     pre_seq_rowids, pre_seq_chunks, pre_fp,      the table's marker before the commit
//     post_seq_rowids, post_seq_chunks, post_fp,   and after it
//     n, then n chunk ids                          (n = -1: not recorded, reload all)
// token / prev_token are the vecsqlite_write_token values the commit wrote / found; seq_* are
// the AUTOINCREMENT sequences of _rowids and _chunks (-1: none yet), fp the validity
// fingerprint (vtab_vec0.cc, chunk_fp). A commit touching more than kMaxChunks chunks is not
// recorded (its readers reload anyway: that is most of a large table). So a reader up to
// kSlots commits behind re-reads only what they touched. The original C extension neither
// reads nor writes these keys; its commits leave the entries alone but move the sequences or
// the fingerprint, which breaks the chain (see plan()), so a reader then reloads everything.
// A row that does not decode is skipped (the chain through it is broken: reload).
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

namespace vecsqlite {

struct Vec0MarkerState {
  int64_t seq_rowids = -1, seq_chunks = -1;
  uint64_t fp = 0;
  bool operator==(const Vec0MarkerState& o) const {
    return seq_rowids == o.seq_rowids && seq_chunks == o.seq_chunks && fp == o.fp;
  }
};

struct Vec0Change {
  int64_t token = 0, prev_token = 0;
  Vec0MarkerState pre, post;
  bool recorded = false;        // false: the chunk list was not kept (too long, or unknown)
  std::vector<int64_t> chunks;  // sorted, unique
};

class Vec0ChangeLog {
 public:
  static constexpr size_t kSlots = 64;        // entries kept; slot keys _00 .. _63
  static constexpr size_t kMaxChunks = 4096;  // per entry; a longer commit is not recorded

  // One slot row's value <-> (seq, entry). decode: false when malformed.
  static bool decode_entry(const void* data, size_t n, int64_t* seq, Vec0Change* out);
  static std::string encode_entry(int64_t seq, const Vec0Change& c);
  // The slot key of entry `seq`: "vecsqlite_change_NN".
  static std::string slot_key(int64_t seq);

  // Adds one decoded entry (any order).
  void add(Vec0Change c) { entries_.push_back(std::move(c)); }

  // The chunks to re-read for a cache at marker (token `from`, state `have`) to reach the
  // table at (token `to`, state `now`): true only when an unbroken chain of recorded commits
  // leads from one to the other, each starting from the state the previous one left.
  bool plan(int64_t from, const Vec0MarkerState& have, int64_t to, const Vec0MarkerState& now,
            std::set<int64_t>* chunks) const;

  const std::vector<Vec0Change>& entries() const { return entries_; }

 private:
  std::vector<Vec0Change> entries_;
};

}  // namespace vecsqlite
