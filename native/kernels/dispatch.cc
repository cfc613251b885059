// Run-time selection of the kernel table.
//
//   token   compiled when            chosen when the CPU (and OS) has
//   scalar  always                   -
//   avx2    x86-64 builds            AVX2 and FMA
//   avx512  x86-64 builds            AVX-512 F, BW, DQ and VL
//   neon    arm64 builds             always (NEON is baseline on arm64)
//
// The choice is made once per process (std::call_once: worker threads share it): the best
// available table, or the one named by VECSQLITE_ISA. Naming an unknown token or a variant that
// is not available is an error, never a silent fallback. GCC's __builtin_cpu_supports checks
// that the OS saves the wider register state (XGETBV), not only CPUID.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "kernels/internal.h"

namespace vecsqlite {
namespace {

const char* const kIsaNames[kIsaCount] = {"scalar", "avx2", "avx512", "neon"};

// CPU (and OS) support per ISA, probed once: a function-local static is initialised
// thread-safely, so concurrent kernels_for() calls from worker threads do not race on
// __builtin_cpu_init().
unsigned probe_cpu() {
  unsigned caps = 1u << int(Isa::scalar);
#if defined(VECSQLITE_HAVE_AVX2) || defined(VECSQLITE_HAVE_AVX512)
  __builtin_cpu_init();
#endif
#if defined(VECSQLITE_HAVE_AVX2)
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) caps |= 1u << int(Isa::avx2);
#endif
#if defined(VECSQLITE_HAVE_AVX512)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl"))
    caps |= 1u << int(Isa::avx512);
#endif
#if defined(VECSQLITE_HAVE_NEON)
  caps |= 1u << int(Isa::neon);  // baseline on AArch64
#endif
  return caps;
}

bool cpu_has(Isa isa) {
  static const unsigned caps = probe_cpu();
  const int i = int(isa);
  return i >= 0 && i < kIsaCount && (caps >> i & 1u) != 0;
}

const KernelTable* compiled_table(Isa isa) {
  switch (isa) {
    case Isa::scalar: return kernels_scalar_table();
#if defined(VECSQLITE_HAVE_AVX2)
    case Isa::avx2: return kernels_avx2_table();
#endif
#if defined(VECSQLITE_HAVE_AVX512)
    case Isa::avx512: return kernels_avx512_table();
#endif
#if defined(VECSQLITE_HAVE_NEON)
    case Isa::neon: return kernels_neon_table();
#endif
    default: return nullptr;
  }
}

bool compiled_in(Isa isa) { return compiled_table(isa) != nullptr; }

std::once_flag g_once;
const KernelTable* g_active = nullptr;
char g_error[256];

void choose() {
  const char* env = std::getenv("VECSQLITE_ISA");
  if (env != nullptr && env[0] != '\0') {
    Isa want;
    if (!isa_from_name(env, &want)) {
      std::snprintf(g_error, sizeof g_error,
                    "vecsqlite: unknown VECSQLITE_ISA value '%.40s' (expected scalar, avx2, avx512 or neon)", env);
      return;
    }
    g_active = kernels_for(want);
    if (g_active == nullptr) {
      char avail[64] = "scalar";
      for (int i = 1; i < kIsaCount; i++) {
        if (kernels_for(Isa(i)) != nullptr) {
          std::strncat(avail, ", ", sizeof avail - std::strlen(avail) - 1);
          std::strncat(avail, kIsaNames[i], sizeof avail - std::strlen(avail) - 1);
        }
      }
      std::snprintf(g_error, sizeof g_error, "vecsqlite: VECSQLITE_ISA=%s is not available on this %s (available: %s)",
                    kIsaNames[int(want)], compiled_in(want) ? "CPU" : "build", avail);
    }
    return;
  }
  for (Isa isa : {Isa::avx512, Isa::avx2, Isa::neon, Isa::scalar}) {
    if ((g_active = kernels_for(isa)) != nullptr) return;
  }
}

}  // namespace

const char* isa_name(Isa isa) {
  const int i = int(isa);
  return i >= 0 && i < kIsaCount ? kIsaNames[i] : "unknown";
}

bool isa_from_name(const char* name, Isa* out) {
  for (int i = 0; i < kIsaCount; i++) {
    if (std::strcmp(name, kIsaNames[i]) == 0) {
      *out = Isa(i);
      return true;
    }
  }
  return false;
}

const char* dtype_name(Dtype t) {
  switch (t) {
    case Dtype::f32: return "float32";
    case Dtype::i8: return "int8";
    case Dtype::u1: return "bit";
  }
  return "unknown";
}

namespace {
const char* const kMetricNames[] = {"l2sq", "l2", "dot", "cosine", "l1", "hamming"};
}  // namespace

const char* metric_name(Metric m) {
  const int i = int(m);
  return i >= 0 && i < 6 ? kMetricNames[i] : "unknown";
}

bool metric_from_name(const char* name, Metric* out) {
  for (int i = 0; i < 6; i++) {
    if (std::strcmp(name, kMetricNames[i]) == 0) {
      *out = Metric(i);
      return true;
    }
  }
  return false;
}

bool metric_supports(Metric m, Dtype t) {
  switch (t) {
    case Dtype::f32: return m != Metric::hamming;
    case Dtype::i8: return m != Metric::hamming;
    case Dtype::u1: return m == Metric::hamming;
  }
  return false;
}

const KernelTable* kernels_for(Isa isa) {
  return compiled_in(isa) && cpu_has(isa) ? compiled_table(isa) : nullptr;
}

bool kernels_init(const char** err) {
  std::call_once(g_once, choose);
  if (g_active == nullptr && err != nullptr) *err = g_error;
  return g_active != nullptr;
}

const KernelTable& kernels() { return *g_active; }

bool block_distance(const KernelTable& t, Metric metric, Dtype dtype, const void* q, const void* base,
                    size_t dim, size_t count, float* out) {
  switch (dtype) {
    case Dtype::f32: {
      const float* fq = static_cast<const float*>(q);
      const float* fb = static_cast<const float*>(base);
      switch (metric) {
        case Metric::l2sq: t.l2sq_f32_block(fq, fb, dim, count, out); return true;
        case Metric::l2:
          t.l2sq_f32_block(fq, fb, dim, count, out);
          for (size_t i = 0; i < count; i++) out[i] = __builtin_sqrtf(out[i]);
          return true;
        case Metric::dot: t.dot_f32_block(fq, fb, dim, count, out); return true;
        case Metric::cos: t.cos_f32_block(fq, fb, dim, count, out); return true;
        case Metric::l1: t.l1_f32_block(fq, fb, dim, count, out); return true;
        default: return false;
      }
    }
    case Dtype::i8: {
      const int8_t* iq = static_cast<const int8_t*>(q);
      const int8_t* ib = static_cast<const int8_t*>(base);
      switch (metric) {
        case Metric::l2sq: t.l2sq_i8_block(iq, ib, dim, count, out); return true;
        case Metric::l2:
          t.l2sq_i8_block(iq, ib, dim, count, out);
          for (size_t i = 0; i < count; i++) out[i] = __builtin_sqrtf(out[i]);
          return true;
        case Metric::dot: t.dot_i8_block(iq, ib, dim, count, out); return true;
        case Metric::cos: t.cos_i8_block(iq, ib, dim, count, out); return true;
        case Metric::l1:
          // Exact integer sums (at most 8192 * 255 < 2^24, so the float is exact too); the
          // compiler vectorises this loop for the baseline ISA. No per-ISA kernel: vec0's
          // int8 l1 is rare and the scan is memory-bound.
          for (size_t r = 0; r < count; r++) {
            const int8_t* row = ib + r * dim;
            int32_t s = 0;
            for (size_t i = 0; i < dim; i++) {
              const int32_t d = static_cast<int32_t>(iq[i]) - static_cast<int32_t>(row[i]);
              s += d < 0 ? -d : d;
            }
            out[r] = static_cast<float>(s);
          }
          return true;
        default: return false;
      }
    }
    case Dtype::u1:
      if (metric != Metric::hamming) return false;
      t.hamming_u1_block(static_cast<const uint8_t*>(q), static_cast<const uint8_t*>(base), dim, count, out);
      return true;
  }
  return false;
}

}  // namespace vecsqlite
