// Kernel benchmark, per available ISA and d in {128, 384, 768, 1536}:
//   one-to-one  l2sq_f32, dot_f32, cos_f32 (cos_parts): ns/call, GB/s with bytes = both inputs,
//               x_scalar = speed-up over the scalar table; the inputs stay in L1 (compute bound).
//   block       l2sq_f32, cos_f32, l2sq_i8, hamming_u1 over a block far larger than the caches
//               (default 256 MiB, argv[1] overrides in MiB), scanned in 512-row slices as the
//               arenas do: ns/row, GB/s with bytes = the block, and `of_stream` = kernel GB/s
//               divided by a plain streaming read of the same bytes (1.00 = memory bound).
// Header: date, CPU model, active ISA, compiler. Then a table, and one JSON object per
// measurement on lines starting with '{' (grep '^{' for machine reading).
// Iterations are budgeted by time (each measurement best of 3 rounds), ~30 s in total here.
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#include <algorithm>
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

namespace {

volatile float g_sink;

// ---- streaming-read roof: sum every float once, the cheapest possible full pass ----
#if defined(__x86_64__)
__attribute__((target("avx512f"))) float stream_sum_avx512(const float* p, size_t n) {
  __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    s0 = _mm512_add_ps(s0, _mm512_loadu_ps(p + i));
    s1 = _mm512_add_ps(s1, _mm512_loadu_ps(p + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_loadu_ps(p + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_loadu_ps(p + i + 48));
  }
  float s = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
  for (; i < n; i++) s += p[i];
  return s;
}
__attribute__((target("avx2"))) float stream_sum_avx2(const float* p, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + i + 24));
  }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  float s = 0;
  for (float x : lanes) s += x;
  for (; i < n; i++) s += p[i];
  return s;
}
#endif

const char* g_stream_isa = "scalar";
float stream_sum(const float* p, size_t n) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    g_stream_isa = "avx512";
    return stream_sum_avx512(p, n);
  }
  if (__builtin_cpu_supports("avx2")) {
    g_stream_isa = "avx2";
    return stream_sum_avx2(p, n);
  }
#endif
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += p[i];
    s1 += p[i + 1];
    s2 += p[i + 2];
    s3 += p[i + 3];
  }
  for (; i < n; i++) s0 += p[i];
  return s0 + s1 + s2 + s3;
}

// Seconds per call: best of 3 rounds, each running fn until `budget` seconds have passed.
// The clock is read once per `batch` calls so that it does not weigh on short kernels.
template <typename F>
double time_per_call(F fn, double budget, size_t batch = 1) {
  double best = 1e30;
  for (int round = 0; round < 3; round++) {
    size_t calls = 0;
    const auto t0 = Clock::now();
    double elapsed = 0;
    do {
      for (size_t b = 0; b < batch; b++) fn();
      calls += batch;
      elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (elapsed < budget);
    best = std::min(best, elapsed / double(calls));
  }
  return best;
}

std::string cpu_model() {
  std::ifstream f("/proc/cpuinfo");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("model name", 0) == 0 || line.rfind("Model", 0) == 0) return line.substr(line.find(':') + 2);
  }
  return "unknown";
}

uint64_t g_rng = 12345;
float next_f32() {
  g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
  return float(int32_t(g_rng >> 33) % 2048) / 1024.0f;
}

void row(const char* isa, const char* kind, const char* kernel, const char* dtype, size_t d, double ns, const char* ns_unit,
         double gbs, double x_scalar, double of_stream) {
  char xs[16] = "-", os[16] = "-";
  if (x_scalar > 0) std::snprintf(xs, sizeof xs, "%.2f", x_scalar);
  if (of_stream > 0) std::snprintf(os, sizeof os, "%.2f", of_stream);
  std::printf("%-7s %-17s %-5s %5zu %11.1f %-7s %8.2f %8s %9s\n", isa, kernel, dtype, d, ns, ns_unit, gbs, xs, os);
  std::printf("{\"kind\":\"%s\",\"isa\":\"%s\",\"kernel\":\"%s\",\"dtype\":\"%s\",\"dims\":%zu,\"%s\":%.3f,"
              "\"gbs\":%.3f,\"x_scalar\":%.3f,\"of_stream\":%.3f}\n",
              kind, isa, kernel, dtype, d, kind[0] == 'b' ? "ns_per_row" : "ns_per_call", ns, gbs, x_scalar, of_stream);
}

}  // namespace

int main(int argc, char** argv) {
  const size_t block_mib = argc > 1 ? size_t(std::strtoul(argv[1], nullptr, 10)) : 256;
  const char* err = nullptr;
  if (!kernels_init(&err)) {
    std::fprintf(stderr, "%s\n", err);
    return 1;
  }
  char date[64];
  const std::time_t now = std::time(nullptr);
  std::strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
  std::printf("# vecsqlite kernel bench  date=%s  cpu=%s  active_isa=%s  compiler=%s  block=%zu MiB\n", date,
              cpu_model().c_str(), isa_name(kernels().isa), __VERSION__, block_mib);

  // The block: floats in [-1, 1); the int8 and bit blocks reinterpret the same bytes.
  const size_t block_bytes = block_mib << 20;
  const size_t nfloats = block_bytes / sizeof(float);
  std::vector<float> big(nfloats);
  for (size_t i = 0; i < nfloats; i++) big[i] = next_f32();

  const double stream_s = time_per_call([&] { g_sink = stream_sum(big.data(), nfloats); }, 0.4);
  const double stream_gbs = double(block_bytes) / stream_s / 1e9;
  std::printf("# streaming read (%s sum of floats over the block): %.2f GB/s\n", g_stream_isa, stream_gbs);
  std::printf("{\"kind\":\"stream\",\"isa\":\"%s\",\"bytes\":%zu,\"gbs\":%.3f}\n", g_stream_isa, block_bytes, stream_gbs);
  std::printf("%-7s %-17s %-5s %5s %11s %-7s %8s %8s %9s\n", "isa", "kernel", "dtype", "dims", "ns", "per", "GB/s",
              "x_scalar", "of_stream");

  const KernelTable* scalar = kernels_for(Isa::scalar);
  const size_t dims[] = {128, 384, 768, 1536};
  // Scalar timings, kept to report x_scalar: [dim][kernel].
  double scalar_ns[4][8] = {};

  std::vector<float> out(512);
  for (int ii = 0; ii < kIsaCount; ii++) {
    const KernelTable* t = kernels_for(Isa(ii));
    if (t == nullptr) {
      std::printf("# skipped %s (not compiled in or not supported by this CPU)\n", isa_name(Isa(ii)));
      continue;
    }
    const char* isa = isa_name(Isa(ii));
    for (size_t di = 0; di < 4; di++) {
      const size_t d = dims[di];
      std::vector<float> a(d), b(d);
      for (size_t i = 0; i < d; i++) {
        a[i] = next_f32();
        b[i] = next_f32();
      }
      // ---- one-to-one ----
      struct One {
        const char* name;
        double s;
      };
      const One ones[] = {
          {"l2sq_f32", time_per_call([&] { g_sink = t->l2sq_f32(a.data(), b.data(), d); }, 0.04, 256)},
          {"dot_f32", time_per_call([&] { g_sink = t->dot_f32(a.data(), b.data(), d); }, 0.04, 256)},
          {"cos_f32", time_per_call([&] { g_sink = float(t->cos_parts_f32(a.data(), b.data(), d).dot); }, 0.04, 256)},
      };
      for (int k = 0; k < 3; k++) {
        const double ns = ones[k].s * 1e9;
        if (t == scalar) scalar_ns[di][k] = ns;
        row(isa, "one", ones[k].name, "f32", d, ns, "call", double(2 * d * sizeof(float)) / ones[k].s / 1e9,
            scalar_ns[di][k] > 0 ? scalar_ns[di][k] / ns : 0, 0);
      }
      // ---- block scans over the whole block, in 512-row slices ----
      struct Blk {
        const char* name;
        const char* dtype;
        Metric metric;
        Dtype type;
        size_t row_bytes;
      };
      const Blk blks[] = {
          {"l2sq_f32_block", "f32", Metric::l2sq, Dtype::f32, d * sizeof(float)},
          {"cos_f32_block", "f32", Metric::cos, Dtype::f32, d * sizeof(float)},
          {"l2sq_i8_block", "i8", Metric::l2sq, Dtype::i8, d},
          {"hamming_u1_block", "u1", Metric::hamming, Dtype::u1, d / 8},
      };
      const unsigned char* bytes = reinterpret_cast<const unsigned char*>(big.data());
      for (int k = 0; k < 4; k++) {
        const Blk& bk = blks[k];
        const size_t rows = block_bytes / bk.row_bytes;
        const size_t dim_arg = bk.type == Dtype::u1 ? bk.row_bytes : d;
        const double s = time_per_call(
            [&] {
              for (size_t r = 0; r < rows; r += 512) {
                const size_t n = std::min<size_t>(512, rows - r);
                block_distance(*t, bk.metric, bk.type, a.data(), bytes + r * bk.row_bytes, dim_arg, n, out.data());
              }
              g_sink = out[0];
            },
            0.2);
        const double ns = s * 1e9 / double(rows);
        if (t == scalar) scalar_ns[di][3 + k] = ns;
        const double gbs = double(rows * bk.row_bytes) / s / 1e9;
        row(isa, "block", bk.name, bk.dtype, d, ns, "row", gbs, scalar_ns[di][3 + k] > 0 ? scalar_ns[di][3 + k] / ns : 0,
            gbs / stream_gbs);
      }
    }
  }
  return 0;
}
