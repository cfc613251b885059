// HnswIndex; see hnsw.h.
#include "core/hnsw.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <new>

#include "core/crc32.h"
#include "core/parallel.h"

namespace vecsqlite {

// ---- prepared queries --------------------------------------------------------------------------
// A query against traversal rows: an external query (int16 codes for coded rows, the raw row
// otherwise) or a node's own traversal row (when linking or repairing).
struct HnswIndex::Query {
  SketchQuery sq;                    // coded, external
  const int8_t* codes = nullptr;     // coded, node
  SketchRowInfo meta{};              // coded, node
  const uint8_t* raw = nullptr;      // raw rows
  bool node = false;
  double qt2 = 0;                    // coded external: |q~|^2 (l2), or |q| (cosine)
};

bool HnswIndex::accepts(const void* row) const {
  if (!coded_) return true;
  const float* x = static_cast<const float*>(row);
  double n2 = 0;
  for (size_t i = 0; i < dim_; i++) n2 += double(x[i]) * x[i];
  return n2 >= 1e-30 && n2 <= 1e30;
}

bool HnswIndex::prepare(const void* row, Query* q) const {
  q->node = false;
  if (!coded_) {
    q->raw = static_cast<const uint8_t*>(row);
    return true;
  }
  q->sq = make_sketch_query(metric_, static_cast<const float*>(row), dim_);
  q->qt2 = metric_ == Metric::l2 ? q->sq.qt2 : q->sq.qnorm;
  return q->sq.usable();
}

void HnswIndex::prepare_node(uint32_t node, Query* q) const {
  q->node = true;
  if (coded_) {
    q->codes = rows_.data() + node * row_bytes_;
    q->meta = meta_[node];
  } else {
    q->raw = reinterpret_cast<const uint8_t*>(rows_.data() + node * row_bytes_);
  }
}

// Traversal distances: monotonic in the true distance (squared for l2), never NaN.
float HnswIndex::distance(const Query& q, uint32_t node) const {
  const KernelTable& kt = kernels();
  const int8_t* row = rows_.data() + node * row_bytes_;
  if (coded_) {
    const SketchRowInfo& m = meta_[node];
    double s, dot;
    if (q.node) {
      dot = static_cast<double>(kt.dot_i8(q.codes, row, dim_));
      s = static_cast<double>(q.meta.scale) * m.scale;
      if (metric_ == Metric::l2) {
        const double a = double(q.meta.scale) * q.meta.scale * q.meta.codes_sq;
        const double b = double(m.scale) * m.scale * m.codes_sq;
        return static_cast<float>(std::max(0.0, a + b - 2 * s * dot));
      }
      return static_cast<float>(1.0 - s * dot / (double(q.meta.norm) * m.norm));
    }
    int32_t d32;
    kt.dot_i16i8_block(q.sq.codes.data(), row, dim_, 1, &d32);
    dot = d32;
    s = static_cast<double>(q.sq.scale) * m.scale;
    if (metric_ == Metric::l2) {
      const double b = double(m.scale) * m.scale * m.codes_sq;
      return static_cast<float>(std::max(0.0, q.qt2 + b - 2 * s * dot));
    }
    return static_cast<float>(1.0 - s * dot / (q.qt2 * m.norm));
  }
  float d;
  const Metric m = metric_ == Metric::l2 ? Metric::l2sq : metric_;
  block_distance(kt, m, dtype_, q.raw, row, dtype_ == Dtype::u1 ? row_bytes_ : dim_, 1, &d);
  return d != d ? std::numeric_limits<float>::infinity() : d;
}

float HnswIndex::node_distance(uint32_t a, uint32_t b) const {
  Query q;
  prepare_node(a, &q);
  return distance(q, b);
}

// ---- construction ------------------------------------------------------------------------------
HnswIndex::HnswIndex(Dtype dtype, size_t dim, Metric metric, HnswParams params)
    : dtype_(dtype), dim_(dim), metric_(metric), params_(params), locks_(new std::mutex[kLocks]) {
  if (params_.m < 2) params_.m = 2;
  if (params_.m > kMaxM) params_.m = kMaxM;
  if (params_.ef_construction < params_.m) params_.ef_construction = params_.m;
  coded_ = dtype == Dtype::f32 && (metric == Metric::l2 || metric == Metric::cos) && dim >= 1 && dim <= kSketchMaxDim;
  row_bytes_ = coded_ ? dim : dtype_row_bytes(dtype, dim);
  level_mult_ = 1.0 / std::log(static_cast<double>(params_.m));
  rng_ = 0x9e3779b97f4a7c15ULL;
}

HnswIndex::~HnswIndex() = default;

std::unique_ptr<HnswIndex> HnswIndex::clone() const {
  std::unique_ptr<HnswIndex> c(new HnswIndex(dtype_, dim_, metric_, params_));
  c->rng_ = rng_;
  c->ids_ = ids_;
  c->node_of_ = node_of_;
  c->levels_ = levels_;
  c->links0_ = links0_;
  c->upper_.resize(upper_.size());
  for (size_t node = 0; node < upper_.size(); node++) {
    if (!upper_[node]) continue;
    const size_t n = static_cast<size_t>(levels_[node]) * (1 + params_.m);
    c->upper_[node].reset(new uint32_t[n]);
    std::memcpy(c->upper_[node].get(), upper_[node].get(), n * sizeof(uint32_t));
  }
  c->rows_ = rows_;
  c->meta_ = meta_;
  c->free_ = free_;
  c->live_ = live_;
  c->entry_ = entry_;
  c->max_level_ = max_level_;
  c->dirty_ = dirty_;
  return c;
}

void HnswIndex::clear() {
  ids_.clear();
  node_of_.clear();
  levels_.clear();
  links0_.clear();
  upper_.clear();
  rows_.clear();
  meta_.clear();
  free_.clear();
  dirty_.clear();
  live_ = 0;
  entry_ = kNone;
  max_level_ = -1;
}

int HnswIndex::draw_level() {
  rng_ ^= rng_ << 13;
  rng_ ^= rng_ >> 7;
  rng_ ^= rng_ << 17;
  const double u = (static_cast<double>(rng_ >> 11) + 0.5) / 9007199254740992.0;  // (0, 1)
  const int level = static_cast<int>(-std::log(u) * level_mult_);
  return std::min(level, kMaxLevel);
}

uint32_t* HnswIndex::links(uint32_t node, int level) {
  if (level == 0) return links0_.data() + static_cast<size_t>(node) * (1 + 2 * params_.m);
  return upper_[node].get() + static_cast<size_t>(level - 1) * (1 + params_.m);
}
const uint32_t* HnswIndex::links(uint32_t node, int level) const {
  return const_cast<HnswIndex*>(this)->links(node, level);
}

void HnswIndex::mark_dirty(uint32_t node) {
  const size_t block = node / kBlockNodes;
  __atomic_fetch_or(&dirty_[block / 64], uint64_t{1} << (block % 64), __ATOMIC_RELAXED);
}

uint32_t HnswIndex::alloc_node(int64_t id, int level) {
  uint32_t node;
  if (!free_.empty()) {
    node = free_.back();
    free_.pop_back();
  } else {
    node = static_cast<uint32_t>(ids_.size());
    ids_.push_back(kFreeId);
    levels_.push_back(0);
    links0_.resize(links0_.size() + 1 + 2 * params_.m, 0);
    upper_.emplace_back();
    rows_.resize(rows_.size() + row_bytes_);
    if (coded_) meta_.emplace_back();
    dirty_.resize((blocks() + 63) / 64, 0);
  }
  ids_[node] = id;
  node_of_[id] = node;
  levels_[node] = static_cast<uint8_t>(level);
  links(node, 0)[0] = 0;
  upper_[node].reset();
  if (level > 0) {
    const size_t n = static_cast<size_t>(level) * (1 + params_.m);
    upper_[node].reset(new uint32_t[n]);
    for (int l = 1; l <= level; l++) links(node, l)[0] = 0;
  }
  live_++;
  mark_dirty(node);
  return node;
}

void HnswIndex::set_row(uint32_t node, const void* row) {
  int8_t* dst = rows_.data() + node * row_bytes_;
  if (coded_) sketch_encode_row(static_cast<const float*>(row), dim_, dst, &meta_[node]);
  else std::memcpy(dst, row, row_bytes_);
}

namespace {

// The visited set of one search: a tag per node, the search's generation marking the nodes it
// saw; thread-local, so concurrent searches each have their own.
struct Visited {
  std::vector<uint32_t> tag;
  uint32_t gen = 0;
  void begin(size_t n) {
    if (tag.size() < n) tag.resize(n + n / 4 + 64, 0);
    if (++gen == 0) {
      std::fill(tag.begin(), tag.end(), 0);
      gen = 1;
    }
  }
  bool seen(uint32_t i) {
    if (tag[i] == gen) return true;
    tag[i] = gen;
    return false;
  }
};
thread_local Visited t_visited;

using Pair = std::pair<float, uint32_t>;
struct Farther {  // max-heap by distance (ties: larger node)
  bool operator()(const Pair& a, const Pair& b) const { return a < b; }
};
struct Nearer {  // min-heap by distance
  bool operator()(const Pair& a, const Pair& b) const { return a > b; }
};

}  // namespace

struct HnswIndex::SearchCtx {
  std::vector<Pair> cand;     // min-heap
  std::vector<Pair> result;   // max-heap
  std::vector<uint32_t> nbrs; // a copy of a link list (concurrent linking)
};

uint32_t HnswIndex::greedy(const Query& q, uint32_t ep, int from_level, int to_level) const {
  float best = distance(q, ep);
  uint32_t cur = ep;
  std::vector<uint32_t> copy;
  for (int l = from_level; l >= to_level; l--) {
    bool moved = true;
    while (moved) {
      moved = false;
      const uint32_t* ln = links(cur, l);
      uint32_t n = 0;
      const uint32_t* list = ln + 1;
      if (!concurrent_) {
        n = ln[0];
      } else {
        std::lock_guard<std::mutex> g(lock_of(cur));
        n = ln[0];
        copy.assign(ln + 1, ln + 1 + n);
        list = copy.data();
      }
      for (uint32_t i = 0; i < n; i++) {
        const uint32_t c = list[i];
        if (c >= ids_.size() || !alive(c) || levels_[c] < l) continue;
        const float d = distance(q, c);
        if (d < best) {
          best = d;
          cur = c;
          moved = true;
        }
      }
    }
  }
  return cur;
}

void HnswIndex::search_layer(const Query& q, uint32_t ep, size_t ef, int level, const IdFilter* admit, SearchCtx* ctx,
                             std::vector<Pair>* out) const {
  Visited& vis = t_visited;
  vis.begin(ids_.size());
  auto& cand = ctx->cand;
  auto& res = ctx->result;
  cand.clear();
  res.clear();
  const float d0 = distance(q, ep);
  vis.seen(ep);
  cand.emplace_back(d0, ep);
  float lower = std::numeric_limits<float>::infinity();
  if (admit == nullptr || admit->admits(ids_[ep])) {
    res.emplace_back(d0, ep);
    lower = d0;
  }
  const size_t stride = row_bytes_;
  while (!cand.empty()) {
    const Pair c = cand.front();
    if (c.first > lower && res.size() >= ef) break;
    std::pop_heap(cand.begin(), cand.end(), Nearer());
    cand.pop_back();
    const uint32_t* ln = links(c.second, level);
    uint32_t n = 0;
    const uint32_t* list = ln + 1;
    if (!concurrent_) {
      n = ln[0];
    } else {
      std::lock_guard<std::mutex> g(lock_of(c.second));
      n = ln[0];
      ctx->nbrs.assign(ln + 1, ln + 1 + n);
      list = ctx->nbrs.data();
    }
    // The neighbours not seen yet, then their rows prefetched together: the distance loop below
    // then waits for memory about once per list instead of once per neighbour. Level and
    // liveness are read only where they can fail (upper levels; free node numbers exist).
    uint32_t fresh[2 * kMaxM];
    uint32_t nf = 0;
    const bool check_alive = !free_.empty();
    for (uint32_t i = 0; i < n && nf < 2 * kMaxM; i++) {
      const uint32_t x = list[i];
      if (x >= ids_.size() || vis.seen(x)) continue;
      fresh[nf++] = x;
      const char* p = reinterpret_cast<const char*>(rows_.data() + static_cast<size_t>(x) * stride);
      __builtin_prefetch(p);
      if (stride > 64) __builtin_prefetch(p + 64);
      if (stride > 128) __builtin_prefetch(p + 128);
      if (coded_) __builtin_prefetch(&meta_[x]);
    }
    for (uint32_t i = 0; i < nf; i++) {
      const uint32_t x = fresh[i];
      if (stride > 192 && i + 1 < nf) {  // wide rows: the rest of the next one
        const char* p = reinterpret_cast<const char*>(rows_.data() + static_cast<size_t>(fresh[i + 1]) * stride);
        for (size_t off = 192; off < stride; off += 64) __builtin_prefetch(p + off);
      }
      if ((check_alive && !alive(x)) || (level > 0 && levels_[x] < level)) continue;
      const float d = distance(q, x);
      if (res.size() < ef || d < lower) {
        cand.emplace_back(d, x);
        std::push_heap(cand.begin(), cand.end(), Nearer());
        if (admit == nullptr || admit->admits(ids_[x])) {
          res.emplace_back(d, x);
          std::push_heap(res.begin(), res.end(), Farther());
          if (res.size() > ef) {
            std::pop_heap(res.begin(), res.end(), Farther());
            res.pop_back();
          }
          lower = res.front().first;
        }
      }
    }
  }
  out->assign(res.begin(), res.end());
  std::sort(out->begin(), out->end());
}

// The HNSW heuristic: keep a candidate (nearest first) only if it is nearer to the base than to
// every candidate kept before it; at most m.
void HnswIndex::select_neighbors(std::vector<Pair>* cands, uint32_t m) const {
  std::sort(cands->begin(), cands->end());
  if (cands->size() <= m) return;
  std::vector<Pair> kept;
  kept.reserve(m);
  for (const Pair& c : *cands) {
    if (kept.size() >= m) break;
    bool good = true;
    for (const Pair& k : kept) {
      if (node_distance(c.second, k.second) < c.first) {
        good = false;
        break;
      }
    }
    if (good) kept.push_back(c);
  }
  cands->swap(kept);
}

void HnswIndex::set_links(uint32_t node, int level, const std::vector<Pair>& sel) {
  uint32_t* ln = links(node, level);
  const uint32_t n = std::min<uint32_t>(static_cast<uint32_t>(sel.size()), max_links(level));
  for (uint32_t i = 0; i < n; i++) ln[1 + i] = sel[i].second;
  ln[0] = n;
  mark_dirty(node);
}

void HnswIndex::add_back_link(uint32_t target, uint32_t node, int level, float d) {
  std::unique_lock<std::mutex> g(lock_of(target), std::defer_lock);
  if (concurrent_) g.lock();
  uint32_t* ln = links(target, level);
  const uint32_t n = ln[0];
  for (uint32_t i = 0; i < n; i++)
    if (ln[1 + i] == node) return;
  if (n < max_links(level)) {
    ln[1 + n] = node;
    ln[0] = n + 1;
    mark_dirty(target);
    return;
  }
  std::vector<Pair> c;
  c.reserve(n + 1);
  c.emplace_back(d, node);
  for (uint32_t i = 0; i < n; i++) {
    const uint32_t x = ln[1 + i];
    if (x < ids_.size() && alive(x)) c.emplace_back(node_distance(target, x), x);
  }
  select_neighbors(&c, max_links(level));
  set_links(target, level, c);
}

void HnswIndex::link_node(uint32_t node, size_t ef, bool locked) {
  const int level = levels_[node];
  std::unique_lock<std::mutex> top(global_, std::defer_lock);
  if (locked) top.lock();
  uint32_t ep = entry_;
  const int max_level = max_level_;
  if (locked && level <= max_level) top.unlock();  // keep the lock only to raise the top
  if (ep == kNone) {
    entry_ = node;
    max_level_ = level;
    return;
  }
  Query q;
  prepare_node(node, &q);
  if (level < max_level) ep = greedy(q, ep, max_level, level + 1);
  SearchCtx ctx;
  std::vector<Pair> found;
  for (int l = std::min(level, max_level); l >= 0; l--) {
    search_layer(q, ep, ef, l, nullptr, &ctx, &found);
    found.erase(std::remove_if(found.begin(), found.end(), [node](const Pair& p) { return p.second == node; }),
                found.end());
    if (found.empty()) continue;
    const uint32_t next = found.front().second;
    select_neighbors(&found, params_.m);
    {
      std::unique_lock<std::mutex> g(lock_of(node), std::defer_lock);
      if (concurrent_) g.lock();
      // Nodes linked on other threads may already have linked back to this one at this level
      // (they reached it through its upper levels): keep those links too.
      const uint32_t* have = links(node, l);
      if (have[0] > 0) {
        for (uint32_t i = 0; i < have[0]; i++) {
          const uint32_t x = have[1 + i];
          bool dup = false;
          for (const Pair& p : found) dup = dup || p.second == x;
          if (!dup && x < ids_.size() && alive(x)) found.emplace_back(node_distance(node, x), x);
        }
        if (found.size() > max_links(l)) {
          std::sort(found.begin(), found.end());
          select_neighbors(&found, max_links(l));
        }
      }
      set_links(node, l, found);
    }
    for (const Pair& p : found) add_back_link(p.second, node, l, p.first);
    ep = next;
  }
  if (level > max_level) {
    entry_ = node;
    max_level_ = level;
  }
}

void HnswIndex::insert(int64_t id, const void* row) {
  const int level = draw_level();
  const uint32_t node = alloc_node(id, level);
  set_row(node, row);
  link_node(node, params_.ef_construction, false);
}

void HnswIndex::insert_many(const int64_t* ids, const void* const* rows, size_t n, size_t threads) {
  if (n == 0) return;
  std::vector<uint32_t> nodes(n);
  for (size_t i = 0; i < n; i++) nodes[i] = alloc_node(ids[i], draw_level());
  const size_t parts = std::max<size_t>(1, std::min(threads, n / 64 + 1));
  run_parts(parts, [&](size_t p) {
    for (size_t i = p; i < n; i += parts) set_row(nodes[i], rows[i]);
  });
  size_t first = 0;
  if (entry_ == kNone || parts == 1) {
    for (; first < n && (parts == 1 || entry_ == kNone); first++) link_node(nodes[first], params_.ef_construction, false);
  }
  if (first >= n) return;
  concurrent_ = true;
  std::atomic<size_t> next{first};
  std::vector<std::exception_ptr> errors(parts);
  run_parts(parts, [&](size_t p) {  // run_parts' parts must not throw: carry it back
    try {
      for (size_t i = next++; i < n; i = next++) link_node(nodes[i], params_.ef_construction, true);
    } catch (...) {
      errors[p] = std::current_exception();
      next = n;
    }
  });
  concurrent_ = false;
  for (const auto& e : errors)
    if (e) std::rethrow_exception(e);
  link_orphans(nodes);
}

// Nodes linked at the same time do not see each other, and the heuristic may prune every link
// back to one of them: a node nothing links to on level 0 cannot be found. Each such new node
// gets a link from its nearest neighbour (replacing that neighbour's farthest link when full).
void HnswIndex::link_orphans(const std::vector<uint32_t>& fresh) {
  std::vector<uint8_t> linked(ids_.size(), 0);
  for (uint32_t x = 0; x < ids_.size(); x++) {
    if (!alive(x)) continue;
    const uint32_t* ln = links(x, 0);
    for (uint32_t i = 0; i < ln[0]; i++)
      if (ln[1 + i] < linked.size()) linked[ln[1 + i]] = 1;
  }
  for (uint32_t node : fresh) {
    if (linked[node] || node == entry_ || !alive(node)) continue;
    const uint32_t* own = links(node, 0);
    uint32_t best = kNone;
    float bd = std::numeric_limits<float>::infinity();
    for (uint32_t i = 0; i < own[0]; i++) {
      const uint32_t x = own[1 + i];
      if (x >= ids_.size() || !alive(x)) continue;
      const float d = node_distance(node, x);
      if (d < bd) {
        bd = d;
        best = x;
      }
    }
    if (best == kNone) continue;
    uint32_t* ln = links(best, 0);
    if (ln[0] < max_links(0)) {
      ln[1 + ln[0]] = node;
      ln[0]++;
    } else {
      uint32_t far = 0;
      float fd = -1;
      for (uint32_t i = 0; i < ln[0]; i++) {
        const float d = ln[1 + i] < ids_.size() && alive(ln[1 + i]) ? node_distance(best, ln[1 + i]) : std::numeric_limits<float>::infinity();
        if (d > fd) {
          fd = d;
          far = i;
        }
      }
      ln[1 + far] = node;
    }
    mark_dirty(best);
    linked[node] = 1;
  }
}

// ---- removal -----------------------------------------------------------------------------------
void HnswIndex::repair(uint32_t removed, uint32_t holder, int level) {
  uint32_t* ln = links(holder, level);
  std::vector<Pair> c;
  auto add = [&](uint32_t x) {
    if (x == holder || x == removed || x >= ids_.size() || !alive(x) || levels_[x] < level) return;
    for (const Pair& p : c)
      if (p.second == x) return;
    c.emplace_back(node_distance(holder, x), x);
  };
  for (uint32_t i = 0; i < ln[0]; i++) add(ln[1 + i]);
  const uint32_t* rl = links(removed, level);
  for (uint32_t i = 0; i < rl[0]; i++) add(rl[1 + i]);
  // The heuristic's picks, then the nearest of the rest up to the holder's former degree:
  // repeated repairs must not thin the graph out (recall would sink with every delete).
  const size_t keep = std::min<size_t>(max_links(level), ln[0]);
  std::vector<Pair> all = c;
  select_neighbors(&c, max_links(level));
  if (c.size() < keep) {
    std::sort(all.begin(), all.end());
    for (const Pair& p : all) {
      if (c.size() >= keep) break;
      bool taken = false;
      for (const Pair& q : c) taken = taken || q.second == p.second;
      if (!taken) c.push_back(p);
    }
  }
  set_links(holder, level, c);
}

bool HnswIndex::remove(int64_t id) {
  auto it = node_of_.find(id);
  if (it == node_of_.end()) return false;
  const uint32_t node = it->second;
  const int level = levels_[node];
  node_of_.erase(it);
  ids_[node] = kFreeId;
  live_--;
  mark_dirty(node);
  if (live_ == 0) {
    clear();
    return true;
  }
  if (entry_ == node) {
    // The new entry: the live neighbour on the highest level, else the highest live node.
    uint32_t best = kNone;
    for (int l = level; l >= 0 && best == kNone; l--) {
      const uint32_t* ln = links(node, l);
      for (uint32_t i = 0; i < ln[0]; i++) {
        const uint32_t x = ln[1 + i];
        if (x < ids_.size() && alive(x) && (best == kNone || levels_[x] > levels_[best])) best = x;
      }
    }
    for (uint32_t x = 0; x < ids_.size(); x++)
      if (alive(x) && (best == kNone || levels_[x] > levels_[best])) best = x;
    entry_ = best;
    max_level_ = levels_[best];
  }
  // The nodes that link to `node`: its own neighbours and what a search for its row finds, at
  // each of its levels (a node links to near nodes, which that search meets).
  Query q;
  prepare_node(node, &q);
  uint32_t ep = entry_;
  if (level < max_level_) ep = greedy(q, ep, max_level_, level + 1);
  SearchCtx ctx;
  std::vector<Pair> found;
  for (int l = std::min(level, max_level_); l >= 0; l--) {
    search_layer(q, ep, params_.ef_construction, l, nullptr, &ctx, &found);
    const uint32_t next = found.empty() ? kNone : found.front().second;
    const uint32_t* rl = links(node, l);
    for (uint32_t i = 0; i < rl[0]; i++) found.emplace_back(0.f, rl[1 + i]);
    std::sort(found.begin(), found.end(), [](const Pair& a, const Pair& b) { return a.second < b.second; });
    found.erase(std::unique(found.begin(), found.end(), [](const Pair& a, const Pair& b) { return a.second == b.second; }),
                found.end());
    for (const Pair& p : found) {
      const uint32_t y = p.second;
      if (y >= ids_.size() || !alive(y) || levels_[y] < l) continue;
      const uint32_t* yl = links(y, l);
      for (uint32_t i = 0; i < yl[0]; i++) {
        if (yl[1 + i] == node) {
          repair(node, y, l);
          break;
        }
      }
    }
    if (next != kNone) ep = next;
  }
  links(node, 0)[0] = 0;
  upper_[node].reset();
  levels_[node] = 0;
  free_.push_back(node);
  return true;
}

void HnswIndex::optimize() {
  std::vector<uint32_t> remap(ids_.size(), kNone);
  uint32_t n = 0;
  for (uint32_t x = 0; x < ids_.size(); x++)
    if (alive(x)) remap[x] = n++;
  const uint32_t s0 = 1 + 2 * params_.m;
  decltype(ids_) ids(n);
  decltype(levels_) levels(n);
  decltype(links0_) l0(static_cast<size_t>(n) * s0, 0);
  std::vector<std::unique_ptr<uint32_t[]>> upper(n);
  decltype(rows_) rows(static_cast<size_t>(n) * row_bytes_);
  decltype(meta_) meta(coded_ ? n : 0);
  for (uint32_t x = 0; x < ids_.size(); x++) {
    const uint32_t y = remap[x];
    if (y == kNone) continue;
    ids[y] = ids_[x];
    levels[y] = levels_[x];
    std::memcpy(rows.data() + static_cast<size_t>(y) * row_bytes_, rows_.data() + static_cast<size_t>(x) * row_bytes_,
                row_bytes_);
    if (coded_) meta[y] = meta_[x];
    if (levels_[x] > 0) upper[y].reset(new uint32_t[static_cast<size_t>(levels_[x]) * (1 + params_.m)]);
    for (int l = 0; l <= levels_[x]; l++) {
      const uint32_t* src = links(x, l);
      uint32_t* dst = l == 0 ? l0.data() + static_cast<size_t>(y) * s0 : upper[y].get() + (l - 1) * (1 + params_.m);
      uint32_t k = 0;
      for (uint32_t i = 0; i < src[0]; i++) {
        const uint32_t t = src[1 + i];
        if (t < remap.size() && remap[t] != kNone) dst[1 + k++] = remap[t];
      }
      dst[0] = k;
    }
  }
  ids_.swap(ids);
  levels_.swap(levels);
  links0_.swap(l0);
  upper_.swap(upper);
  rows_.swap(rows);
  meta_.swap(meta);
  free_.clear();
  node_of_.clear();
  for (uint32_t x = 0; x < n; x++) node_of_[ids_[x]] = x;
  entry_ = entry_ == kNone ? kNone : remap[entry_];
  dirty_.assign((blocks() + 63) / 64, 0);
  mark_all_dirty();
}

// ---- search ------------------------------------------------------------------------------------
bool HnswIndex::search(const void* query, size_t ef, const IdFilter* admit, std::vector<Candidate>* out) const {
  out->clear();
  Query q;
  if (!prepare(query, &q)) return false;
  if (entry_ == kNone || ef == 0) return true;
  const uint32_t ep = max_level_ > 0 ? greedy(q, entry_, max_level_, 1) : entry_;
  SearchCtx ctx;
  std::vector<Pair> found;
  search_layer(q, ep, ef, 0, admit, &ctx, &found);
  out->reserve(found.size());
  for (const Pair& p : found) out->push_back(Candidate{p.first, ids_[p.second]});
  return true;
}

}  // namespace vecsqlite
