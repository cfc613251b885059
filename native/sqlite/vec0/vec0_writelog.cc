// Vec0WriteLog; see vec0_writelog.h for the format, runs and the savepoint rules.
#include "sqlite/vec0/vec0_writelog.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "sqlite/codec.h"

namespace vecsqlite {

namespace {
constexpr const char* kInternal = "Internal sqlite-vec error: ";
// A group of writes to one blob is written as one span (read, patch, write) when the span is
// at most this many bytes or at most twice the bytes written; otherwise piece by piece.
constexpr size_t kSpanSlack = 64 * 1024;
}  // namespace

bool Vec0WriteLog::in_layout(int blob) const {
  if (blob == layout_.validity_blob || blob == layout_.rowids_blob) return true;
  for (const auto& v : layout_.vectors)
    if (v.blob == blob) return true;
  return false;
}

void Vec0WriteLog::write(int blob, int64_t chunk, uint32_t offset, const void* bytes, uint32_t len) {
  const bool bulk = len >= kBulkBytes;
  std::vector<uint8_t>& buf = bulk ? bulk_ : data_;
  const size_t pos = buf.size();
  buf.insert(buf.end(), static_cast<const uint8_t*>(bytes), static_cast<const uint8_t*>(bytes) + len);
  entries_.push_back(Entry{blob, len, chunk, offset, bulk ? kInBulk : kInData, pos});
  if (indexed_) group_of(blob, chunk).push_back(entries_.size() - 1);
  if (run_open_ && in_layout(blob)) run_open_ = false;
}

void Vec0WriteLog::append_row(int64_t rowid, int64_t chunk, uint32_t slot, const char* text_id, size_t text_len) {
  const bool has_text = text_id != nullptr;
  const size_t vbytes = row_vector_bytes_;
  if (run_open_) {
    const Entry& e = entries_[open_run_];
    Run& r = runs_[e.pos];
    if (e.chunk == chunk && e.offset + r.count == slot && r.has_text == has_text) {
      run_rowids_.push_back(rowid);
      if (has_text) {
        run_text_spans_.emplace_back(run_text_.size(), text_len);
        run_text_.append(text_id, text_len);
      }
      r.count++;
      run_vector_bytes_ += vbytes;
      return;
    }
  }
  runs_.push_back(Run{1, has_text, run_rowids_.size(), run_text_spans_.size(), 0});
  run_rowids_.push_back(rowid);
  if (has_text) {
    run_text_spans_.emplace_back(run_text_.size(), text_len);
    run_text_.append(text_id, text_len);
  }
  const size_t i = entries_.size();
  entries_.push_back(Entry{kRun, 0, chunk, slot, kRunPending, runs_.size() - 1});
  pending_runs_[chunk].push_back(i);
  run_vector_bytes_ += vbytes;
  run_open_ = true;
  open_run_ = i;
  if (indexed_) {
    group_of(layout_.validity_blob, chunk).push_back(i);
    group_of(layout_.rowids_blob, chunk).push_back(i);
    for (const auto& v : layout_.vectors) group_of(v.blob, chunk).push_back(i);
  }
}

std::string Vec0WriteLog::run_text(const Run& r, uint32_t k) const {
  const auto& sp = run_text_spans_[r.text_pos + k];
  return run_text_.substr(sp.first, sp.second);
}

void Vec0WriteLog::materialize_run(size_t i) {
  Entry& e = entries_[i];
  Run& r = runs_[e.pos];
  r.kept_pos = kept_.size();
  for (const auto& v : layout_.vectors) {
    for (uint32_t k = 0; k < r.count; k++) {
      const uint8_t* p = source_ ? source_(v.blob, e.chunk, static_cast<int>(e.offset + k), 1) : nullptr;
      if (p != nullptr) {
        kept_.insert(kept_.end(), p, p + v.bytes);
      } else {
        kept_.resize(kept_.size() + v.bytes);  // zeros; the flush refuses to write them
        run_lost_ = true;
      }
    }
  }
  run_vector_bytes_ -= row_vector_bytes_ * r.count;
  e.where = kRunKept;
  if (run_open_ && open_run_ == i) run_open_ = false;  // its bytes are fixed now
}

void Vec0WriteLog::materialize_slot(int64_t chunk, int slot) {
  auto it = pending_runs_.find(chunk);
  if (it == pending_runs_.end()) return;
  std::vector<size_t>& list = it->second;
  for (size_t j = 0; j < list.size(); j++) {
    const Entry& e = entries_[list[j]];
    const uint32_t s = static_cast<uint32_t>(slot);
    if (s < e.offset || s >= e.offset + runs_[e.pos].count) continue;
    materialize_run(list[j]);
    list.erase(list.begin() + static_cast<std::ptrdiff_t>(j));
    break;  // a slot is in one pending run at most (its row must go before it is reused)
  }
  if (list.empty()) pending_runs_.erase(it);
}

void Vec0WriteLog::materialize_all() {
  if (pending_runs_.empty()) return;
  materialize_entries();
}

void Vec0WriteLog::materialize_entries() {
  for (size_t i = 0; i < entries_.size(); i++)
    if (entries_[i].blob == kRun && entries_[i].where == kRunPending) materialize_run(i);
  pending_runs_.clear();
  run_vector_bytes_ = 0;
  run_open_ = false;
}

std::vector<size_t>& Vec0WriteLog::group_of(int blob, int64_t chunk) const {
  // A run of inserts alternates between the few blobs of one chunk: remember the last ones.
  const std::pair<int, int64_t> key{blob, chunk};
  for (auto& r : recent_)
    if (r.first == key && r.second != nullptr) return *r.second;
  std::vector<size_t>* g = &by_blob_[key];
  recent_[recent_next_] = {key, g};
  recent_next_ = (recent_next_ + 1) % recent_.size();
  return *g;
}

void Vec0WriteLog::forget_recent() const {
  for (auto& r : recent_) r.second = nullptr;
}

void Vec0WriteLog::drop_chunk(int64_t chunk) {
  entries_.push_back(Entry{kDrop, 0, chunk, 0, kInData, data_.size()});
  indexed_ = false;
  run_open_ = false;
}

void Vec0WriteLog::delete_rowid(int64_t rowid) {
  entries_.push_back(Entry{kRowDelete, 0, rowid, 0, kInData, data_.size()});
  row_deletes_ = true;
  run_open_ = false;
}

void Vec0WriteLog::each_rowid_op(const std::function<void(bool, int64_t, const std::string*)>& fn) const {
  std::string text;
  for (const Entry& e : entries_) {
    if (e.blob == kRowDelete) {
      fn(false, e.chunk, nullptr);
    } else if (e.blob == kRun) {
      const Run& r = runs_[e.pos];
      for (uint32_t k = 0; k < r.count; k++) {
        if (r.has_text) text = run_text(r, k);
        fn(true, run_rowids_[r.rowid_pos + k], r.has_text ? &text : nullptr);
      }
    }
  }
}

void Vec0WriteLog::savepoint(int level) {
  while (!marks_.empty() && marks_.back().first >= level) marks_.pop_back();
  marks_.emplace_back(level, entries_.size());
  run_open_ = false;  // rows after the mark must not join a run before it
}

void Vec0WriteLog::release(int level) {
  while (!marks_.empty() && marks_.back().first >= level) marks_.pop_back();
}

bool Vec0WriteLog::rollback_to(int level) {
  while (!marks_.empty() && marks_.back().first > level) marks_.pop_back();
  size_t keep = entries_.size();
  if (marks_.empty()) {
    keep = 0;  // the savepoint predates this table's first write: everything logged is after it
  } else if (marks_.back().first == level) {
    keep = marks_.back().second;  // the savepoint stays open after ROLLBACK TO
  }             // else: opened before `level`, so nothing was logged since `level` opened
  if (keep < entries_.size()) {
    // Each buffer back to where the first dropped entry that used it began (positions grow
    // with the entries in each); kept_ stays (see its declaration).
    bool data_cut = false, bulk_cut = false, runs_cut = false;
    for (size_t i = keep; i < entries_.size() && !(data_cut && bulk_cut && runs_cut); i++) {
      const Entry& e = entries_[i];
      if (e.blob == kRun) {
        if (runs_cut) continue;
        const Run& r = runs_[e.pos];
        run_rowids_.resize(r.rowid_pos);
        if (r.text_pos < run_text_spans_.size()) {
          run_text_.resize(run_text_spans_[r.text_pos].first);
          run_text_spans_.resize(r.text_pos);
        }
        runs_.resize(e.pos);
        runs_cut = true;
      } else if (e.where == kInBulk && !bulk_cut) {
        bulk_.resize(e.pos);
        bulk_cut = true;
      } else if (e.where == kInData && !data_cut) {
        data_.resize(e.pos);
        data_cut = true;
      }
    }
    entries_.resize(keep);
    indexed_ = false;
  } else {
    return false;  // nothing was logged since `level` opened: nothing changes
  }
  // The owner rebuilds its cache now. The runs kept still have their bytes in it (nothing
  // that came after them changed those rows without materializing them first): copied now.
  materialize_entries();
  return true;
}

void Vec0WriteLog::clear() {
  entries_.clear();
  data_.clear();
  bulk_.clear();
  runs_.clear();
  run_rowids_.clear();
  run_text_spans_.clear();
  run_text_.clear();
  kept_.clear();
  pending_runs_.clear();
  run_vector_bytes_ = 0;
  run_open_ = false;
  run_lost_ = false;
  marks_.clear();
  by_blob_.clear();
  forget_recent();
  indexed_ = false;
  row_deletes_ = false;
  if (data_.capacity() > (64u << 20)) std::vector<uint8_t>().swap(data_);
  if (bulk_.capacity() > (64u << 20)) std::vector<uint8_t>().swap(bulk_);
  if (kept_.capacity() > (64u << 20)) std::vector<uint8_t>().swap(kept_);
  if (span_.capacity() > (64u << 20)) std::vector<uint8_t>().swap(span_);
}

void Vec0WriteLog::index() const {
  if (indexed_) return;
  by_blob_.clear();
  forget_recent();
  for (size_t i = 0; i < entries_.size(); i++) {
    const Entry& e = entries_[i];
    if (e.blob == kRowDelete) continue;
    if (e.blob == kDrop) {
      // A dropped chunk's earlier writes never reach SQLite.
      for (auto it = by_blob_.begin(); it != by_blob_.end();) {
        if (it->first.second == e.chunk) it = by_blob_.erase(it);
        else ++it;
      }
      forget_recent();
      continue;
    }
    if (e.blob == kRun) {
      group_of(layout_.validity_blob, e.chunk).push_back(i);
      group_of(layout_.rowids_blob, e.chunk).push_back(i);
      for (const auto& v : layout_.vectors) group_of(v.blob, e.chunk).push_back(i);
      continue;
    }
    group_of(e.blob, e.chunk).push_back(i);
  }
  indexed_ = true;
}

bool Vec0WriteLog::touches(int blob, int64_t chunk) const {
  if (entries_.empty()) return false;
  index();
  return by_blob_.count({blob, chunk}) != 0;
}

bool Vec0WriteLog::pieces_of(size_t i, int blob, std::vector<Piece>* out) const {
  const Entry& e = entries_[i];
  auto add = [out](uint32_t offset, uint32_t len, const uint8_t* ptr) {
    if (!out->empty()) {
      Piece& b = out->back();
      if (!b.bits && b.offset + b.len == offset && b.ptr + b.len == ptr) {
        b.len += len;
        return;
      }
    }
    out->push_back(Piece{offset, len, ptr, false});
  };
  if (e.blob != kRun) {
    add(e.offset, e.len, bytes_of(e));
    return true;
  }
  const Run& r = runs_[e.pos];
  if (blob == layout_.validity_blob) {
    out->push_back(Piece{e.offset, r.count, nullptr, true});
    return true;
  }
  if (blob == layout_.rowids_blob) {
    add(e.offset * 8, r.count * 8, reinterpret_cast<const uint8_t*>(run_rowids_.data() + r.rowid_pos));
    return true;
  }
  size_t kept = r.kept_pos;
  for (const auto& v : layout_.vectors) {
    if (v.blob != blob) {
      kept += static_cast<size_t>(v.bytes) * r.count;
      continue;
    }
    if (e.where == kRunKept) {
      add(e.offset * v.bytes, r.count * v.bytes, kept_.data() + kept);
      return true;
    }
    if (!source_) return false;
    if (const uint8_t* p = source_(blob, e.chunk, static_cast<int>(e.offset), r.count)) {
      add(e.offset * v.bytes, r.count * v.bytes, p);
      return true;
    }
    if (r.count == 1) return false;  // the source has no such row
    for (uint32_t k = 0; k < r.count; k++) {  // not in one piece: slot by slot
      const uint8_t* p = source_(blob, e.chunk, static_cast<int>(e.offset + k), 1);
      if (p == nullptr) return false;
      add((e.offset + k) * v.bytes, v.bytes, p);
    }
    return true;
  }
  return true;  // not a blob this run writes (not reached: groups hold runs only for theirs)
}

void Vec0WriteLog::apply_piece(const Piece& p, uint8_t* data, size_t lo) {
  if (!p.bits) {
    std::memcpy(data + (p.offset - lo), p.ptr, p.len);
    return;
  }
  for (uint32_t b = p.offset; b < p.offset + p.len; b++) data[b / 8 - lo] |= static_cast<uint8_t>(1u << (b % 8));
}

bool Vec0WriteLog::overlay(int blob, int64_t chunk, uint8_t* data, size_t size) const {
  if (entries_.empty()) return false;
  index();
  auto it = by_blob_.find({blob, chunk});
  if (it == by_blob_.end()) return false;
  std::vector<Piece> pieces;
  for (size_t i : it->second) {
    pieces.clear();
    if (!pieces_of(i, blob, &pieces)) continue;  // the flush fails on it
    for (const Piece& p : pieces) {
      const size_t end = p.bits ? (static_cast<size_t>(p.offset) + p.len + 7) / 8 : static_cast<size_t>(p.offset) + p.len;
      if (end > size) continue;  // blob of another size: reported by the reader
      apply_piece(p, data, 0);
    }
  }
  return true;
}

int Vec0WriteLog::flush(sqlite3* db, const std::string& schema, const Resolver& where, const RowidSink& rows,
                        std::string* err) {
  if (entries_.empty()) {
    clear();
    return SQLITE_OK;
  }
  if (run_lost_) {  // before anything reaches SQLite
    *err = string_printf("%sthe bytes of a pending vector write are gone", kInternal);
    clear();
    return SQLITE_INTERNAL;
  }
  // Net effect on _rowids, in order: a delete cancels a pending insert of the same rowid, and
  // otherwise deletes a row that SQLite has.
  struct RowState {
    bool sql_delete = false;
    bool insert = false;
    size_t entry = 0;
    uint32_t sub = 0;  // the row within a run
  };
  std::unordered_map<int64_t, RowState> row_ops;
  std::vector<int64_t> row_order;
  bool any_insert = false;
  int64_t max_inserted = INT64_MIN;
  // One _rowids row: row `sub` of the run in entry i.
  auto row_of = [this](size_t i, uint32_t sub, int64_t rowid) {
    const Entry& e = entries_[i];
    const Run& run = runs_[e.pos];
    RowidRow r{rowid, e.chunk, static_cast<int>(e.offset + sub), run.has_text, nullptr, 0};
    if (r.has_text) {
      const auto& sp = run_text_spans_[run.text_pos + sub];
      r.text = run_text_.data() + sp.first;
      r.text_len = sp.second;
    }
    return r;
  };
  std::vector<RowidRow> fast_inserts;  // no deletes logged: every insert is of a distinct rowid
  if (!row_deletes_) fast_inserts.reserve(run_rowids_.size());
  for (size_t i = 0; !row_deletes_ && i < entries_.size(); i++) {
    const Entry& e = entries_[i];
    if (e.blob == kRun) {
      const Run& r = runs_[e.pos];
      for (uint32_t k = 0; k < r.count; k++) {
        const int64_t rowid = run_rowids_[r.rowid_pos + k];
        fast_inserts.push_back(row_of(i, k, rowid));
        max_inserted = std::max(max_inserted, rowid);
      }
    }
  }
  any_insert = !fast_inserts.empty();
  for (size_t i = 0; row_deletes_ && i < entries_.size(); i++) {
    const Entry& e = entries_[i];
    auto note_insert = [&](int64_t rowid, uint32_t sub) {
      auto ins = row_ops.emplace(rowid, RowState());
      if (ins.second) row_order.push_back(rowid);
      RowState& st = ins.first->second;
      st.insert = true;
      st.entry = i;
      st.sub = sub;
      any_insert = true;
      max_inserted = std::max(max_inserted, rowid);
    };
    if (e.blob == kRun) {
      const Run& r = runs_[e.pos];
      for (uint32_t k = 0; k < r.count; k++) note_insert(run_rowids_[r.rowid_pos + k], k);
    } else if (e.blob == kRowDelete) {
      auto ins = row_ops.emplace(e.chunk, RowState());
      if (ins.second) row_order.push_back(e.chunk);
      RowState& st = ins.first->second;
      if (st.insert) st.insert = false;
      else st.sql_delete = true;
    }
  }
  int rc = SQLITE_OK;
  if (!fast_inserts.empty()) {
    rc = rows({}, fast_inserts, any_insert, max_inserted);
    if (rc != SQLITE_OK) {
      clear();
      return rc;
    }
  }
  if (!row_ops.empty()) {
    std::vector<int64_t> deletes;
    std::vector<RowidRow> inserts;
    for (int64_t rowid : row_order) {
      const RowState& st = row_ops[rowid];
      if (st.sql_delete) deletes.push_back(rowid);
      if (st.insert) inserts.push_back(row_of(st.entry, st.sub, rowid));
    }
    rc = rows(deletes, inserts, any_insert, max_inserted);
    if (rc != SQLITE_OK) {
      clear();
      return rc;
    }
  }
  index();
  std::vector<uint8_t>& span = span_;  // kept across flushes: grown (and zeroed) only once
  std::vector<Piece> pieces;
  for (const auto& group : by_blob_) {
    const int blob = group.first.first;
    const int64_t chunk = group.first.second;
    const Target tg = where(blob);
    // The group's pieces in log order, with the byte range they cover.
    pieces.clear();
    bool ok = true;
    for (size_t i : group.second) ok = ok && pieces_of(i, blob, &pieces);
    if (!ok || pieces.empty()) {
      if (ok) continue;
      *err = string_printf("%sthe bytes of a pending %s write on %s.%s.%lld are gone", kInternal, tg.column,
                                 schema.c_str(), tg.table.c_str(), static_cast<long long>(chunk));
      rc = SQLITE_INTERNAL;
      break;
    }
    size_t lo = SIZE_MAX, hi = 0, written = 0;
    bool any_bits = false;
    for (const Piece& p : pieces) {
      const size_t a = p.bits ? p.offset / 8 : p.offset;
      const size_t b = p.bits ? (static_cast<size_t>(p.offset) + p.len + 7) / 8 : static_cast<size_t>(p.offset) + p.len;
      lo = std::min(lo, a);
      hi = std::max(hi, b);
      written += b - a;
      any_bits = any_bits || p.bits;
    }
    sqlite3_blob* b = nullptr;
    rc = sqlite3_blob_open(db, schema.c_str(), tg.table.c_str(), tg.column, chunk, 1, &b);
    if (rc != SQLITE_OK) {
      *err = string_printf("%scould not open %s blob on %s.%s.%lld", kInternal, tg.column, schema.c_str(),
                                 tg.table.c_str(), static_cast<long long>(chunk));
      break;
    }
    const size_t spanlen = hi - lo;
    if (pieces.size() == 1 && !any_bits) {
      // Rows appended in order (contiguous in the blob and in memory: bulk_, the run's rowids,
      // the arena): one write straight from there.
      rc = sqlite3_blob_write(b, pieces[0].ptr, static_cast<int>(spanlen), static_cast<int>(lo));
    } else if (spanlen <= kSpanSlack || spanlen <= 2 * written) {
      // Is the span fully covered by byte writes? Then there is nothing to read first (bits
      // are set on what the blob holds, so they never cover).
      bool covered = !any_bits;
      if (covered) {
        std::vector<std::pair<size_t, size_t>> iv;
        iv.reserve(pieces.size());
        bool sorted = true;
        for (const Piece& p : pieces) {
          if (!iv.empty() && p.offset < iv.back().first) sorted = false;
          iv.emplace_back(p.offset, static_cast<size_t>(p.offset) + p.len);
        }
        if (!sorted) std::sort(iv.begin(), iv.end());
        size_t reach = lo;
        for (const auto& x : iv) {
          if (x.first > reach) break;
          reach = std::max(reach, x.second);
        }
        covered = reach >= hi;
      }
      if (span.size() < spanlen) span.resize(spanlen);
      if (!covered) rc = sqlite3_blob_read(b, span.data(), static_cast<int>(spanlen), static_cast<int>(lo));
      if (rc == SQLITE_OK) {
        for (const Piece& p : pieces) apply_piece(p, span.data(), lo);
        rc = sqlite3_blob_write(b, span.data(), static_cast<int>(spanlen), static_cast<int>(lo));
      }
    } else {
      for (const Piece& p : pieces) {
        if (!p.bits) {
          rc = sqlite3_blob_write(b, p.ptr, static_cast<int>(p.len), static_cast<int>(p.offset));
        } else {
          const size_t a = p.offset / 8, z = (static_cast<size_t>(p.offset) + p.len + 7) / 8;
          if (span.size() < z - a) span.resize(z - a);
          rc = sqlite3_blob_read(b, span.data(), static_cast<int>(z - a), static_cast<int>(a));
          if (rc == SQLITE_OK) {
            apply_piece(p, span.data(), a);
            rc = sqlite3_blob_write(b, span.data(), static_cast<int>(z - a), static_cast<int>(a));
          }
        }
        if (rc != SQLITE_OK) break;
      }
    }
    sqlite3_blob_close(b);
    if (rc != SQLITE_OK) {
      *err = string_printf("%scould not write %s blob on %s.%s.%lld", kInternal, tg.column, schema.c_str(),
                                 tg.table.c_str(), static_cast<long long>(chunk));
      break;
    }
  }
  // Marks survive a flush: the savepoints they stand for are still open.
  auto marks = std::move(marks_);
  clear();
  marks_ = std::move(marks);
  for (auto& m : marks_) m.second = 0;
  return rc;
}

}  // namespace vecsqlite
