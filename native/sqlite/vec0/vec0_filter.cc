// vec0 KNN row filters: the partition and metadata filters of a plan, the tuple of an exact
// partition lookup, and the rows of one partition that pass metadata filters and rowid IN.
// The predicates themselves are in vec0_metadata.h; this file applies them to the cache.
#include <algorithm>
#include <cmath>

#include "core/parallel.h"
#include "sqlite/vec0/vec0_int.h"

namespace vecsqlite {
namespace vec0 {

int build_filters(Table* t, const Plan& plan, std::vector<PartFilter>* pf, std::vector<MetaFilter>* mf) {
  for (const FilterArg& a : plan.filters) {
    if (a.partition) {
      PartFilter f;
      f.col = a.col;
      f.op = a.op;
      if (f.op == 'g') {
        sqlite3_value* x = nullptr;
        int rc;
        for (rc = sqlite3_vtab_in_first(a.value, &x); rc == SQLITE_OK && x != nullptr; rc = sqlite3_vtab_in_next(a.value, &x))
          f.in.push_back(value_of(x));
        if (rc != SQLITE_OK && rc != SQLITE_DONE) return rc;
      } else {
        f.v = value_of(a.value);
      }
      pf->push_back(std::move(f));
    } else {
      MetaFilter f;
      const int rc = make_meta_filter(t->cfg.mcols[static_cast<size_t>(a.col)], a.col, a.op, a.value, &f);
      if (rc != SQLITE_OK) return rc;
      mf->push_back(std::move(f));
    }
  }
  return SQLITE_OK;
}

// When the partition filters are exactly one `=` per partition key, the tuple they
// select (values normalised as stored: whole REALs as INTEGER on integer keys). 0: not that
// case; 1: *out is the tuple; 2: a value can equal no stored key (TEXT on an integer key, NULL).
int exact_tuple(Table* t, const std::vector<PartFilter>& pf, std::vector<Value>* out) {
  const size_t np = t->cfg.pcols.size();
  if (pf.size() != np) return 0;
  out->assign(np, Value());
  std::vector<bool> seen(np, false);
  for (const auto& f : pf) {
    const size_t c = static_cast<size_t>(f.col);
    if (f.op != 'a' || seen[c]) return 0;
    seen[c] = true;
    Value v = f.v;
    if (!t->cfg.pcols[c].text && v.type == SQLITE_FLOAT) {
      const double d = v.d;
      if (std::isfinite(d) && d == std::floor(d) && d >= -9223372036854775808.0 && d < 9223372036854775808.0) {
        v.type = SQLITE_INTEGER;
        v.i = static_cast<int64_t>(d);
      }
    }
    const bool storable = t->cfg.pcols[c].text ? v.type == SQLITE_TEXT : v.type == SQLITE_INTEGER;
    (*out)[c] = std::move(v);
    if (!storable) return 2;
  }
  return 1;
}

void allowed_rows(Table* t, const Group& g, size_t col, const std::vector<MetaFilter>& mf,
                  const std::unordered_set<int64_t>* in, RowFilter* out, size_t threads) {
  const Arena& arena = g.arenas[col];
  const size_t rows = arena.size();
  const int cs = t->cfg.chunk_size;
  out->kind = RowFilter::Kind::slots;
  out->bits.clear();
  out->slots.clear();
  auto add = [&](int64_t key) {
    size_t slot;
    if (arena.slot_of(key, &slot)) out->slots.push_back(slot);
  };
  if (in != nullptr) {  // rowid IN: cost proportional to the list, not to the table
    for (const int64_t key : *in) {
      const ChunkCols* cc = chunk_cols_of(t->cache(), pos_chunk(key));
      if (cc == nullptr || t->cache().groups[static_cast<size_t>(cc->group)].get() != &g) continue;
      const int off = pos_offset(key);
      bool ok = true;
      for (const auto& f : mf) ok = ok && meta_match(f, cc->meta[static_cast<size_t>(f.col)], off);
      if (ok) add(key);
    }
    return;
  }
  // Per chunk, a bitmap of its occupied slots (validity) that pass every filter (one columnar
  // pass per filter, 64 slots a word). Large groups split the chunks, then the slots, across
  // `threads` threads (the search's choice).
  std::vector<int64_t> chunks(g.chunks.begin(), g.chunks.end());
  const size_t nw = (static_cast<size_t>(cs) + 63) / 64;
  std::vector<uint64_t> masks(chunks.size() * nw, 0);
  std::vector<const ChunkCols*> ccs(chunks.size());
  std::vector<const std::vector<uint8_t>*> vals(chunks.size());
  for (size_t ci = 0; ci < chunks.size(); ci++) {  // map lookups here, not on the threads
    ccs[ci] = chunk_cols_of(t->cache(), chunks[ci]);
    auto vit = t->cache().validity.find(chunks[ci]);
    vals[ci] = vit == t->cache().validity.end() ? nullptr : &vit->second;
  }
  const size_t parts = std::max<size_t>(1, threads);
  std::vector<size_t> passing_of(parts, 0);
  const size_t cper = (chunks.size() + parts - 1) / parts;
  run_parts(parts, [&](size_t p) {
    for (size_t ci = p * cper; ci < chunks.size() && ci < (p + 1) * cper; ci++) {
      if (ccs[ci] == nullptr || vals[ci] == nullptr) continue;
      uint64_t* m = masks.data() + ci * nw;
      for (size_t w = 0; w < nw; w++) m[w] = validity_word(vals[ci]->data(), vals[ci]->size(), w);
      chunk_mask(mf, ccs[ci]->meta, cs, m);
      for (size_t w = 0; w < nw; w++) passing_of[p] += static_cast<size_t>(__builtin_popcountll(m[w]));
    }
  });
  size_t passing = 0;
  for (size_t x : passing_of) passing += x;
  if (passing * 25 < rows) {  // very selective: look the passing rows up by key (~70 ns each)
    for (size_t ci = 0; ci < chunks.size(); ci++)
      for (size_t w = 0; w < nw; w++)
        for (uint64_t bits = masks[ci * nw + w]; bits != 0; bits &= bits - 1)
          add(pos_key(chunks[ci], static_cast<int>(64 * w) + __builtin_ctzll(bits)));
    return;
  }
  // Otherwise one pass over the arena slots (~1 ns each; slots of one chunk are mostly adjacent
  // in the arena): a list when under a third pass, else a bitmap for the masked block scan.
  // Slot ranges are whole bitmap words, so the parts never write the same word.
  const bool dense = passing * 3 >= rows;
  if (dense) {
    out->kind = RowFilter::Kind::bitmap;
    out->bits.assign((rows + 63) / 64, 0);
  }
  std::unordered_map<int64_t, size_t> index;
  for (size_t ci = 0; ci < chunks.size(); ci++) index.emplace(chunks[ci], ci);
  const int64_t* ids = arena.ids();
  const size_t sper = ((rows + parts - 1) / parts + 63) / 64 * 64;
  std::vector<std::vector<size_t>> lists(parts);
  if (!dense) {  // room first: the threads must not allocate (or throw)
    out->slots.reserve(std::min(rows, sper));
    for (size_t p = 1; p < parts; p++) lists[p].reserve(std::min(rows - std::min(rows, p * sper), sper));
  }
  run_parts(parts, [&](size_t p) {
    std::vector<size_t>& list = p == 0 ? out->slots : lists[p];
    int64_t last_chunk = -1;
    const uint64_t* mask = nullptr;
    for (size_t s = p * sper; s < rows && s < (p + 1) * sper; s++) {
      const int64_t key = ids[s];
      const int64_t chunk = pos_chunk(key);
      if (chunk != last_chunk) {
        last_chunk = chunk;
        auto it = index.find(chunk);
        mask = it == index.end() ? nullptr : masks.data() + it->second * nw;
      }
      if (mask == nullptr) continue;
      const int off = pos_offset(key);
      if (!((mask[off / 64] >> (off % 64)) & 1)) continue;
      if (dense) out->bits[s / 64] |= uint64_t{1} << (s % 64);
      else list.push_back(s);
    }
  });
  for (size_t p = 1; p < parts; p++) out->slots.insert(out->slots.end(), lists[p].begin(), lists[p].end());
}

}  // namespace vec0
}  // namespace vecsqlite
