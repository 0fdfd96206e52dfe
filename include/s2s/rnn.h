// RnnStack: a stack of RNN/GRU/LSTM layers with PyTorch's parameter names, shapes, gate order
// and initialisation (weight_ih_l{k}, weight_hh_l{k}, bias_ih_l{k}, bias_hh_l{k}), so a
// state_dict moves between s2s and torch.nn.GRU/LSTM/RNN unchanged. Which code runs the
// recurrence (stock ATen or our fused oneDNN kernels) is chosen by RnnStackOptions::impl, and in
// which precision by RnnStackOptions::precision; both are decided in one place, run_rnn().
#pragma once

#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <tuple>
#include <vector>

#include "s2s/cell.h"

namespace s2s {

struct RnnStackOptions {
  RnnStackOptions(Cell cell, int64_t input_size, int64_t hidden_size)
      : cell_(cell), input_size_(input_size), hidden_size_(hidden_size) {}
  TORCH_ARG(Cell, cell);
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size);
  TORCH_ARG(int64_t, num_layers) = 1;
  // Dropout on the outputs of every layer but the last, in training mode (as PyTorch does).
  TORCH_ARG(double, dropout) = 0.0;
  TORCH_ARG(RnnImpl, impl) = RnnImpl::OneDNN;
  // BF16 (OneDNN only): bf16 matmuls inside the kernels; parameters and gradients stay f32.
  TORCH_ARG(Precision, precision) = Precision::F32;
  // A second stack of weights reads the input backwards (PyTorch's *_reverse parameters); each
  // layer's output is [forward; backward], 2 * hidden wide, and the final state has 2 * layers
  // rows (l0 forward, l0 backward, l1 forward, ...), as torch.nn.GRU(bidirectional=True).
  TORCH_ARG(bool, bidirectional) = false;
};

// Recurrent state, each [num_layers * directions, batch, hidden]. c is defined for LSTM only.
struct RnnState {
  at::Tensor h;
  at::Tensor c;
};

// The single dispatch point from an RnnStack to an implementation. Mirrors at::gru/at::lstm:
// input [T, B, I]; h0 (and c0 for LSTM) [L, B, H], undefined means zeros; params is the flat
// list [w_ih_l0, w_hh_l0, b_ih_l0, b_hh_l0, w_ih_l1, ...]. Returns (output [T, B, H], h_n, c_n),
// c_n undefined unless LSTM. RnnImpl::Auto runs resolve_impl's choice. Precision::BF16 needs
// our own kernels, OneDNN or Gemm (s2s::Error with Torch); it applies to f32 inputs (double inputs
// run on stock ATen in double, as with F32).
// lengths [B] (1..T), if given, make the input a packed sequence (kernels::gemm_rnn): column b
// runs its first lengths[b] steps, outputs zero past them, h_n/c_n its states after its last.
// Only Gemm on f32 runs them (s2s::Error kPackedNeedsGemm otherwise; RnnStack::runs_packed).
std::tuple<at::Tensor, at::Tensor, at::Tensor> run_rnn(RnnImpl impl, Precision precision, Cell cell,
                                                       const at::Tensor& input,
                                                       const at::Tensor& h0, const at::Tensor& c0,
                                                       at::TensorList params, int64_t num_layers,
                                                       double dropout, bool train,
                                                       const at::Tensor& lengths = {});

inline constexpr const char* kPackedNeedsGemm =
    "packed sequences (lengths) run on the gemm kernels only, in f32 or bf16";

// run_rnn with input = at::embedding(embedding, tokens) (tokens [T, B] ids, embedding [V, I]).
// When Gemm runs it (training, by default) and the vocabulary is no larger than the batch's
// T x B tokens, the first layer's input projection is computed once per vocabulary entry,
// embedding W_ih_l0^T + b_ih_l0, and each step gathers its rows (kernels::gemm_rnn_tokens): the
// same function, with the first layer's input products (3 of its 6 in training) on V rows
// instead of T x B. Otherwise run_rnn on the embedding. lengths as run_rnn's.
std::tuple<at::Tensor, at::Tensor, at::Tensor> run_rnn_tokens(
    RnnImpl impl, Precision precision, Cell cell, const at::Tensor& tokens,
    const at::Tensor& embedding, const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
    int64_t num_layers, double dropout, bool train, const at::Tensor& lengths = {});

class RnnStackImpl : public torch::nn::Cloneable<RnnStackImpl> {
 public:
  explicit RnnStackImpl(const RnnStackOptions& options);

  void reset() override;
  // PyTorch's init: every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden)).
  void reset_parameters();

  // input [T, B, input_size]; state from the encoder (or empty for zeros).
  // Returns the top layer's output [T, B, hidden * directions] and the final state.
  std::tuple<at::Tensor, RnnState> forward(const at::Tensor& input, const RnnState& state = {});
  // forward(at::embedding(embedding, tokens), state), through run_rnn_tokens: tokens [T, B] ids,
  // embedding [V, input_size] (the model's embedding weight, which gets its gradient).
  // lengths [B], only where runs_packed(): each column a packed sequence of its length (outputs
  // zero past it, the final state at it; bidirectional, the backward direction starts at it).
  std::tuple<at::Tensor, RnnState> forward_tokens(const at::Tensor& tokens,
                                                  const at::Tensor& embedding,
                                                  const RnnState& state = {},
                                                  const at::Tensor& lengths = {});
  // Whether a call now (this grad mode) runs on the gemm kernels in f32 or bf16, the one
  // implementation that takes lengths.
  bool runs_packed() const;

  // [w_ih_l0, w_hh_l0, b_ih_l0, b_hh_l0, w_ih_l1, ...]: the order at::gru expects.
  const std::vector<at::Tensor>& flat_weights() const { return flat_weights_; }

  RnnStackOptions options;

 private:
  // Layer by layer, each direction one run_rnn call (one fused primitive with OneDNN); the
  // backward direction runs on the time-reversed input, padding included, as PyTorch does
  // without packed sequences; with lengths, on each column reversed within its length.
  // With tokens defined, the first layer reads embedding[tokens] (run_rnn_tokens), not input.
  std::tuple<at::Tensor, RnnState> forward_bidirectional(const at::Tensor& input,
                                                         const RnnState& state,
                                                         const at::Tensor& tokens = {},
                                                         const at::Tensor& embedding = {},
                                                         const at::Tensor& lengths = {});

  std::vector<at::Tensor> flat_weights_;
};

TORCH_MODULE(RnnStack);

// The number of parameters RnnStack(options) has, computed without allocating them.
int64_t parameter_count(const RnnStackOptions& options);

}  // namespace s2s
