// Vec0WriteLog; see vec0_writelog.h for the format and the savepoint rules.
#include "sqlite/vec0_writelog.h"

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "sqlite/vec0_vector.h"

namespace vecsqlite {

namespace {
constexpr const char* kInternal = "Internal sqlite-vec error: ";
// A group of writes to one blob is written as one span (read, patch, write) when the span is
// at most this many bytes or at most twice the bytes written; otherwise piece by piece.
constexpr size_t kSpanSlack = 64 * 1024;
}  // namespace

void Vec0WriteLog::write(int blob, int64_t chunk, uint32_t offset, const void* bytes, uint32_t len) {
  const bool bulk = len >= kBulkBytes;
  std::vector<uint8_t>& buf = bulk ? bulk_ : data_;
  const size_t pos = buf.size();
  buf.insert(buf.end(), static_cast<const uint8_t*>(bytes), static_cast<const uint8_t*>(bytes) + len);
  entries_.push_back(Entry{blob, len, chunk, offset, bulk ? kInBulk : kInData, pos});
  if (indexed_) group_of(blob, chunk).push_back(entries_.size() - 1);
}

void Vec0WriteLog::write_ref(int blob, int64_t chunk, uint32_t offset, uint32_t len, int64_t key) {
  if (entries_.size() >= UINT32_MAX) {  // past what refs_ can point at: a copy instead
    const uint8_t* p = source_ ? source_(blob, key) : nullptr;
    if (p == nullptr) {
      ref_lost_ = true;
      return;
    }
    write(blob, chunk, offset, p, len);
    return;
  }
  refs_.emplace(key, static_cast<uint32_t>(entries_.size()));  // a key's first ref write of a run
  entries_.push_back(Entry{blob, len, chunk, offset, kInSource, static_cast<size_t>(key)});
  ref_bytes_ += len;
  if (indexed_) group_of(blob, chunk).push_back(entries_.size() - 1);
}

const uint8_t* Vec0WriteLog::bytes_of(const Entry& e) const {
  switch (e.where) {
    case kInData: return data_.data() + e.pos;
    case kInBulk: return bulk_.data() + e.pos;
    case kInKept: return kept_.data() + e.pos;
    case kInSource: return source_ ? source_(e.blob, static_cast<int64_t>(e.pos)) : nullptr;
  }
  return nullptr;
}

void Vec0WriteLog::materialize_entry(Entry& e) {
  const uint8_t* p = bytes_of(e);
  const size_t at = kept_.size();
  if (p != nullptr) {
    kept_.insert(kept_.end(), p, p + e.len);
  } else {
    kept_.resize(at + e.len);  // zeros; the flush refuses to write them
    ref_lost_ = true;
  }
  ref_bytes_ -= e.len;
  e.where = kInKept;
  e.pos = at;
}

void Vec0WriteLog::materialize_key(int64_t key) {
  auto it = refs_.find(key);
  if (it == refs_.end()) return;
  size_t i = it->second;
  refs_.erase(it);
  for (; i < entries_.size() && entries_[i].where == kInSource && static_cast<int64_t>(entries_[i].pos) == key; i++)
    materialize_entry(entries_[i]);
}

void Vec0WriteLog::materialize_all() {
  if (refs_.empty()) return;
  materialize_entries();
}

void Vec0WriteLog::materialize_entries() {
  for (Entry& e : entries_)
    if (e.where == kInSource) materialize_entry(e);
  refs_.clear();
  ref_bytes_ = 0;
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
}

void Vec0WriteLog::insert_rowid(int64_t rowid, int64_t chunk, int offset, const char* text_id, size_t text_len) {
  const size_t pos = data_.size();
  data_.resize(pos + 9 + (text_id != nullptr ? text_len : 0));
  std::memcpy(data_.data() + pos, &chunk, 8);
  data_[pos + 8] = text_id != nullptr ? 1 : 0;
  if (text_id != nullptr && text_len > 0) std::memcpy(data_.data() + pos + 9, text_id, text_len);
  entries_.push_back(Entry{kRowInsert, static_cast<uint32_t>(data_.size() - pos), rowid, static_cast<uint32_t>(offset), kInData, pos});
}

void Vec0WriteLog::delete_rowid(int64_t rowid) {
  entries_.push_back(Entry{kRowDelete, 0, rowid, 0, kInData, data_.size()});
  row_deletes_ = true;
}

void Vec0WriteLog::each_rowid_op(const std::function<void(bool, int64_t, const std::string*)>& fn) const {
  std::string text;
  for (const Entry& e : entries_) {
    if (e.blob == kRowDelete) {
      fn(false, e.chunk, nullptr);
    } else if (e.blob == kRowInsert) {
      const bool has_text = data_[e.pos + 8] != 0;
      if (has_text) text.assign(reinterpret_cast<const char*>(data_.data() + e.pos + 9), e.len - 9);
      fn(true, e.chunk, has_text ? &text : nullptr);
    }
  }
}

void Vec0WriteLog::savepoint(int level) {
  while (!marks_.empty() && marks_.back().first >= level) marks_.pop_back();
  marks_.emplace_back(level, entries_.size());
}

void Vec0WriteLog::release(int level) {
  while (!marks_.empty() && marks_.back().first >= level) marks_.pop_back();
}

void Vec0WriteLog::rollback_to(int level) {
  while (!marks_.empty() && marks_.back().first > level) marks_.pop_back();
  size_t keep = entries_.size();
  if (marks_.empty()) {
    keep = 0;  // the savepoint predates this table's first write: everything logged is after it
  } else if (marks_.back().first == level) {
    keep = marks_.back().second;  // the savepoint stays open after ROLLBACK TO
  }             // else: opened before `level`, so nothing was logged since `level` opened
  if (keep < entries_.size()) {
    // data_ and bulk_ back to where the first dropped entry that used them began (positions
    // grow with the entries in each); kept_ stays (see its declaration).
    bool data_cut = false, bulk_cut = false;
    for (size_t i = keep; i < entries_.size() && !(data_cut && bulk_cut); i++) {
      const Entry& e = entries_[i];
      if (e.where == kInBulk && !bulk_cut) {
        bulk_.resize(e.pos);
        bulk_cut = true;
      } else if (e.where == kInData && !data_cut) {
        data_.resize(e.pos);
        data_cut = true;
      }
    }
    entries_.resize(keep);
    indexed_ = false;
  }
  // The owner rebuilds its cache now. The ref writes kept still have their bytes in it (nothing
  // that came after them changed those rows without materializing them first): copied now.
  materialize_entries();
}

void Vec0WriteLog::clear() {
  entries_.clear();
  data_.clear();
  bulk_.clear();
  kept_.clear();
  refs_.clear();
  ref_bytes_ = 0;
  ref_lost_ = false;
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
    if (e.blob == kRowInsert || e.blob == kRowDelete) continue;
    if (e.blob == kDrop) {
      // A dropped chunk's earlier writes never reach SQLite.
      for (auto it = by_blob_.lower_bound({INT32_MIN, 0}); it != by_blob_.end();) {
        if (it->first.second == e.chunk) it = by_blob_.erase(it);
        else ++it;
      }
      forget_recent();
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

bool Vec0WriteLog::overlay(int blob, int64_t chunk, uint8_t* data, size_t size) const {
  if (entries_.empty()) return false;
  index();
  auto it = by_blob_.find({blob, chunk});
  if (it == by_blob_.end()) return false;
  for (size_t i : it->second) {
    const Entry& e = entries_[i];
    if (static_cast<size_t>(e.offset) + e.len > size) continue;  // blob of another size: reported by the reader
    const uint8_t* p = bytes_of(e);
    if (p != nullptr) std::memcpy(data + e.offset, p, e.len);  // else: the flush fails (ref_lost_)
  }
  return true;
}

int Vec0WriteLog::flush(sqlite3* db, const std::string& schema, const Resolver& where, const RowidSink& rows,
                        std::string* err) {
  if (entries_.empty()) {
    clear();
    return SQLITE_OK;
  }
  if (ref_lost_) {  // before anything reaches SQLite
    *err = vec0::string_printf("%sthe bytes of a pending vector write are gone", kInternal);
    clear();
    return SQLITE_INTERNAL;
  }
  // Net effect on _rowids, in order: a delete cancels a pending insert of the same rowid, and
  // otherwise deletes a row that SQLite has.
  struct RowState {
    bool sql_delete = false;
    bool insert = false;
    size_t entry = 0;
  };
  std::unordered_map<int64_t, RowState> row_ops;
  std::vector<int64_t> row_order;
  bool any_insert = false;
  int64_t max_inserted = INT64_MIN;
  std::vector<RowidRow> fast_inserts;  // no deletes logged: every insert is of a distinct rowid
  if (!row_deletes_) fast_inserts.reserve(entries_.size() / 4 + 1);  // an insert logs 4 entries
  for (size_t i = 0; !row_deletes_ && i < entries_.size(); i++) {
    const Entry& e = entries_[i];
    if (e.blob != kRowInsert) continue;
    RowidRow r;
    r.rowid = e.chunk;
    std::memcpy(&r.chunk, data_.data() + e.pos, 8);
    r.offset = static_cast<int>(e.offset);
    r.has_text = data_[e.pos + 8] != 0;
    if (r.has_text) r.text.assign(reinterpret_cast<const char*>(data_.data() + e.pos + 9), e.len - 9);
    fast_inserts.push_back(std::move(r));
    any_insert = true;
    if (e.chunk > max_inserted) max_inserted = e.chunk;
  }
  for (size_t i = 0; row_deletes_ && i < entries_.size(); i++) {
    const Entry& e = entries_[i];
    if (e.blob != kRowInsert && e.blob != kRowDelete) continue;
    auto ins = row_ops.emplace(e.chunk, RowState());
    if (ins.second) row_order.push_back(e.chunk);
    RowState& st = ins.first->second;
    if (e.blob == kRowInsert) {
      st.insert = true;
      st.entry = i;
      any_insert = true;
      if (e.chunk > max_inserted) max_inserted = e.chunk;
    } else if (st.insert) {
      st.insert = false;
    } else {
      st.sql_delete = true;
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
      if (!st.insert) continue;
      const Entry& e = entries_[st.entry];
      RowidRow r;
      r.rowid = rowid;
      std::memcpy(&r.chunk, data_.data() + e.pos, 8);
      r.offset = static_cast<int>(e.offset);
      r.has_text = data_[e.pos + 8] != 0;
      if (r.has_text) r.text.assign(reinterpret_cast<const char*>(data_.data() + e.pos + 9), e.len - 9);
      inserts.push_back(std::move(r));
    }
    rc = rows(deletes, inserts, any_insert, max_inserted);
    if (rc != SQLITE_OK) {
      clear();
      return rc;
    }
  }
  index();
  std::vector<uint8_t>& span = span_;  // kept across flushes: grown (and zeroed) only once
  std::vector<const uint8_t*> ptrs;     // each write's bytes, per group
  for (const auto& group : by_blob_) {
    const int blob = group.first.first;
    const int64_t chunk = group.first.second;
    const std::vector<size_t>& ids = group.second;
    size_t lo = SIZE_MAX, hi = 0, written = 0;
    std::vector<std::pair<size_t, size_t>> iv;
    iv.reserve(ids.size());
    ptrs.clear();
    for (size_t i : ids) {
      const Entry& e = entries_[i];
      lo = std::min<size_t>(lo, e.offset);
      hi = std::max<size_t>(hi, static_cast<size_t>(e.offset) + e.len);
      written += e.len;
      iv.emplace_back(e.offset, static_cast<size_t>(e.offset) + e.len);
      ptrs.push_back(bytes_of(e));
      if (ptrs.back() == nullptr) break;
    }
    const Target tg = where(blob);
    if (ptrs.size() != ids.size() || ptrs.back() == nullptr) {
      *err = vec0::string_printf("%sthe bytes of a pending %s write on %s.%s.%lld are gone", kInternal, tg.column,
                                 schema.c_str(), tg.table.c_str(), static_cast<long long>(chunk));
      rc = SQLITE_INTERNAL;
      break;
    }
    sqlite3_blob* b = nullptr;
    rc = sqlite3_blob_open(db, schema.c_str(), tg.table.c_str(), tg.column, chunk, 1, &b);
    if (rc != SQLITE_OK) {
      *err = vec0::string_printf("%scould not open %s blob on %s.%s.%lld", kInternal, tg.column, schema.c_str(),
                                 tg.table.c_str(), static_cast<long long>(chunk));
      break;
    }
    const size_t spanlen = hi - lo;
    // Rows appended in order (each write right after the previous one, in the blob and in
    // memory: bulk_, or the source's arena): one write straight from there.
    bool run = true;
    for (size_t k = 1; run && k < ids.size(); k++) {
      const Entry& a = entries_[ids[k - 1]];
      const Entry& e = entries_[ids[k]];
      run = e.offset == a.offset + a.len && ptrs[k] == ptrs[k - 1] + a.len;
    }
    if (run) {
      rc = sqlite3_blob_write(b, ptrs[0], static_cast<int>(spanlen), static_cast<int>(lo));
    } else if (spanlen <= kSpanSlack || spanlen <= 2 * written) {
      // Is the span fully covered by the writes? Then there is nothing to read first.
      std::sort(iv.begin(), iv.end());
      size_t reach = lo;
      for (const auto& x : iv) {
        if (x.first > reach) break;
        reach = std::max(reach, x.second);
      }
      if (span.size() < spanlen) span.resize(spanlen);
      if (reach < hi) rc = sqlite3_blob_read(b, span.data(), static_cast<int>(spanlen), static_cast<int>(lo));
      if (rc == SQLITE_OK) {
        for (size_t k = 0; k < ids.size(); k++) {
          const Entry& e = entries_[ids[k]];
          std::memcpy(span.data() + (e.offset - lo), ptrs[k], e.len);
        }
        rc = sqlite3_blob_write(b, span.data(), static_cast<int>(spanlen), static_cast<int>(lo));
      }
    } else {
      for (size_t k = 0; k < ids.size(); k++) {
        const Entry& e = entries_[ids[k]];
        rc = sqlite3_blob_write(b, ptrs[k], static_cast<int>(e.len), static_cast<int>(e.offset));
        if (rc != SQLITE_OK) break;
      }
    }
    sqlite3_blob_close(b);
    if (rc != SQLITE_OK) {
      *err = vec0::string_printf("%scould not write %s blob on %s.%s.%lld", kInternal, tg.column, schema.c_str(),
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
