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
dnnl::stream& cpu_stream();  // the calling thread's

struct RnnShape {
  Cell cell;
  int64_t layers;  // > 1 only for inference stacks whose input width equals hidden
  int64_t steps, batch, input, hidden;
  Precision precision = Precision::F32;
  bool operator==(const RnnShape& o) const {
    return cell == o.cell && layers == o.layers && steps == o.steps && batch == o.batch &&
           input == o.input && hidden == o.hidden && precision == o.precision;
  }
};

// What oneDNN 2.6 accepts for a bf16 RNN (probed with primitive descriptors on this CPU):
// src/dst layer and iter and the weights bf16; bias f32 (we keep it f32); the LSTM cell state
// f32 or bf16 (we keep it f32, it is the long-lived sum); and for backward every diff tensor
// f32 (bf16 diffs are rejected). So bf16 is the activations' and weights' type only.
dnnl::memory::data_type data_type(Precision precision);
// The torch dtype of the activations and hidden states a primitive of `precision` reads.
at::ScalarType scalar_type(Precision precision);
// `t` (f32) as the primitive's activation type: itself for F32, a bf16 copy for BF16.
at::Tensor to_precision(const at::Tensor& t, Precision precision);

// Gates in oneDNN's bias: LBR GRU has a fourth, the hidden candidate bias b_hn.
int64_t bias_gates(Cell cell);

// Primitives for inference (forward_inference) or training (forward_training + backward).
struct RnnPrimitives {
  RnnShape shape;
  dnnl::memory::desc weights_layer, weights_iter;  // formats the forward wants
  // Inference only: the scratchpad every execution must pass (DNNL_ARG_SCRATCHPAD), one buffer
  // per concurrent execution (see scratchpad_for).
  dnnl::memory::desc scratchpad;
  dnnl::primitive forward;
  // Training only:
  dnnl::memory::desc workspace;
  dnnl::memory::desc bwd_weights_layer, bwd_weights_iter;
  dnnl::memory::desc diff_weights_layer, diff_weights_iter;
  dnnl::primitive backward;
};

// Cached by shape; thread-safe. The returned object lives as long as the process. A bf16
// shape that oneDNN cannot build on this CPU (it needs AVX-512) throws s2s::Error.
const RnnPrimitives& inference_primitives(const RnnShape& shape);
const RnnPrimitives& training_primitives(const RnnShape& shape);

// A scratchpad buffer for one execution of an inference primitive.
at::Tensor scratchpad_for(const RnnPrimitives& p);

// Plain-layout memory descriptors used for activations, states and biases (bias: always f32).
dnnl::memory::desc layer_md(int64_t steps, int64_t batch, int64_t channels,
                            dnnl::memory::data_type type = dnnl::memory::data_type::f32);  // tnc
dnnl::memory::desc iter_md(int64_t layers, int64_t batch, int64_t hidden,
                           dnnl::memory::data_type type = dnnl::memory::data_type::f32);  // ldnc
dnnl::memory::desc bias_md(const RnnShape& s);                                            // ldgo
// PyTorch's weight_ih [G*H, I] (after gate reordering) is oneDNN's ldgoi, f32 (the master
// weights; reorder_to converts them to bf16 when the primitive wants bf16).
dnnl::memory::desc user_weights_md(int64_t layers, int64_t in, Cell cell, int64_t hidden);

// PyTorch weight [G*H, X] -> same layout with oneDNN's gate order (GRU: r,z,n -> z,r,n).
// Returns the tensor itself when the orders agree (LSTM, RNN). Also maps gradients back,
// since the permutation is its own inverse.
at::Tensor to_onednn_gate_order(Cell cell, const at::Tensor& w);
// oneDNN bias [Gb, H] from PyTorch's b_ih, b_hh.
at::Tensor onednn_bias(Cell cell, const at::Tensor& b_ih, const at::Tensor& b_hh);
// Splits oneDNN's diff bias [Gb, H] into PyTorch's (d b_ih, d b_hh).
std::pair<at::Tensor, at::Tensor> torch_bias_grads(Cell cell, const at::Tensor& diff_bias);

// A buffer holding a tensor's bytes in the oneDNN format `md`, reordered (and converted, when
// the data types differ) from `user` (ldgoi, plain). Returns `user_tensor` itself when the
// descriptors agree.
at::Tensor reorder_to(const at::Tensor& user_tensor, const dnnl::memory::desc& user,
                      const dnnl::memory::desc& md);
// The inverse: bytes in `md` -> a new plain f32 tensor of `sizes` in `user` format.
at::Tensor reorder_from(const at::Tensor& buffer, const dnnl::memory::desc& md,
                        const dnnl::memory::desc& user, at::IntArrayRef sizes);

inline dnnl::memory make_memory(const dnnl::memory::desc& md, const at::Tensor& t) {
  return dnnl::memory(md, cpu_engine(), t.defined() ? t.data_ptr() : nullptr);
}

}  // namespace s2s::kernels
