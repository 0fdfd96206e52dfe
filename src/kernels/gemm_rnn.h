// RNN layers composed from matrix products and our own gate loops, the way CTranslate2 and
// Marian build theirs, instead of oneDNN's RNN primitives (whose GRU and f32 LSTM training run
// through a reference driver in oneDNN 2.6, issue 18). Per layer:
//   forward:  the input projections as one product per chunk of steps, then per step one small
//             product h_{t-1} W_hh^T with the gate nonlinearities applied right after it;
//   backward: per step the gate gradients and one small product for d h_{t-1}, then the weight
//             gradients (and the input's) as large products over all steps at once.
// On several threads the layers run side by side as a wavefront (gemm_rnn.cpp says how).
// Same entry point and equations as onednn_rnn (PyTorch's GRU, LSTM and tanh RNN, gate order
// r,z,n and i,f,g,o); f32, or bf16 products with f32 accumulation (precision BF16: inputs,
// outputs, parameters and gradients f32 either way, as onednn_rnn's).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/util/ArrayRef.h>

#include <cstdint>

#include "kernels/onednn_rnn.h"
#include "s2s/cell.h"

namespace s2s::kernels {

// input [T,B,I] f32; h0 [L,B,H]; c0 [L,B,H] (LSTM only, else undefined); params as at::gru's
// (w_ih, w_hh, b_ih, b_hh per layer). `train` enables inter-layer dropout (kernels::dropout, so
// the masks are onednn_rnn's for the same seed). Gradients are recorded whenever grad mode is on
// and an input requires grad. Throws s2s::Error on bad shapes or a non-f32 input.
// lengths [B] (integers in 1..T), if given, make it a packed sequence, as PyTorch's
// pack_padded_sequence: column b runs its first lengths[b] steps only, its outputs past them are
// zero and h_n (c_n) are its states after its last step; the padding costs no arithmetic (step t
// runs only the columns longer than t, sorted longest first inside). The same values and
// gradients, on those steps, as a run over the padding, whose columns never mix.
RnnResult gemm_rnn(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                   at::TensorList params, int64_t num_layers, double dropout, bool train,
                   Precision precision = Precision::F32, const at::Tensor& lengths = {});

// gemm_rnn with input = embedding[tokens], given the first layer's input projection per
// vocabulary entry instead: table [V, G*H] = embedding W_ih_l0^T + b_ih_l0, tokens [T, B] ids
// into it. Each step gathers its rows of the table where gemm_rnn multiplies, and backward sums
// the first layer's gate gradients into the table's rows where gemm_rnn runs two products (the
// input's gradient and W_ih_l0's): the first layer's three input products, done by the caller
// on V rows (the table and its backward) instead of T x B here. params as gemm_rnn's; W_ih_l0
// and b_ih_l0 are neither read nor given gradients here (they reach them through the table).
// The table stays f32 in bf16. Throws s2s::Error on bad shapes or a token outside the table.
// lengths as gemm_rnn's.
RnnResult gemm_rnn_tokens(Cell cell, const at::Tensor& tokens, const at::Tensor& table,
                          const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
                          int64_t num_layers, double dropout, bool train,
                          Precision precision = Precision::F32, const at::Tensor& lengths = {});

}  // namespace s2s::kernels
