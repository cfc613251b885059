// Native IdMap test: random inserts, erases, lookups and iteration against a
// std::unordered_map model, for the id patterns the caches see (sequential row ids, the
// descending position keys of chunks, strides of powers of two, two dense ranges a power of two
// apart, random 64-bit and negative ids); chain lengths stay short for all of them; reserve,
// clear, copy, move and the free list. Ends with "N passed, M failed".
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/idmap.h"
#include "check.h"

using vecsqlite::IdMap;

namespace {

uint64_t g_state = 99;
uint64_t rnd64() {
  g_state ^= g_state << 13;
  g_state ^= g_state >> 7;
  g_state ^= g_state << 17;
  return g_state;
}

// The map holds exactly the model's entries: by lookup, by count and by iteration.
template <typename V>
void same(const IdMap<V>& m, const std::unordered_map<int64_t, V>& model, const char* when) {
  check(m.size() == model.size(), "%s: size %zu vs %zu", when, m.size(), model.size());
  size_t bad = 0;
  for (const auto& kv : model) {
    auto it = m.find(kv.first);
    if (it == m.end() || it->first != kv.first || it->second != kv.second || m.count(kv.first) != 1) bad++;
  }
  check(bad == 0, "%s: %zu model entries missing or wrong", when, bad);
  size_t seen = 0;
  bad = 0;
  for (const auto& n : m) {
    seen++;
    auto it = model.find(n.first);
    if (it == model.end() || it->second != n.second) bad++;
  }
  check(bad == 0 && seen == model.size(), "%s: iteration saw %zu entries (%zu wrong), model has %zu", when, seen, bad,
        model.size());
}

void random_ops(const char* name, const std::function<int64_t(size_t)>& id_of, size_t universe, size_t ops) {
  IdMap<int64_t> m;
  std::unordered_map<int64_t, int64_t> model;
  size_t absent_bad = 0;
  for (size_t i = 0; i < ops; i++) {
    const int64_t id = id_of(rnd64() % universe);
    const uint64_t op = rnd64() % 10;
    if (op < 5) {
      const int64_t v = static_cast<int64_t>(rnd64());
      auto r = m.emplace(id, v);
      auto e = model.emplace(id, v);
      check(r.second == e.second, "%s: emplace(%lld) inserted %d, model %d", name, static_cast<long long>(id), r.second,
            e.second);
      check(r.first->second == e.first->second, "%s: emplace(%lld) value", name, static_cast<long long>(id));
    } else if (op < 7) {
      const int64_t v = static_cast<int64_t>(rnd64());
      m[id] = v;
      model[id] = v;
    } else if (op < 9) {
      check(m.erase(id) == model.erase(id), "%s: erase(%lld) count", name, static_cast<long long>(id));
    } else {
      auto it = m.find(id);
      auto mt = model.find(id);
      if ((it == m.end()) != (mt == model.end())) absent_bad++;
      else if (it != m.end() && it->second != mt->second) absent_bad++;
    }
  }
  check(absent_bad == 0, "%s: %zu lookups disagree", name, absent_bad);
  same(m, model, name);
  // Erase through iterators, every other entry of the model.
  size_t k = 0;
  std::vector<int64_t> gone;
  for (const auto& kv : model)
    if (k++ % 2 == 0) gone.push_back(kv.first);
  for (int64_t id : gone) {
    m.erase(m.find(id));
    model.erase(id);
  }
  same(m, model, name);
}

// Fills `ids` into a map; the longest chain must stay short.
void chains(const char* name, const std::vector<int64_t>& ids, bool reserve, size_t limit) {
  IdMap<size_t> m;
  if (reserve) m.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); i++) {
    m.emplace(ids[i], i);
    if ((i & (i + 1)) == 0 || i + 1 == ids.size()) {  // at every power of two, and at the end
      const size_t longest = m.longest_chain();
      if (longest > limit || i + 1 == ids.size()) {
        check(longest <= limit, "%s: longest chain %zu after %zu ids (limit %zu, %zu buckets)", name, longest, i + 1,
              limit, m.bucket_count());
        if (longest > limit) return;  // (a bad bucket function would make the rest quadratic)
      }
    }
  }
  check(m.size() == ids.size(), "%s: size %zu of %zu", name, m.size(), ids.size());
  size_t bad = 0;
  for (size_t i = 0; i < ids.size(); i++) {
    auto it = m.find(ids[i]);
    if (it == m.end() || it->second != i) bad++;
  }
  check(bad == 0, "%s: %zu lookups wrong", name, bad);
}

}  // namespace

int main() {
  const size_t n = 1u << 20;
  std::vector<int64_t> ids(n);
  for (size_t i = 0; i < n; i++) ids[i] = static_cast<int64_t>(i + 1);
  chains("1M sequential", ids, false, 4);
  for (size_t i = 0; i < n; i++) ids[i] = static_cast<int64_t>((i / 1024 + 1) * 65536 + 65535 - i % 1024);
  chains("1M position keys", ids, true, 8);
  for (size_t i = 0; i < n; i++) ids[i] = static_cast<int64_t>(i) * 1024;
  chains("1M stride 1024", ids, false, 12);
  for (size_t i = 0; i < n; i++) ids[i] = static_cast<int64_t>(i) << 21;
  chains("1M stride 2^21", ids, true, 12);
  for (size_t i = 0; i < n; i++) ids[i] = static_cast<int64_t>(i % (n / 2) + 1 + (i < n / 2 ? 0 : (int64_t{1} << 21)));
  chains("two ranges 2^21 apart", ids, false, 12);
  for (size_t i = 0; i < n; i++) ids[i] = static_cast<int64_t>(rnd64());
  chains("1M random", ids, false, 12);

  random_ops("sequential", [](size_t i) { return static_cast<int64_t>(i + 1); }, 5000, 60000);
  random_ops("position keys", [](size_t i) { return static_cast<int64_t>((i / 1024 + 1) * 65536 + 65535 - i % 1024); },
             6000, 60000);
  random_ops("stride 1024", [](size_t i) { return static_cast<int64_t>(i) * 1024; }, 4000, 60000);
  random_ops("stride 2^32", [](size_t i) { return static_cast<int64_t>(i) << 32; }, 4000, 60000);
  random_ops("negative", [](size_t i) { return -static_cast<int64_t>(i) * 7; }, 4000, 60000);
  random_ops("random 64-bit", [](size_t i) { return static_cast<int64_t>(i * 0x9E3779B97F4A7C15ull ^ (i << 40)); },
             4000, 60000);

  {  // free list reuse: erase then insert keeps the node array from growing
    IdMap<int64_t> m;
    for (int64_t i = 0; i < 1000; i++) m.emplace(i, i);
    const size_t bytes = m.memory_bytes();
    for (int round = 0; round < 10; round++) {
      for (int64_t i = 0; i < 500; i++) m.erase(i + 1000 * round);
      for (int64_t i = 0; i < 500; i++) m.emplace(i + 1000 * (round + 1), i);
    }
    check(m.size() == 1000, "free list: size %zu", m.size());
    // The node array keeps its size; only the free list itself (500 indices at most) is new.
    check(m.memory_bytes() <= bytes + 1024 * sizeof(uint32_t), "free list: memory %zu grew from %zu", m.memory_bytes(), bytes);
  }
  {  // copy, move, swap, clear
    IdMap<int64_t> a;
    std::unordered_map<int64_t, int64_t> model;
    for (int64_t i = 0; i < 3000; i++) {
      a.emplace(i * 3, -i);
      model.emplace(i * 3, -i);
    }
    IdMap<int64_t> b = a;
    same(b, model, "copy");
    IdMap<int64_t> c = std::move(a);
    same(c, model, "move");
    same(a, {}, "moved-from");
    a.emplace(5, 6);  // a moved-from map is usable
    check(a.size() == 1 && a.find(5)->second == 6, "moved-from map takes inserts");
    a = std::move(c);
    same(a, model, "move-assigned");
    c.clear();
    same(c, {}, "cleared");
    c.emplace(1, 2);
    check(c.count(1) == 1 && c.size() == 1, "cleared map takes inserts");
    b.reserve(100);  // never shrinks
    check(b.bucket_count() >= 3000, "reserve below size keeps %zu buckets", b.bucket_count());
    same(b, model, "after a smaller reserve");
  }
  std::printf("%d passed, %d failed\n", g_passed, g_failed);
  return g_failed == 0 ? 0 : 1;
}
