// The graph index alone (core/hnsw.h), without SQL: build time, recall@k and queries per second
// on one thread, against an exact top-k computed here by the block kernels.
//
//   build-native/bench_hnsw <base.f32> <queries.f32> <dim> [metric=l2|cosine] [m=16]
//                           [ef_construction=200] [threads=0 (all)] [queries=2000] [k=10]
// The files are raw little-endian float32 rows (bench/hnsw.js writes Fashion-MNIST this way).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "core/hnsw.h"
#include "core/topk.h"
#include "kernels/kernels.h"

using namespace vecsqlite;

namespace {
std::vector<float> read_f32(const char* path) {
  FILE* f = std::fopen(path, "rb");
  if (f == nullptr) {
    std::perror(path);
    std::exit(1);
  }
  std::fseek(f, 0, SEEK_END);
  const long n = std::ftell(f);
  std::fseek(f, 0, SEEK_SET);
  std::vector<float> v(static_cast<size_t>(n) / 4);
  if (std::fread(v.data(), 4, v.size(), f) != v.size()) std::exit(1);
  std::fclose(f);
  return v;
}
double now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: %s base.f32 queries.f32 dim [metric] [m] [efc] [threads] [queries] [k]\n", argv[0]);
    return 2;
  }
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  const size_t dim = std::strtoul(argv[3], nullptr, 10);
  const Metric metric = argc > 4 && std::string(argv[4]) == "cosine" ? Metric::cos : Metric::l2;
  HnswParams p;
  if (argc > 5) p.m = static_cast<uint32_t>(std::atoi(argv[5]));
  if (argc > 6) p.ef_construction = static_cast<uint32_t>(std::atoi(argv[6]));
  size_t threads = argc > 7 ? std::strtoul(argv[7], nullptr, 10) : 0;
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  const std::vector<float> base = read_f32(argv[1]), queries = read_f32(argv[2]);
  const size_t n = base.size() / dim;
  const size_t nq = std::min<size_t>(argc > 8 ? std::strtoul(argv[8], nullptr, 10) : 2000, queries.size() / dim);
  const size_t k = argc > 9 ? std::strtoul(argv[9], nullptr, 10) : 10;
  std::printf("%zu x %zu %s, m=%u ef_construction=%u, %zu threads, isa %s\n", n, dim, metric_name(metric), p.m,
              p.ef_construction, threads, isa_name(kernels().isa));

  // Exact answers.
  std::vector<std::vector<int64_t>> truth(nq);
  {
    std::vector<float> d(n);
    for (size_t q = 0; q < nq; q++) {
      block_distance(kernels(), metric, Dtype::f32, &queries[q * dim], base.data(), dim, n, d.data());
      TopK top(k);
      top.push_block(d.data(), nullptr, 0, n);
      std::vector<TopK::Item> items(top.size());
      items.resize(top.take_sorted(items.data()));
      for (const auto& it : items) truth[q].push_back(it.id);
    }
  }

  HnswIndex index(Dtype::f32, dim, metric, p);
  std::vector<int64_t> ids(n);
  std::vector<const void*> rows(n);
  for (size_t i = 0; i < n; i++) {
    ids[i] = static_cast<int64_t>(i);
    rows[i] = &base[i * dim];
  }
  const double t0 = now();
  index.insert_many(ids.data(), rows.data(), n, threads);
  const double build = now() - t0;
  std::printf("build %.2f s (%.0f rows/s), memory %.1f MiB\n", build, n / build, index.memory_bytes() / 1048576.0);

  std::vector<HnswIndex::Candidate> found;
  std::printf("%6s %8s %10s %10s\n", "ef", "recall", "qps", "us/query");
  for (size_t ef : {10, 16, 24, 32, 48, 64, 96, 128, 200}) {
    if (ef < k) continue;
    size_t hit = 0;
    const double t1 = now();
    for (size_t q = 0; q < nq; q++) {
      index.search(&queries[q * dim], ef, nullptr, &found);
      // Exact rescoring of the candidates, as the tables do.
      TopK top(k);
      for (const auto& c : found) {
        float d;
        block_distance(kernels(), metric, Dtype::f32, &queries[q * dim], &base[static_cast<size_t>(c.id) * dim], dim, 1, &d);
        top.push(d, c.id);
      }
      std::vector<TopK::Item> items(top.size());
      items.resize(top.take_sorted(items.data()));
      for (const auto& it : items)
        if (std::find(truth[q].begin(), truth[q].end(), it.id) != truth[q].end()) hit++;
    }
    const double dt = now() - t1;
    std::printf("%6zu %8.4f %10.0f %10.1f\n", ef, double(hit) / double(nq * k), nq / dt, dt / nq * 1e6);
  }
  return 0;
}
