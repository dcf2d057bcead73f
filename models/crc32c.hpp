// CRC-32C (Castagnoli), the checksum checkpoint files carry so that a flipped bit or a torn copy is caught
// on load instead of resuming silently with changed weights. Not cryptographic: it detects accidents, not
// tampering.
#pragma once
#include <cstdint>
#include <string_view>

namespace xgrad {

// The CRC-32C of `bytes` (iSCSI polynomial 0x1EDC6F41, reflected, init and final xor 0xFFFFFFFF):
// crc32c("123456789") == 0xE3069283. `crc` continues an earlier call's result over more bytes.
std::uint32_t crc32c(std::string_view bytes, std::uint32_t crc = 0);

}  // namespace xgrad
