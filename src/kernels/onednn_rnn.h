// Fused oneDNN RNN kernels (GRU, LSTM, tanh RNN) behind an entry point that mirrors
// at::gru / at::lstm / at::rnn_tanh: time-major, unidirectional, with bias, PyTorch weight
// layouts. Gradients flow through torch autograd; everything oneDNN-specific stays in src/kernels.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>

#include "s2s/cell.h"

namespace s2s::kernels {

struct RnnResult {
  at::Tensor output;  // [T, B, H]: the last layer's hidden state at every step
  at::Tensor h_n;     // [L, B, H]
  at::Tensor c_n;     // [L, B, H] for LSTM, undefined otherwise
};

// Checks onednn_rnn's and gemm_rnn's arguments (described below); throws s2s::Error starting
// with "<kernel>: " and naming what does not fit.
void check_rnn_arguments(const char* kernel, Cell cell, const at::Tensor& input,
                         const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
                         int64_t num_layers);
// The same checks but the input tensor's own: a first layer's input of steps x batch x
// input_size (gemm_rnn_tokens, whose input is token ids).
void check_rnn_shapes(const char* kernel, Cell cell, int64_t steps, int64_t batch,
                      int64_t input_size, const at::Tensor& h0, const at::Tensor& c0,
                      at::TensorList params, int64_t num_layers);

// Whether autograd records an RNN call: gradients are on and the input, a state or a parameter
// requires them (an undefined state does not). The kernels keep a workspace for backward only
// then, and resolve_impl picks the training implementation.
bool records_gradients(const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                       at::TensorList params);

// input [T,B,I] f32; h0 [L,B,H]; c0 [L,B,H] (LSTM only, else undefined);
// params = [w_ih_l0, w_hh_l0, b_ih_l0, b_hh_l0, w_ih_l1, ...] exactly as torch::nn::GRU etc.
// (gate order r,z,n for GRU and i,f,g,o for LSTM). `train` enables inter-layer dropout, as in
// at::gru; gradients are recorded whenever grad mode is on and an input requires grad.
// precision BF16 runs the primitives on bf16 activations and weights (see Precision); inputs,
// outputs, parameters and gradients are f32 either way. Throws s2s::Error if this CPU has no
// oneDNN bf16 RNN.
RnnResult onednn_rnn(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                     at::TensorList params, int64_t num_layers, double dropout, bool train,
                     Precision precision = Precision::F32);

// Throws the s2s::Error that onednn_rnn would if `cell` has no oneDNN primitive in `precision`
// on this CPU, so that a model can fail when it is built rather than at its first batch.
void check_precision_supported(Cell cell, Precision precision);

}  // namespace s2s::kernels
