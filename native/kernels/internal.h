// Private to native/kernels: one table getter per ISA translation unit, plus tiny helpers.
//
// ODR rule for the per-ISA units (avx2.cc, avx512.cc, neon.cc): they are compiled with wider
// -m flags than the rest of the program, so anything they define with external linkage could
// be picked by the linker for a baseline caller and SIGILL on an older CPU. Therefore they
// include only <cstddef>/<cstdint>, the intrinsics header and this file; every helper here is
// `static inline` (internal linkage, one private copy per unit) and uses compiler builtins, not
// <cmath>; each unit exports exactly one function, its table getter.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kernels/kernels.h"

namespace vecsqlite {

const KernelTable* kernels_scalar_table();
#if defined(VECSQLITE_HAVE_AVX2)
const KernelTable* kernels_avx2_table();
#endif
#if defined(VECSQLITE_HAVE_AVX512)
const KernelTable* kernels_avx512_table();
#endif
#if defined(VECSQLITE_HAVE_NEON)
const KernelTable* kernels_neon_table();
#endif

// Cosine distance from its parts; NaN when either magnitude is zero. Compiled once, at baseline
// ISA, in scalar.cc (for callers outside native/kernels).
float cos_distance_from_parts(double dot, double aa, double bb);

// The same formula for the per-ISA units, inlined with internal linkage (see the ODR rule).
// IEEE sqrt and division are correctly rounded on every ISA, so all tables agree bit for bit
// given the same parts (the int8 cosine results are compared exactly in the tests).
static inline float cos_distance_inline(double dot, double aa, double bb) {
  if (aa == 0.0 || bb == 0.0) return __builtin_nanf("");
  return float(1.0 - dot / __builtin_sqrt(aa * bb));
}

}  // namespace vecsqlite
