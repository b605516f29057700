// crc32.h: CRC-32 (IEEE 802.3, the zlib/PNG polynomial) for key checksums.
// Slicing-by-8 with tables built at compile time: about 10x faster than
// zlib's crc32_z on a 38-byte key prefix, which is on the verification hot
// path. Results are identical to zlib's (a unit test compares them).
#pragma once

#include <cstdint>
#include <string_view>

namespace keyward::core {

std::uint32_t Crc32(std::string_view data);

}  // namespace keyward::core
