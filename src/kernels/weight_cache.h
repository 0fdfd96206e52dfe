// oneDNN-format copies of PyTorch RNN weights, converted only when the weights changed.
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

}  // namespace s2s::kernels
