// Dense layers for training on oneDNN's matmul (kernels::matmul): torch's linear and bmm with
// the same results to float rounding, as autograd functions. LibTorch 1.13 runs f32 linear on
// OpenBLAS's Haswell kernels, and bmm as one small GEMM per batch entry (with a tensor select
// each), which made the attention layer's few small products a tenth of a training step. Used
// where gradients are recorded and the tensors are f32 on the CPU; anything else (inference,
// other types) goes to at::linear and at::bmm as before.
// linear in Precision::BF16 (training with --precision bf16) rounds the products' operands to
// bf16 and accumulates in f32, as the recurrent kernels do: x and W forward, the output's
// gradient backward; the weights, their gradients and the outputs stay f32. A layer with fewer
// than 64 outputs stays f32 (converting its operands costs more than its product saves).
#pragma once

#include <ATen/ATen.h>

#include "s2s/cell.h"

namespace s2s::kernels {

// x [..., in] W^T [in, out] + bias [out] (bias may be undefined) -> [..., out].
at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                  Precision precision = Precision::F32);
// a [B, M, K] @ b [B, K, N] -> [B, M, N].
at::Tensor bmm(const at::Tensor& a, const at::Tensor& b);

}  // namespace s2s::kernels
