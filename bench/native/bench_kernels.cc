// Kernel benchmark: per ISA, ns/call and GB/s for one-to-one kernels (bytes = both inputs) and
// for block kernels over a block far larger than the caches (bytes = the block), plus a plain
// streaming read of the same bytes (the memory-bandwidth roof). Prints a table, then one JSON
// object per measurement (lines starting with '{').
#include <immintrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/kernels.h"

using namespace vecsqlite;
using Clock = std::chrono::steady_clock;

static volatile float g_sink;

#if defined(__x86_64__)
// The roof: read every byte once with 512-bit loads and four independent accumulators.
__attribute__((target("avx512f"))) static float stream_read_avx512(const float* p, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  for (size_t i = 0; i + 64 <= n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i));
    s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
}
__attribute__((target("avx2"))) static float stream_read_avx2(const float* p, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  for (size_t i = 0; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + i + 24));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
}
#endif

static float stream_read(const float* p, size_t n) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return stream_read_avx512(p, n);
  if (__builtin_cpu_supports("avx2")) return stream_read_avx2(p, n);
#endif
  float s = 0;
  for (size_t i = 0; i < n; i++) s += p[i];
  return s;
}

// Runs fn repeatedly for at least `budget` seconds; returns seconds per call (best of 3 rounds).
template <typename F>
static double time_per_call(F fn, double budget) {
  double best = 1e30;
  for (int round = 0; round < 3; round++) {
    size_t calls = 0;
    const auto t0 = Clock::now();
    double el = 0;
    do {
      fn();
      calls++;
      el = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (el < budget);
    best = std::min(best, el / double(calls));
  }
  return best;
}

static std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

int main(int argc, char** argv) {
  const size_t block_mib = argc > 1 ? size_t(std::atoi(argv[1])) : 512;
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::printf("# vecsqlite kernel bench  date=%s  cpu=%s  default_isa=%s  block=%zu MiB\n", date,
              cpu_model().c_str(), isa_name(kernels().isa), block_mib);

  // Big block: larger than every cache level.
  const size_t total_floats = block_mib * (1u << 20) / sizeof(float);
  std::vector<float> big(total_floats);
  for (size_t i = 0; i < total_floats; i++) big[i] = float(int(i % 977) - 488) / 512.0f;

  const double roof_s = time_per_call([&] { g_sink = stream_read(big.data(), total_floats); }, 0.5);
  const double roof_gbs = double(total_floats) * 4 / roof_s / 1e9;
  std::printf("streaming read roof: %.2f GB/s\n\n", roof_gbs);
  std::printf("{\"kind\":\"roof\",\"gbs\":%.3f}\n", roof_gbs);

  std::printf("%-8s %-18s %6s %12s %10s %10s\n", "isa", "kernel", "dims", "ns/call", "GB/s", "x_roof");
  for (int ii = 0; ii < kIsaCount; ii++) {
    const KernelTable* t = kernels_for(Isa(ii));
    if (t == nullptr) continue;
    const char* isa = isa_name(Isa(ii));
    for (size_t d : {128, 384, 768, 1536}) {
      std::vector<float> a(d), b(d);
      for (size_t i = 0; i < d; i++) {
        a[i] = float(i % 13) / 13.0f;
        b[i] = float(i % 7) / 7.0f;
      }
      struct One { const char* name; double s; };
      const One ones[] = {
          {"l2sq_f32", time_per_call([&] { g_sink = t->l2sq_f32(a.data(), b.data(), d); }, 0.05)},
          {"dot_f32", time_per_call([&] { g_sink = t->dot_f32(a.data(), b.data(), d); }, 0.05)},
          {"cos_f32", time_per_call([&] { g_sink = float(t->cos_parts_f32(a.data(), b.data(), d).dot); }, 0.05)},
      };
      for (const One& o : ones) {
        const double gbs = double(2 * d * 4) / o.s / 1e9;
        std::printf("%-8s %-18s %6zu %12.1f %10.2f %10s\n", isa, o.name, d, o.s * 1e9, gbs, "-");
        std::printf("{\"kind\":\"one\",\"isa\":\"%s\",\"kernel\":\"%s\",\"dims\":%zu,\"ns\":%.2f,\"gbs\":%.3f}\n", isa, o.name, d, o.s * 1e9, gbs);
      }
      // Block kernels over the big block, in cache-sized slices like the arenas scan.
      const size_t rows = total_floats / d;
      std::vector<float> out(512);
      struct Blk { const char* name; Metric m; };
      for (const Blk& bk : {Blk{"l2sq_f32_block", Metric::l2sq}, Blk{"cos_f32_block", Metric::cos}}) {
        const double s = time_per_call([&] {
          for (size_t r = 0; r < rows; r += 512) {
            const size_t n = rows - r < 512 ? rows - r : 512;
            block_distance(*t, bk.m, Dtype::f32, a.data(), big.data() + r * d, d, n, out.data());
          }
          g_sink = out[0];
        }, 0.3);
        const double gbs = double(rows * d * 4) / s / 1e9;
        std::printf("%-8s %-18s %6zu %12.1f %10.2f %10.2f\n", isa, bk.name, d, s * 1e9 / double(rows), gbs, roof_gbs / gbs);
        std::printf("{\"kind\":\"block\",\"isa\":\"%s\",\"kernel\":\"%s\",\"dims\":%zu,\"ns_per_row\":%.2f,\"gbs\":%.3f,\"x_roof\":%.3f}\n", isa, bk.name, d, s * 1e9 / double(rows), gbs, roof_gbs / gbs);
      }
    }
    // int8 and bit blocks at d = 768 (bytes per row: 768 and 96).
    {
      const int8_t* base = reinterpret_cast<const int8_t*>(big.data());
      const size_t bytes = total_floats * 4;
      std::vector<int8_t> q(768, 3);
      std::vector<float> out(512);
      const size_t rows = bytes / 768;
      const double s = time_per_call([&] {
        for (size_t r = 0; r < rows; r += 512) {
          const size_t n = rows - r < 512 ? rows - r : 512;
          t->l2sq_i8_block(q.data(), base + r * 768, 768, n, out.data());
        }
        g_sink = out[0];
      }, 0.3);
      std::printf("%-8s %-18s %6d %12.1f %10.2f %10.2f\n", isa, "l2sq_i8_block", 768, s * 1e9 / double(rows), double(bytes) / s / 1e9, roof_gbs / (double(bytes) / s / 1e9));
      std::printf("{\"kind\":\"block\",\"isa\":\"%s\",\"kernel\":\"l2sq_i8_block\",\"dims\":768,\"gbs\":%.3f}\n", isa, double(bytes) / s / 1e9);
      const size_t brows = bytes / 96;
      const double sb = time_per_call([&] {
        for (size_t r = 0; r < brows; r += 512) {
          const size_t n = brows - r < 512 ? brows - r : 512;
          t->hamming_u1_block(reinterpret_cast<const uint8_t*>(q.data()), reinterpret_cast<const uint8_t*>(base) + r * 96, 96, n, out.data());
        }
        g_sink = out[0];
      }, 0.3);
      std::printf("%-8s %-18s %6d %12.1f %10.2f %10.2f\n", isa, "hamming_u1_block", 768, sb * 1e9 / double(brows), double(bytes) / sb / 1e9, roof_gbs / (double(bytes) / sb / 1e9));
      std::printf("{\"kind\":\"block\",\"isa\":\"%s\",\"kernel\":\"hamming_u1_block\",\"dims\":768,\"gbs\":%.3f}\n", isa, double(bytes) / sb / 1e9);
    }
  }
  return 0;
}
