// The dataset-aware embedding format (dataset-vec-design.md §2): a raw array of IEEE-754
// float32 values, little-endian, no header; dimension = byte length / 4. An empty blob (or
// NULL) is "no vector". Big-endian hosts byte-swap on decode.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace vecsqlite {

enum class DecodeStatus { ok, empty, bad_length };

// Views `bytes` as float32 elements. On a little-endian host with a 4-byte aligned pointer the
// result aliases the input (no copy); otherwise the values are copied into `scratch`.
// `*out` and `*dim` are set on DecodeStatus::ok only.
DecodeStatus decode_f32_le(const void* bytes, size_t nbytes, std::vector<float>* scratch,
                           const float** out, size_t* dim);

}  // namespace vecsqlite
