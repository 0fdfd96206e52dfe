// A weight matrix copied into the blocked layout oneDNN 2.6's brgemm matmul picks for it on
// AVX-512 (kernels::pack), written here instead of by oneDNN's reorder: that reorder runs a
// generic kernel, 60-77 us on one thread for a course weight (768 x 256 bf16), more than a third
// of the 64-row product it serves, and a bf16 training step packs 28 of them.
#pragma once

#include <cstdint>

#include "kernels/matmul.h"

namespace s2s::kernels {

// The layout, in oneDNN's terms "BA16a64b2a" (bf16) and "BA16a64b" (f32), for b [K, N]: blocks of
// `k_block` rows (32 bf16, 16 f32) by 64 columns, the column blocks outermost, each block
// contiguous; inside a block 16 rows of 64 units of 4 bytes, a unit being one f32 or, in bf16, the
// pair of rows 2i and 2i + 1 of one column (row 2i in the low half). Rows past K and columns past N
// are zeros up to the blocks' sizes.
struct BlockedLayout {
  static constexpr int64_t kColumns = 64, kUnitRows = 16;
  static int64_t k_block(bool bf16) { return bf16 ? 32 : 16; }
  static int64_t bytes(int64_t k, int64_t n, bool bf16) {
    const int64_t kb = k_block(bf16);
    return (k + kb - 1) / kb * kb * ((n + kColumns - 1) / kColumns * kColumns) * (bf16 ? 2 : 4);
  }
};

// b (any strides, batch 1) into `out`, BlockedLayout::bytes long, on the calling thread's ATen
// threads (column blocks split between them).
void pack_blocked(const Matrix& b, void* out, bool bf16);

}  // namespace s2s::kernels
