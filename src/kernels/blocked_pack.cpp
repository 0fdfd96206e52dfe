#include "kernels/blocked_pack.h"

#include <ATen/Parallel.h>

#include <cstring>

namespace s2s::kernels {
namespace {

// Element (k, n) of b as its 16 or 32 bits.
template <class Bits>
Bits element(const Bits* b, const Matrix& m, int64_t k, int64_t n) {
  return b[k * m.row_stride + n * m.col_stride];
}

// One unit row of one block: units (r, 0..63) of the block at (k0's block, n0), k0 the first
// matrix row this unit row reads. `full`: the block lies inside b (no zeros to write).
void unit_row(const Matrix& m, bool bf16, int64_t k0, int64_t n0, bool full, uint32_t* out) {
  constexpr int64_t C = BlockedLayout::kColumns;
  if (bf16) {
    const auto* b = static_cast<const uint16_t*>(m.data);
    if (full) {  // apart: gcc vectorizes this loop only without the bounds (10 us, not 71)
      for (int64_t j = 0; j < C; ++j) {
        out[j] = uint32_t{element(b, m, k0, n0 + j)} | uint32_t{element(b, m, k0 + 1, n0 + j)}
                                                           << 16;
      }
      return;
    }
    for (int64_t j = 0; j < C; ++j) {
      const int64_t n = n0 + j;
      const bool in = n < m.cols;
      const uint32_t low = in && k0 < m.rows ? element(b, m, k0, n) : 0;
      const uint32_t high = in && k0 + 1 < m.rows ? element(b, m, k0 + 1, n) : 0;
      out[j] = low | high << 16;
    }
    return;
  }
  const auto* b = static_cast<const uint32_t*>(m.data);  // f32 bits
  for (int64_t j = 0; j < C; ++j) {
    const int64_t n = n0 + j;
    out[j] = full || (n < m.cols && k0 < m.rows) ? element(b, m, k0, n) : 0;
  }
}

// A whole block of a b whose rows are contiguous (row_stride 1: a transposed weight, W^T), read
// a column at a time: a column's 16 units are one contiguous run (64 bytes), which unit_row would
// gather with a stride of a whole row each.
void column_block(const Matrix& m, bool bf16, int64_t k0, int64_t n0, uint32_t* block) {
  constexpr int64_t C = BlockedLayout::kColumns, U = BlockedLayout::kUnitRows;
  const char* b = static_cast<const char*>(m.data);
  const int64_t element = bf16 ? 2 : 4;
  for (int64_t j = 0; j < C; ++j) {
    uint32_t column[U];
    std::memcpy(column, b + ((n0 + j) * m.col_stride + k0) * element, sizeof(column));
    for (int64_t r = 0; r < U; ++r) block[r * C + j] = column[r];
  }
}

}  // namespace

void pack_blocked(const Matrix& b, void* out, bool bf16) {
  constexpr int64_t C = BlockedLayout::kColumns, U = BlockedLayout::kUnitRows;
  const int64_t kb = BlockedLayout::k_block(bf16), rows_per_unit = bf16 ? 2 : 1;
  const int64_t k_blocks = (b.rows + kb - 1) / kb, n_blocks = (b.cols + C - 1) / C;
  auto* units = static_cast<uint32_t*>(out);
  at::parallel_for(0, n_blocks, 1, [&](int64_t first, int64_t last) {
    for (int64_t nb = first; nb < last; ++nb) {
      for (int64_t k_block = 0; k_block < k_blocks; ++k_block) {
        const bool full = (nb + 1) * C <= b.cols && (k_block + 1) * kb <= b.rows;
        uint32_t* block = units + (nb * k_blocks + k_block) * U * C;
        if (full && b.row_stride == 1) {
          column_block(b, bf16, k_block * kb, nb * C, block);
          continue;
        }
        for (int64_t r = 0; r < U; ++r) {
          unit_row(b, bf16, k_block * kb + r * rows_per_unit, nb * C, full, block + r * C);
        }
      }
    }
  });
}

}  // namespace s2s::kernels
