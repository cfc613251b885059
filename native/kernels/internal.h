// Private to native/kernels: one table getter per ISA translation unit.
#pragma once

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

// Cosine distance from its parts; NaN when either magnitude is zero. Shared by every ISA
// (compiled once, at baseline ISA, in scalar.cc).
float cos_distance_from_parts(double dot, double aa, double bb);

}  // namespace vecsqlite
