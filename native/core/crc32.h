// CRC-32 (IEEE 802.3, reflected, the zlib one) of stored index blobs, so a damaged blob is
// detected instead of trusted.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vecsqlite {

uint32_t crc32_bytes(const uint8_t* p, size_t n);

}  // namespace vecsqlite
