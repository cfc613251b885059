// Decoder for the dataset-aware embedding format; see codec.h.
#include "sqlite/codec.h"

#include <cstring>

namespace vecsqlite {

static bool host_is_little_endian() {
  const uint32_t one = 1;
  unsigned char b;
  std::memcpy(&b, &one, 1);
  return b == 1;
}

DecodeStatus decode_f32_le(const void* bytes, size_t nbytes, std::vector<float>* scratch,
                           const float** out, size_t* dim) {
  if (bytes == nullptr || nbytes == 0) return DecodeStatus::empty;
  if (nbytes % 4 != 0) return DecodeStatus::bad_length;
  const size_t n = nbytes / 4;
  const bool aligned = (reinterpret_cast<uintptr_t>(bytes) % alignof(float)) == 0;
  if (host_is_little_endian() && aligned) {
    *out = static_cast<const float*>(bytes);
  } else {
    scratch->resize(n);
    const unsigned char* p = static_cast<const unsigned char*>(bytes);
    for (size_t i = 0; i < n; i++) {
      uint32_t bits = uint32_t(p[4 * i]) | (uint32_t(p[4 * i + 1]) << 8) |
                      (uint32_t(p[4 * i + 2]) << 16) | (uint32_t(p[4 * i + 3]) << 24);
      std::memcpy(&(*scratch)[i], &bits, 4);
    }
    *out = scratch->data();
  }
  *dim = n;
  return DecodeStatus::ok;
}

}  // namespace vecsqlite
