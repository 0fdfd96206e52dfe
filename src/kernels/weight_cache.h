// Copies of PyTorch RNN weights in the formats our kernels read, converted only when the weights
// changed: oneDNN's RNN formats (the fused primitives) and bf16 (the products of decoding).
// Keyed on the tensors' identity and version counters (every in-place update, such as an
// optimizer step or a checkpoint load, bumps the version), so a stale copy is never used.
#pragma once

#include <ATen/core/Tensor.h>

#include <vector>

#include "kernels/rnn_primitives.h"

namespace s2s::kernels {

struct ConvertedWeights {
  // In the formats and data types of RnnPrimitives::weights_layer/_iter (bf16 for a bf16
  // primitive); bias ldgo, f32.
  at::Tensor layer, iter, bias;
};

// params: [w_ih, w_hh, b_ih, b_hh] per layer, for `prims.shape.layers` layers (a stack needs
// input == hidden past layer 0, so all layers' weights concatenate). Thread-safe.
ConvertedWeights converted_weights(const RnnPrimitives& prims, at::TensorList params);

// params as above, any number of layers, for products x W^T (kernels::matmul): per layer
// [w_ih, w_hh] in the products' precision (bf16 rounded to nearest even, or the f32 parameters)
// and packed, their transposes in the layout the products read directly. Thread-safe.
struct PackedWeights {
  std::vector<at::Tensor> plain, packed;
};
PackedWeights packed_weights(at::TensorList params, bool bf16);

// A first layer's input projection per vocabulary entry, [V, G*H] f32: embedding [V, I] times
// w_ih^T [I, G*H] plus b_ih, in f32 (as gemm_rnn_tokens' table). Thread-safe.
at::Tensor token_table(const at::Tensor& embedding, const at::Tensor& w_ih, const at::Tensor& b_ih);

}  // namespace s2s::kernels
