// oneDNN primitive descriptors for one RNN layer (or a stack of equal-width layers), cached per
// shape, plus the conversions between PyTorch's weight layout and oneDNN's.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <oneapi/dnnl/dnnl.hpp>

#include "s2s/cell.h"

namespace s2s::kernels {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

struct RnnShape {
  Cell cell;
  int64_t layers;  // > 1 only for inference stacks whose input width equals hidden
  int64_t steps, batch, input, hidden;
  bool operator==(const RnnShape& o) const {
    return cell == o.cell && layers == o.layers && steps == o.steps && batch == o.batch &&
           input == o.input && hidden == o.hidden;
  }
};

// Gates in oneDNN's bias: LBR GRU has a fourth, the hidden candidate bias b_hn.
int64_t bias_gates(Cell cell);

// Primitives for inference (forward_inference) or training (forward_training + backward).
struct RnnPrimitives {
  RnnShape shape;
  dnnl::memory::desc weights_layer, weights_iter;  // formats the forward wants
  dnnl::primitive forward;
  // Training only:
  dnnl::memory::desc workspace;
  dnnl::memory::desc bwd_weights_layer, bwd_weights_iter;
  dnnl::memory::desc diff_weights_layer, diff_weights_iter;
  dnnl::primitive backward;
};

// Cached by shape; thread-safe. The returned object lives as long as the process.
const RnnPrimitives& inference_primitives(const RnnShape& shape);
const RnnPrimitives& training_primitives(const RnnShape& shape);

// Plain-layout memory descriptors used for activations, states and biases.
dnnl::memory::desc layer_md(int64_t steps, int64_t batch, int64_t channels);  // tnc
dnnl::memory::desc iter_md(int64_t layers, int64_t batch, int64_t hidden);    // ldnc
dnnl::memory::desc bias_md(const RnnShape& s);                                // ldgo
// PyTorch's weight_ih [G*H, I] (after gate reordering) is oneDNN's ldgoi.
dnnl::memory::desc user_weights_md(int64_t layers, int64_t in, Cell cell, int64_t hidden);

// PyTorch weight [G*H, X] -> same layout with oneDNN's gate order (GRU: r,z,n -> z,r,n).
// Returns the tensor itself when the orders agree (LSTM, RNN). Also maps gradients back,
// since the permutation is its own inverse.
at::Tensor to_onednn_gate_order(Cell cell, const at::Tensor& w);
// oneDNN bias [Gb, H] from PyTorch's b_ih, b_hh.
at::Tensor onednn_bias(Cell cell, const at::Tensor& b_ih, const at::Tensor& b_hh);
// Splits oneDNN's diff bias [Gb, H] into PyTorch's (d b_ih, d b_hh).
std::pair<at::Tensor, at::Tensor> torch_bias_grads(Cell cell, const at::Tensor& diff_bias);

// A buffer holding a tensor's bytes in the oneDNN format `md`, reordered from `user`
// (ldgoi, plain). Returns `user_tensor` itself when formats agree.
at::Tensor reorder_to(const at::Tensor& user_tensor, const dnnl::memory::desc& user,
                      const dnnl::memory::desc& md);
// The inverse: bytes in `md` -> a new plain f32 tensor of `sizes` in `user` format.
at::Tensor reorder_from(const at::Tensor& buffer, const dnnl::memory::desc& md,
                        const dnnl::memory::desc& user, at::IntArrayRef sizes);

inline dnnl::memory make_memory(const dnnl::memory::desc& md, const at::Tensor& t) {
  return dnnl::memory(md, cpu_engine(), t.defined() ? t.data_ptr() : nullptr);
}

}  // namespace s2s::kernels
