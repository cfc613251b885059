// HnswIndex persistence: the graph's state and its blocks of nodes as CRC-sealed byte strings
// (the layout is in hnsw.h), and the bookkeeping of which blocks changed.
#include <algorithm>
#include <cstring>

#include "core/crc32.h"
#include "core/hnsw.h"

namespace vecsqlite {

// ---- persistence -------------------------------------------------------------------------------
namespace {
void put8(std::string* s, uint8_t v) { s->push_back(static_cast<char>(v)); }
void put32(std::string* s, uint32_t v) {
  for (int i = 0; i < 4; i++) s->push_back(static_cast<char>(v >> (8 * i)));
}
void put64(std::string* s, uint64_t v) {
  for (int i = 0; i < 8; i++) s->push_back(static_cast<char>(v >> (8 * i)));
}
struct Reader {
  const uint8_t* p;
  size_t n, at = 0;
  bool ok = true;
  bool need(size_t k) {
    if (n - at < k) ok = false;
    return ok;
  }
  uint8_t u8() { return need(1) ? p[at++] : 0; }
  uint32_t u32() {
    if (!need(4)) return 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= uint32_t(p[at++]) << (8 * i);
    return v;
  }
  uint64_t u64() {
    if (!need(8)) return 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= uint64_t(p[at++]) << (8 * i);
    return v;
  }
};
constexpr uint32_t kMetaMagic = 0x31534e48;   // "HNS1"
constexpr uint8_t kBlockVersion = 1;
// A CRC-32 of the bytes after it, in front.
std::string sealed(const std::string& body) {
  std::string out;
  put32(&out, crc32_bytes(reinterpret_cast<const uint8_t*>(body.data()), body.size()));
  return out + body;
}
bool unseal(const void* data, size_t n, Reader* r) {
  const uint8_t* p = static_cast<const uint8_t*>(data);
  if (p == nullptr || n < 4) return false;
  uint32_t crc = 0;
  for (int i = 0; i < 4; i++) crc |= uint32_t(p[i]) << (8 * i);
  if (crc32_bytes(p + 4, n - 4) != crc) return false;
  *r = Reader{p + 4, n - 4};
  return true;
}
}  // namespace

std::string HnswIndex::encode_meta() const {
  std::string b;
  put32(&b, kMetaMagic);
  put8(&b, static_cast<uint8_t>(dtype_));
  put32(&b, static_cast<uint32_t>(dim_));
  put8(&b, static_cast<uint8_t>(metric_));
  put32(&b, params_.m);
  put32(&b, params_.ef_construction);
  put64(&b, ids_.size());
  put64(&b, live_);
  put32(&b, entry_);
  put32(&b, static_cast<uint32_t>(max_level_ + 1));
  put64(&b, rng_);
  return sealed(b);
}

std::string HnswIndex::encode_block(size_t block) const {
  std::string b;
  put8(&b, kBlockVersion);
  const size_t first = block * kBlockNodes, last = std::min(ids_.size(), first + kBlockNodes);
  put8(&b, static_cast<uint8_t>(last > first ? last - first : 0));
  for (size_t node = first; node < last; node++) {
    put64(&b, static_cast<uint64_t>(ids_[node]));
    if (!alive(static_cast<uint32_t>(node))) continue;
    put8(&b, levels_[node]);
    for (int l = 0; l <= levels_[node]; l++) {
      const uint32_t* ln = links(static_cast<uint32_t>(node), l);
      put8(&b, static_cast<uint8_t>(ln[0]));
      for (uint32_t i = 0; i < ln[0]; i++) put32(&b, ln[1 + i]);
    }
  }
  return sealed(b);
}

bool HnswIndex::decode_meta(const void* data, size_t n, std::string* err) {
  Reader r{nullptr, 0};
  if (!unseal(data, n, &r)) {
    *err = "its header is damaged (checksum mismatch)";
    return false;
  }
  const uint32_t magic = r.u32();
  const uint8_t dt = r.u8();
  const uint32_t dim = r.u32();
  const uint8_t mt = r.u8();
  const uint32_t m = r.u32(), efc = r.u32();
  const uint64_t cap = r.u64(), live = r.u64();
  const uint32_t entry = r.u32();
  const uint32_t top = r.u32();
  const uint64_t rng = r.u64();
  if (!r.ok || magic != kMetaMagic) {
    *err = "its header is not an index header";
    return false;
  }
  if (dt != static_cast<uint8_t>(dtype_) || dim != dim_ || mt != static_cast<uint8_t>(metric_) || m != params_.m) {
    *err = "its header does not match the column (element type, dimensions, metric or m)";
    return false;
  }
  if (cap > (uint64_t{1} << 31) || live > cap || (live > 0) != (entry != kNone) || (entry != kNone && entry >= cap) ||
      top > static_cast<uint32_t>(kMaxLevel) + 1) {
    *err = "its header holds impossible counts";
    return false;
  }
  clear();
  params_.ef_construction = efc;
  try {
    ids_.assign(cap, kFreeId);
    levels_.assign(cap, 0);
    links0_.assign(cap * (1 + 2 * params_.m), 0);
    upper_.resize(cap);
    rows_.assign(cap * row_bytes_, 0);
    if (coded_) meta_.assign(cap, SketchRowInfo{});
    dirty_.assign((blocks() + 63) / 64, 0);
  } catch (const std::bad_alloc&) {
    clear();
    throw;
  }
  entry_ = entry;
  max_level_ = static_cast<int>(top) - 1;
  rng_ = rng != 0 ? rng : 0x9e3779b97f4a7c15ULL;
  live_ = static_cast<size_t>(live);  // checked against the blocks in finish_load
  return true;
}

bool HnswIndex::decode_block(size_t block, const void* data, size_t n, std::string* err) {
  Reader r{nullptr, 0};
  if (!unseal(data, n, &r)) {
    *err = string_for_block(block, "is damaged (checksum mismatch)");
    return false;
  }
  const uint8_t version = r.u8();
  const size_t count = r.u8();
  const size_t first = block * kBlockNodes;
  if (!r.ok || version != kBlockVersion || count > kBlockNodes || first + count > ids_.size()) {
    *err = string_for_block(block, "has an unknown layout");
    return false;
  }
  for (size_t k = 0; k < count; k++) {
    const uint32_t node = static_cast<uint32_t>(first + k);
    const int64_t id = static_cast<int64_t>(r.u64());
    if (id == kFreeId) continue;
    const int level = r.u8();
    if (!r.ok || level > kMaxLevel || !node_of_.emplace(id, node).second) {
      *err = string_for_block(block, "holds an impossible node");
      return false;
    }
    ids_[node] = id;
    levels_[node] = static_cast<uint8_t>(level);
    if (level > 0) upper_[node].reset(new uint32_t[static_cast<size_t>(level) * (1 + params_.m)]);
    for (int l = 0; l <= level; l++) {
      const uint32_t cnt = r.u8();
      uint32_t* ln = links(node, l);
      if (cnt > max_links(l)) r.ok = false;
      ln[0] = r.ok ? cnt : 0;
      for (uint32_t i = 0; r.ok && i < cnt; i++) {
        ln[1 + i] = r.u32();
        if (ln[1 + i] >= ids_.size()) r.ok = false;
      }
    }
    if (!r.ok) {
      *err = string_for_block(block, "holds an impossible link list");
      return false;
    }
  }
  return true;
}

std::string HnswIndex::string_for_block(size_t block, const char* what) {
  return "block " + std::to_string(block) + " " + what;
}

bool HnswIndex::check_links(std::string* err) const {
  size_t live = 0;
  int top = -1;
  for (uint32_t x = 0; x < ids_.size(); x++) {
    if (!alive(x)) continue;
    live++;
    top = std::max<int>(top, levels_[x]);
  }
  if (live != live_ || (live > 0 && (entry_ == kNone || !alive(entry_) || levels_[entry_] != max_level_ || top != max_level_))) {
    *err = "its node count or entry point does not match its blocks";
    return false;
  }
  return true;
}

void HnswIndex::finish_free_list() {
  free_.clear();
  for (uint32_t x = static_cast<uint32_t>(ids_.size()); x-- > 0;)
    if (!alive(x)) free_.push_back(x);
}

std::vector<size_t> HnswIndex::take_dirty_blocks() {
  std::vector<size_t> out;
  for (size_t w = 0; w < dirty_.size(); w++)
    for (uint64_t bits = dirty_[w]; bits != 0; bits &= bits - 1) out.push_back(64 * w + __builtin_ctzll(bits));
  std::fill(dirty_.begin(), dirty_.end(), 0);
  return out;
}

void HnswIndex::mark_all_dirty() {
  dirty_.assign((blocks() + 63) / 64, 0);
  for (size_t b = 0; b < blocks(); b++) dirty_[b / 64] |= uint64_t{1} << (b % 64);
}

size_t HnswIndex::memory_bytes() const {
  size_t upper = 0;
  for (size_t x = 0; x < ids_.size(); x++) upper += static_cast<size_t>(levels_[x]) * (1 + params_.m) * 4;
  return ids_.capacity() * 8 + node_of_.memory_bytes() + levels_.capacity() + links0_.capacity() * 4 +
         upper_.capacity() * sizeof(void*) + upper + rows_.capacity() + meta_.capacity() * sizeof(SketchRowInfo) +
         free_.capacity() * 4 + dirty_.capacity() * 8;
}

}  // namespace vecsqlite
