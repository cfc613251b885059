// Vec0ChangeLog; see vec0_changelog.h for the format.
#include "sqlite/vec0/vec0_changelog.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace vecsqlite {

namespace {
constexpr size_t kHeader = 9;  // int64s of an entry before the chunk ids (after seq)

void put(std::string* out, int64_t v) {
  char b[8];
  std::memcpy(b, &v, 8);  // little-endian hosts only (x86-64, aarch64), as the chunk blobs
  out->append(b, 8);
}
}  // namespace

bool Vec0ChangeLog::decode_entry(const void* data, size_t n, int64_t* seq, Vec0Change* out) {
  if (data == nullptr || n % 8 != 0 || n / 8 < kHeader + 1) return false;
  const size_t words = n / 8;
  std::vector<int64_t> w(words);
  std::memcpy(w.data(), data, n);
  Vec0Change c;
  *seq = w[0];
  c.token = w[1];
  c.prev_token = w[2];
  c.pre.seq_rowids = w[3];
  c.pre.seq_chunks = w[4];
  c.pre.fp = static_cast<uint64_t>(w[5]);
  c.post.seq_rowids = w[6];
  c.post.seq_chunks = w[7];
  c.post.fp = static_cast<uint64_t>(w[8]);
  const int64_t count = w[9];
  const size_t at = kHeader + 1;
  if (*seq < 0) return false;
  if (count == -1) {
    if (words != at) return false;
  } else {
    if (count < 0 || static_cast<uint64_t>(count) != words - at || static_cast<uint64_t>(count) > kMaxChunks) return false;
    c.recorded = true;
    c.chunks.assign(w.begin() + static_cast<std::ptrdiff_t>(at), w.end());
  }
  *out = std::move(c);
  return true;
}

std::string Vec0ChangeLog::encode_entry(int64_t seq, const Vec0Change& c) {
  const bool rec = c.recorded && c.chunks.size() <= kMaxChunks;
  std::string out;
  out.reserve(8 * (kHeader + 1 + (rec ? c.chunks.size() : 0)));
  put(&out, seq);
  put(&out, c.token);
  put(&out, c.prev_token);
  put(&out, c.pre.seq_rowids);
  put(&out, c.pre.seq_chunks);
  put(&out, static_cast<int64_t>(c.pre.fp));
  put(&out, c.post.seq_rowids);
  put(&out, c.post.seq_chunks);
  put(&out, static_cast<int64_t>(c.post.fp));
  put(&out, rec ? static_cast<int64_t>(c.chunks.size()) : -1);
  if (rec)
    for (int64_t id : c.chunks) put(&out, id);
  return out;
}

std::string Vec0ChangeLog::slot_key(int64_t seq) {
  const unsigned slot = static_cast<unsigned>(static_cast<uint64_t>(seq) % kSlots);
  char b[32];
  std::snprintf(b, sizeof b, "vecsqlite_change_%02u", slot);
  return b;
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
