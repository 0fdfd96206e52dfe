// out = a @ b (+ bias) (+ out, when accumulating) on oneDNN's matmul primitive: the same JIT
// kernels bench/'s ceiling measures, instead of the BLAS that ATen's f32 mm calls (OpenBLAS's
// Haswell kernels here). Raw memory, no tensors, so that it can be called inside parallel
// regions (gemm_rnn's wavefront). a [M,K] and b [K,N] may be transposed views (any 2-D
// strides); both f32, or both bf16 (products accumulate in f32). out [M,N] is contiguous f32;
// bias [N] f32 or nullptr. Primitives are cached per shape, strides, options and calling thread,
// so a training step's few dozen shapes are built once per thread and found without a lock.
#pragma once

#include <cstdint>

namespace s2s::kernels {

// Element (i, j) sits at data + i * row_stride + j * col_stride, counted in elements of the
// matrix's type (f32, or bf16 when `bf16`). a and b have the same batch; bias is per column.
// A batch of `batch` matrices starts every batch_stride elements (out's: rows * cols apart).
struct Matrix {
  const void* data;
  int64_t rows, cols, row_stride, col_stride;
  int64_t batch = 1, batch_stride = 0;
  Matrix t() const { return {data, cols, rows, col_stride, row_stride, batch, batch_stride}; }
};
void matmul(const Matrix& a, const Matrix& b, float* out, const float* bias, bool bf16,
            bool accumulate = false);

// A weight matrix b [K, N] also kept in the blocked layout oneDNN's matmul reads directly (in
// bf16 with pairs of K interleaved): given a plain b, every call first copies it into that
// layout, which costs as much as a 32-row product's arithmetic (measured: 32 x 256 by 256 x 768
// bf16, 40 -> 32 us). Pack once where the same b serves many products (a decoder's weights over
// every step). `plain` is the same matrix in any layout: products whose primitive wants
// another layout than the packed one (none seen on AVX-512; possible on other CPUs) read it.
struct PackedMatrix {
  Matrix plain;
  const void* packed;  // nullptr: not packed, the products read `plain`
};
// Bytes the packed form of a [K, N] matrix takes, and writing it (b in any layout, batch 1).
int64_t packed_bytes(int64_t k, int64_t n, bool bf16);
void pack(const Matrix& b, void* packed, bool bf16);
void matmul(const Matrix& a, const PackedMatrix& b, float* out, const float* bias, bool bf16,
            bool accumulate = false);

}  // namespace s2s::kernels
