// Native test of the graph index (core/hnsw.h) and of graph plans in the search entry
// (core/search.h), against brute force computed here:
//   - recall@10 >= 0.95 at ef = 64 on near-uniform random data (float32 l2 and cosine, traversed on
//     sketch codes; float32 l1 and int8 l2, traversed on the rows), built by insert() and by
//     insert_many() on several threads;
//   - after removing 30% of the rows (with repair) and inserting them again, recall stays within
//     0.01 of what it was; optimize() renumbers densely without losing recall;
//   - encode_meta / encode_block -> decode_meta / decode_block -> finish_load gives a graph whose
//     searches are identical; a flipped byte or a cut in a block or in the header is rejected
//     with an error; a missing row is reported by finish_load;
//   - an IdFilter is respected: only admitted ids come back, and min(k, admitted) of them;
//   - a graph plan with ef >= rows plus scanned sources equals the exact oracle.
// Ends with "N passed, M failed".
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "core/hnsw.h"
#include "core/search.h"
#include "kernels/kernels.h"
#include "check.h"

using namespace vecsqlite;

namespace {

uint64_t g_state = 777;
uint32_t rnd() {
  g_state = g_state * 6364136223846793005ULL + 1442695040888963407ULL;
  return static_cast<uint32_t>(g_state >> 33);
}
float rndf() { return static_cast<float>(rnd() % 20001) / 10000.0f - 1.0f; }

// A column of rows (float32 or int8) under ids that are neither dense nor ordered.
struct Column {
  Dtype dtype;
  size_t dim;
  size_t row_bytes;
  std::vector<int64_t> ids;
  std::vector<uint8_t> bytes;  // rows back to back, in ids order
  std::unordered_map<int64_t, size_t> index_of;
  const void* row(size_t i) const { return bytes.data() + i * row_bytes; }
  const void* row_of(int64_t id) const {
    auto it = index_of.find(id);
    return it == index_of.end() ? nullptr : row(it->second);
  }
};

// `n` rows around 40 random centres in [-1, 1]^dim, each element spread by up to kSpread around
// its centre: clusters so wide that they overlap and the data is close to uniform, the hard
// case for a graph (tight clusters give recall 1.0 and would hide a badly linked graph).
constexpr float kSpread = 3.0f;
Column make_column(Dtype t, size_t dim, size_t n) {
  Column c;
  c.dtype = t;
  c.dim = dim;
  c.row_bytes = dtype_row_bytes(t, dim);
  std::vector<float> centres(40 * dim);
  for (float& x : centres) x = rndf();
  c.bytes.resize(n * c.row_bytes);
  for (size_t i = 0; i < n; i++) {
    const int64_t id = 1000003 + static_cast<int64_t>(i) * 7919 % 1000000 * 4096 + static_cast<int64_t>(rnd() % 4096);
    c.ids.push_back(id);
    c.index_of[id] = i;
    const float* ctr = centres.data() + (rnd() % 40) * dim;
    for (size_t j = 0; j < dim; j++) {
      const float v = ctr[j] + kSpread * rndf();
      if (t == Dtype::f32) {
        reinterpret_cast<float*>(c.bytes.data() + i * c.row_bytes)[j] = v;
      } else {
        c.bytes[i * c.row_bytes + j] = static_cast<uint8_t>(static_cast<int8_t>(std::lround(std::max(-1.5f, std::min(1.5f, v)) * 80)));
      }
    }
  }
  return c;
}

std::vector<uint8_t> make_query(const Column& c) {
  std::vector<uint8_t> q(c.row_bytes);
  std::memcpy(q.data(), c.row(rnd() % c.ids.size()), c.row_bytes);
  // Move it off the stored row by about the spread of a cluster.
  for (size_t j = 0; j < c.dim; j++) {
    if (c.dtype == Dtype::f32) reinterpret_cast<float*>(q.data())[j] += kSpread * rndf();
    else q[j] = static_cast<uint8_t>(static_cast<int8_t>(std::max(-127, std::min(127, int(int8_t(q[j])) + int(rnd() % 129) - 64))));
  }
  return q;
}

// The exact k nearest among the ids `live` admits (ties by the smaller id).
std::vector<TopK::Item> brute(const Column& c, Metric m, const void* q, size_t k, const std::set<int64_t>& live,
                              const IdFilter* admit = nullptr) {
  std::vector<TopK::Item> all;
  for (size_t i = 0; i < c.ids.size(); i++) {
    if (live.count(c.ids[i]) == 0 || (admit != nullptr && !admit->admits(c.ids[i]))) continue;
    float d;
    block_distance(kernels(), m, c.dtype, q, c.row(i), c.dim, 1, &d);
    if (d == d) all.push_back(TopK::Item{d, c.ids[i]});
  }
  std::sort(all.begin(), all.end(), [](const TopK::Item& a, const TopK::Item& b) {
    return a.distance < b.distance || (a.distance == b.distance && a.id < b.id);
  });
  if (all.size() > k) all.resize(k);
  return all;
}

// The graph's k nearest through search() (candidates rescored exactly), no other sources.
std::vector<TopK::Item> graph_knn(const HnswIndex& g, const Column& c, Metric m, const void* q, size_t k, size_t ef,
                                  const IdFilter* admit = nullptr) {
  AnnPlan plan;
  plan.index = &g;
  plan.ef = ef;
  plan.admit = admit;
  plan.row_of = [&c](int64_t id) { return c.row_of(id); };
  SearchRequest req;
  req.metric = m;
  req.query = q;
  req.k = k;
  req.ann = &plan;
  std::vector<SearchSource> none;
  std::vector<TopK::Item> out;
  if (!search(kernels(), req, none, &out)) out.clear();
  return out;
}

double recall(const HnswIndex& g, const Column& c, Metric m, const std::set<int64_t>& live,
              const std::vector<std::vector<uint8_t>>& queries, size_t ef) {
  size_t hit = 0, want = 0;
  for (const auto& q : queries) {
    const auto truth = brute(c, m, q.data(), 10, live);
    const auto got = graph_knn(g, c, m, q.data(), 10, ef);
    std::set<int64_t> ids;
    for (const auto& it : got) ids.insert(it.id);
    for (const auto& it : truth) hit += ids.count(it.id);
    want += truth.size();
  }
  return want == 0 ? 1.0 : static_cast<double>(hit) / static_cast<double>(want);
}

class ModFilter : public IdFilter {
 public:
  explicit ModFilter(int64_t mod, int64_t rest) : mod_(mod), rest_(rest) {}
  bool admits(int64_t id) const override { return id % mod_ == rest_; }

 private:
  int64_t mod_, rest_;
};
class SetFilter : public IdFilter {
 public:
  std::set<int64_t> ids;
  bool admits(int64_t id) const override { return ids.count(id) != 0; }
};

struct Saved {
  std::string meta;
  std::vector<std::string> blocks;
};
Saved save(const HnswIndex& g) {
  Saved s;
  s.meta = g.encode_meta();
  for (size_t b = 0; b < g.blocks(); b++) s.blocks.push_back(g.encode_block(b));
  return s;
}
bool load(HnswIndex* g, const Saved& s, const Column& c, std::string* err) {
  if (!g->decode_meta(s.meta.data(), s.meta.size(), err)) return false;
  if (s.blocks.size() != g->blocks()) {
    *err = "block count";
    return false;
  }
  for (size_t b = 0; b < s.blocks.size(); b++)
    if (!g->decode_block(b, s.blocks[b].data(), s.blocks[b].size(), err)) return false;
  return g->finish_load([&c](int64_t id) { return c.row_of(id); }, err);
}

// Searches of two graphs agree candidate for candidate (traversal distance bits and ids).
void same_searches(const HnswIndex& a, const HnswIndex& b, const Column& c, const char* label) {
  size_t differ = 0;
  ModFilter odd(2, 1);
  for (int i = 0; i < 30; i++) {
    const auto q = make_query(c);
    std::vector<HnswIndex::Candidate> x, y;
    const IdFilter* f = i % 3 == 0 ? &odd : nullptr;
    const bool okx = a.search(q.data(), 64, f, &x), oky = b.search(q.data(), 64, f, &y);
    bool same = okx == oky && x.size() == y.size();
    for (size_t j = 0; same && j < x.size(); j++)
      same = x[j].id == y[j].id && std::memcmp(&x[j].distance, &y[j].distance, sizeof(float)) == 0;
    if (!same) differ++;
  }
  check(differ == 0, "%s: %zu of 30 searches differ after the round trip", label, differ);
  std::set<int64_t> ia, ib;
  a.each_id([&](int64_t id) { ia.insert(id); });
  b.each_id([&](int64_t id) { ib.insert(id); });
  check(ia == ib && a.size() == b.size() && a.capacity() == b.capacity(), "%s: same ids, size and capacity", label);
}

void test_persistence(const HnswIndex& g, const Column& c, Metric m, const char* label) {
  const HnswParams p = g.params();
  const Saved s = save(g);
  HnswIndex loaded(c.dtype, c.dim, m, p);
  std::string err;
  check(load(&loaded, s, c, &err), "%s: round trip loads (%s)", label, err.c_str());
  same_searches(g, loaded, c, label);

  // A flipped byte anywhere in a block (checksum included) is refused, naming the block.
  size_t refused = 0, tries = 0;
  for (int t = 0; t < 40; t++) {
    const size_t b = rnd() % s.blocks.size();
    std::string bad = s.blocks[b];
    const size_t at = rnd() % bad.size();
    bad[at] = static_cast<char>(bad[at] ^ (1u << (rnd() % 8)));
    HnswIndex h(c.dtype, c.dim, m, p);
    err.clear();
    check(h.decode_meta(s.meta.data(), s.meta.size(), &err), "%s: header decodes", label);
    tries++;
    if (!h.decode_block(b, bad.data(), bad.size(), &err) && err.find("block " + std::to_string(b)) != std::string::npos)
      refused++;
  }
  check(refused == tries, "%s: %zu of %zu damaged blocks refused with an error naming the block", label, refused, tries);
  {
    HnswIndex h(c.dtype, c.dim, m, p);
    h.decode_meta(s.meta.data(), s.meta.size(), &err);
    const std::string& blk = s.blocks[0];
    err.clear();
    check(!h.decode_block(0, blk.data(), blk.size() / 2, &err) && !err.empty(), "%s: a cut block is refused (%s)", label,
          err.c_str());
    err.clear();
    check(!h.decode_block(0, blk.data(), 3, &err) && !err.empty(), "%s: a 3-byte block is refused", label);
  }
  // A damaged header, and a header for another column.
  {
    std::string bad = s.meta;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x10);
    HnswIndex h(c.dtype, c.dim, m, p);
    err.clear();
    check(!h.decode_meta(bad.data(), bad.size(), &err) && !err.empty(), "%s: a damaged header is refused", label);
    HnswIndex other(c.dtype, c.dim + 1, m, p);
    err.clear();
    check(!other.decode_meta(s.meta.data(), s.meta.size(), &err) && err.find("does not match") != std::string::npos,
          "%s: a header of another dimension is refused (%s)", label, err.c_str());
  }
  // A row the owner no longer has.
  {
    HnswIndex h(c.dtype, c.dim, m, p);
    int64_t gone = 0;
    g.each_id([&](int64_t id) { gone = id; });
    bool ok = h.decode_meta(s.meta.data(), s.meta.size(), &err);
    for (size_t b = 0; ok && b < s.blocks.size(); b++) ok = h.decode_block(b, s.blocks[b].data(), s.blocks[b].size(), &err);
    err.clear();
    const bool loaded_ok = h.finish_load([&](int64_t id) { return id == gone ? nullptr : c.row_of(id); }, &err);
    check(ok && !loaded_ok && err.find("missing") != std::string::npos, "%s: a missing row is reported (%s)", label,
          err.c_str());
  }
}

void test_filters(const HnswIndex& g, const Column& c, Metric m, const std::set<int64_t>& live, const char* label) {
  for (int64_t mod : {3, 10, 50}) {
    const ModFilter f(mod, 1);
    size_t admitted = 0;
    for (int64_t id : live) admitted += f.admits(id) ? 1 : 0;
    size_t wrong = 0, short_ = 0, hit = 0, want = 0;
    for (int i = 0; i < 30; i++) {
      const auto q = make_query(c);
      std::vector<HnswIndex::Candidate> cands;
      g.search(q.data(), 64, &f, &cands);
      for (const auto& cd : cands) wrong += f.admits(cd.id) && live.count(cd.id) ? 0 : 1;
      const auto got = graph_knn(g, c, m, q.data(), 10, 64, &f);
      if (got.size() < std::min<size_t>(10, admitted)) short_++;
      const auto truth = brute(c, m, q.data(), 10, live, &f);
      std::set<int64_t> ids;
      for (const auto& it : got) ids.insert(it.id);
      for (const auto& it : truth) hit += ids.count(it.id);
      want += truth.size();
    }
    check(wrong == 0, "%s: filter 1 mod %lld: %zu candidates not admitted", label, static_cast<long long>(mod), wrong);
    check(short_ == 0, "%s: filter 1 mod %lld: %zu searches found fewer than min(10, %zu)", label,
          static_cast<long long>(mod), short_, admitted);
    const double r = want == 0 ? 1.0 : double(hit) / double(want);
    std::printf("  %s: filtered recall@10 (1 in %lld admitted) %.3f\n", label, static_cast<long long>(mod), r);
    check(r >= 0.9, "%s: filtered recall@10 (1 in %lld) %.3f >= 0.9", label, static_cast<long long>(mod), r);
  }
  // A handful of admitted ids anywhere in the graph: the search goes on until it met them all.
  SetFilter few;
  std::vector<int64_t> all(live.begin(), live.end());
  for (int i = 0; i < 5; i++) few.ids.insert(all[rnd() % all.size()]);
  const auto q = make_query(c);
  const auto got = graph_knn(g, c, m, q.data(), 10, 64, &few);
  std::set<int64_t> ids;
  for (const auto& it : got) ids.insert(it.id);
  check(ids == few.ids, "%s: a filter admitting %zu ids returns exactly them (%zu returned)", label, few.ids.size(), ids.size());
  SetFilter nothing;
  check(graph_knn(g, c, m, q.data(), 10, 64, &nothing).empty(), "%s: a filter admitting nothing returns nothing", label);
}

// A graph plan with ef >= the graph's rows (every node is a candidate) plus a scan of the rows
// the graph does not hold equals the exact oracle over both.
void test_plan_with_sources(const Column& c, Metric m, const char* label) {
  HnswIndex g(c.dtype, c.dim, m, HnswParams{8, 64});
  Arena rest(c.dtype, c.dim);
  std::set<int64_t> live;
  for (size_t i = 0; i < c.ids.size() && i < 1200; i++) {
    live.insert(c.ids[i]);
    if (i % 4 == 0) rest.upsert(c.ids[i], c.row(i));
    else g.insert(c.ids[i], c.row(i));
  }
  size_t bad = 0;
  for (int i = 0; i < 20; i++) {
    const auto q = make_query(c);
    AnnPlan plan;
    plan.index = &g;
    plan.ef = g.size();
    plan.row_of = [&c](int64_t id) { return c.row_of(id); };
    SearchRequest req;
    req.metric = m;
    req.query = q.data();
    req.k = 15;
    req.ann = &plan;
    std::vector<SearchSource> sources(1);
    sources[0].rows = rest.view();
    std::vector<TopK::Item> got;
    const bool ok = search(kernels(), req, sources, &got);
    const auto want = brute(c, m, q.data(), 15, live);
    bool same = ok && got.size() == want.size();
    for (size_t j = 0; same && j < got.size(); j++) same = got[j].id == want[j].id && got[j].distance == want[j].distance;
    if (!same) bad++;
  }
  check(bad == 0, "%s: graph (ef = rows) + scanned rows equal the oracle (%zu of 20 differ)", label, bad);
}

void test_column(const char* label, Dtype t, Metric m, size_t n, size_t dim, bool many) {
  Column c = make_column(t, dim, n);
  HnswIndex g(t, dim, m, HnswParams{16, 200});
  std::set<int64_t> live;
  if (many) {
    std::vector<const void*> rows;
    for (size_t i = 0; i < n; i++) rows.push_back(c.row(i));
    g.insert_many(c.ids.data(), rows.data(), n, 2);
  } else {
    for (size_t i = 0; i < n; i++) g.insert(c.ids[i], c.row(i));
  }
  for (int64_t id : c.ids) live.insert(id);
  check(g.size() == n && g.capacity() == n, "%s: %zu nodes", label, g.size());
  std::vector<std::vector<uint8_t>> queries;
  for (int i = 0; i < 100; i++) queries.push_back(make_query(c));
  const double r0 = recall(g, c, m, live, queries, 64);
  std::printf("  %s: recall@10 at ef=64 %.3f\n", label, r0);
  check(r0 >= 0.95, "%s: recall@10 %.3f >= 0.95", label, r0);

  // Remove 30%, then insert them again.
  std::vector<size_t> order(n);
  for (size_t i = 0; i < n; i++) order[i] = i;
  for (size_t i = n; i > 1; i--) std::swap(order[i - 1], order[rnd() % i]);
  const size_t cut = n * 3 / 10;
  size_t removed = 0;
  for (size_t i = 0; i < cut; i++) {
    removed += g.remove(c.ids[order[i]]) ? 1 : 0;
    live.erase(c.ids[order[i]]);
  }
  check(removed == cut && g.size() == n - cut, "%s: %zu of %zu removed", label, removed, cut);
  check(!g.remove(c.ids[order[0]]), "%s: removing an absent id is false", label);
  bool gone = true;
  for (size_t i = 0; i < cut; i++) gone = gone && !g.contains(c.ids[order[i]]);
  check(gone, "%s: removed ids are gone", label);
  const double r_removed = recall(g, c, m, live, queries, 64);
  std::printf("  %s: recall@10 after removing 30%% %.3f\n", label, r_removed);
  check(r_removed >= 0.95, "%s: recall@10 after removing 30%% %.3f >= 0.95", label, r_removed);
  size_t stray = 0;
  for (const auto& q : queries)
    for (const auto& it : graph_knn(g, c, m, q.data(), 10, 64)) stray += live.count(it.id) ? 0 : 1;
  check(stray == 0, "%s: %zu removed ids returned", label, stray);
  // The removed state survives a round trip too (free node numbers in the blocks).
  test_persistence(g, c, m, label);
  for (size_t i = 0; i < cut; i++) {
    g.insert(c.ids[order[i]], c.row(order[i]));
    live.insert(c.ids[order[i]]);
  }
  check(g.size() == n && g.capacity() == n, "%s: re-inserted into the freed numbers (capacity %zu)", label, g.capacity());
  const double r1 = recall(g, c, m, live, queries, 64);
  std::printf("  %s: recall@10 after re-inserting %.3f\n", label, r1);
  check(r1 >= r0 - 0.01, "%s: recall after remove + re-insert %.3f within 0.01 of %.3f", label, r1, r0);

  test_filters(g, c, m, live, label);

  // optimize(): dense numbering, same recall, every block dirty.
  for (size_t i = 0; i < cut / 2; i++) {
    g.remove(c.ids[order[i]]);
    live.erase(c.ids[order[i]]);
  }
  g.take_dirty_blocks();
  const double r2 = recall(g, c, m, live, queries, 64);
  g.optimize();
  check(g.capacity() == g.size() && g.size() == live.size(), "%s: optimize leaves %zu nodes in %zu numbers", label,
        g.size(), g.capacity());
  const std::vector<size_t> dirty = g.take_dirty_blocks();
  check(dirty.size() == g.blocks(), "%s: optimize marks all %zu blocks dirty (%zu)", label, g.blocks(), dirty.size());
  check(g.take_dirty_blocks().empty(), "%s: take_dirty_blocks empties the set", label);
  const double r3 = recall(g, c, m, live, queries, 64);
  std::printf("  %s: recall@10 before / after optimize %.3f / %.3f\n", label, r2, r3);
  check(r3 >= r2 - 0.01, "%s: recall after optimize %.3f within 0.01 of %.3f", label, r3, r2);
  test_persistence(g, c, m, label);
  // One insert dirties at least its own block.
  const size_t back = order[0];
  g.insert(c.ids[back], c.row(back));
  check(!g.take_dirty_blocks().empty(), "%s: an insert marks blocks dirty", label);

  test_plan_with_sources(c, m, label);
}

// Rows the coded traversal space cannot place: zero rows are refused by accepts(), and a zero
// query makes search() report that the graph cannot answer.
void test_unplaceable() {
  const size_t dim = 24;
  std::vector<float> zero(dim, 0.0f), one(dim, 0.5f);
  HnswIndex l2(Dtype::f32, dim, Metric::l2, HnswParams());
  HnswIndex l1(Dtype::f32, dim, Metric::l1, HnswParams());
  check(!l2.accepts(zero.data()) && l2.accepts(one.data()), "l2 graph: a zero row is refused, others accepted");
  check(l1.accepts(zero.data()), "l1 graph (rows as they are): a zero row is accepted");
  l2.insert(5, one.data());
  std::vector<HnswIndex::Candidate> out;
  check(!l2.search(zero.data(), 10, nullptr, &out), "l2 graph: a zero query cannot be placed");
  check(l2.search(one.data(), 10, nullptr, &out) && out.size() == 1 && out[0].id == 5, "l2 graph: one node found");
  check(l2.remove(5) && l2.size() == 0 && l2.search(one.data(), 10, nullptr, &out) && out.empty(),
        "l2 graph: empty after removing its only node");
}

}  // namespace

int main() {
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::printf("%s\n", err);
    return 1;
  }
  if (const char* seed = std::getenv("VECSQLITE_SEED")) g_state = std::strtoull(seed, nullptr, 10);
  std::printf("test_hnsw: seed %llu (VECSQLITE_SEED)\n", static_cast<unsigned long long>(g_state));
  test_unplaceable();
  test_column("f32 l2", Dtype::f32, Metric::l2, 4000, 32, false);
  test_column("f32 cosine (insert_many)", Dtype::f32, Metric::cos, 3000, 48, true);
  test_column("f32 l1", Dtype::f32, Metric::l1, 2000, 24, false);
  test_column("i8 l2", Dtype::i8, Metric::l2, 2000, 32, false);
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
