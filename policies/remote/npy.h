// The .npy file format (numpy's np.save / np.load): a magic string, a version,
// a Python-literal header dict {'descr', 'fortran_order', 'shape'} padded to a
// 64-byte boundary, then the raw element bytes. GR00T's inference service
// carries every array as the bytes of one .npy file.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "policies/openpi_codec.h"

namespace policies::remote {

// Writes `array` as a version 1.0 .npy file into `out` (cleared first; capacity reused).
// Throws openpi::CodecError if the dtype is refused or the data size does not match.
void encode_npy(const openpi::NdArray& array, std::vector<uint8_t>& out);

// Reads a .npy file (versions 1.0, 2.0 and 3.0; C order only; the dtypes of
// openpi::parse_dtype). Throws openpi::CodecError naming the problem: bad magic,
// unknown version, malformed header, Fortran order, refused dtype, size mismatch.
openpi::NdArray decode_npy(std::span<const uint8_t> bytes);

}  // namespace policies::remote
