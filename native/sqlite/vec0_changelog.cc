// Vec0ChangeLog; see vec0_changelog.h for the format.
#include "sqlite/vec0_changelog.h"

#include <algorithm>
#include <cstring>

namespace vecsqlite {

namespace {
constexpr size_t kHeader = 9;  // int64s before the chunk ids

void put(std::string* out, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);  // little-endian hosts only (x86-64, aarch64), as the chunk blobs
  out->append(b, 8);
}
}  // namespace

bool Vec0ChangeLog::decode(const void* data, size_t n) {
  entries_.clear();
  if (n % 8 != 0) return false;
  const size_t words = n / 8;
  std::vector<int64_t> w(words);
  if (words != 0) std::memcpy(w.data(), data, n);
  size_t at = 0;
  while (at < words) {
    if (words - at < kHeader) {
      entries_.clear();
      return false;
    }
    Vec0Change c;
    c.token = w[at];
    c.prev_token = w[at + 1];
    c.pre.seq_rowids = w[at + 2];
    c.pre.seq_chunks = w[at + 3];
    c.pre.fp = static_cast<uint64_t>(w[at + 4]);
    c.post.seq_rowids = w[at + 5];
    c.post.seq_chunks = w[at + 6];
    c.post.fp = static_cast<uint64_t>(w[at + 7]);
    const int64_t count = w[at + 8];
    at += kHeader;
    if (count >= 0) {
      if (static_cast<uint64_t>(count) > words - at) {
        entries_.clear();
        return false;
      }
      c.recorded = true;
      c.chunks.assign(w.begin() + static_cast<std::ptrdiff_t>(at), w.begin() + static_cast<std::ptrdiff_t>(at + static_cast<size_t>(count)));
      at += static_cast<size_t>(count);
    }
    entries_.push_back(std::move(c));
  }
  return true;
}

std::string Vec0ChangeLog::encode() const {
  std::string out;
  for (const Vec0Change& c : entries_) {
    put(&out, c.token);
    put(&out, c.prev_token);
    put(&out, c.pre.seq_rowids);
    put(&out, c.pre.seq_chunks);
    put(&out, static_cast<int64_t>(c.pre.fp));
    put(&out, c.post.seq_rowids);
    put(&out, c.post.seq_chunks);
    put(&out, static_cast<int64_t>(c.post.fp));
    put(&out, c.recorded ? static_cast<int64_t>(c.chunks.size()) : -1);
    if (c.recorded)
      for (int64_t id : c.chunks) put(&out, id);
  }
  return out;
}

void Vec0ChangeLog::append(Vec0Change c) {
  if (c.chunks.size() > kMaxChunks / 2) {
    c.recorded = false;
    c.chunks.clear();
  }
  entries_.push_back(std::move(c));
  size_t total = 0;
  for (const Vec0Change& e : entries_) total += e.chunks.size();
  size_t drop = 0;
  while (entries_.size() - drop > kMaxEntries || total > kMaxChunks) {
    total -= entries_[drop].chunks.size();
    drop++;
  }
  entries_.erase(entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(drop));
}

bool Vec0ChangeLog::plan(int64_t from, const Vec0MarkerState& have, int64_t to, const Vec0MarkerState& now,
                         std::set<int64_t>* chunks) const {
  chunks->clear();
  int64_t token = from;
  Vec0MarkerState state = have;
  for (size_t steps = 0; steps <= entries_.size(); steps++) {
    if (token == to) return state == now;
    // The commit that started from `token` (tokens are random: at most one matches).
    const Vec0Change* next = nullptr;
    for (const Vec0Change& e : entries_)
      if (e.prev_token == token) next = &e;
    if (next == nullptr || !next->recorded || !(next->pre == state)) return false;
    chunks->insert(next->chunks.begin(), next->chunks.end());
    token = next->token;
    state = next->post;
  }
  return false;
}

}  // namespace vecsqlite
