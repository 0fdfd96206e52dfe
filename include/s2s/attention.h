// Luong et al. (2015) global attention: at every decoder step t, score the decoder's top-layer
// output h_t against every encoder output h̄_s, softmax the scores over the source positions that
// are not padding, take the context c_t = Σ_s a_ts h̄_s, and return the attentional hidden state
// h̃_t = tanh(W_c [c_t; h_t]) that feeds the output layer. Scores:
//   dot      h_tᵀ h̄_s
//   general  h_tᵀ W_a h̄_s
//   concat   v_aᵀ tanh(W_a [h_t; h̄_s])  (W_a split into its query and context halves)
// No biases, as in the paper. Parameter names follow OpenNMT-py's GlobalAttention (linear_in,
// linear_query, linear_context, v, linear_out) so a PyTorch module can load the state_dict.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <string>

#include "s2s/cell.h"

namespace s2s {

// enum class Attention and parse_attention/to_string live in s2s/cell.h with the model's other
// typed choices, so that configuration code can name them without LibTorch.

// Source positions the decoder may attend to: [B, S] bool, true where s < src_lengths[b].
// Without lengths (undefined), every position whose id is not <pad>: exact for collated batches,
// whose padding is <pad> and whose tokens never are.
at::Tensor source_mask(const at::Tensor& src, const at::Tensor& src_lengths);

// The encoder outputs prepared once per source batch, batch-major so that every decoder step
// (or all of them at once) is a batched matrix product against them.
struct AttentionMemory {
  at::Tensor values;  // [B, S, H] encoder outputs
  at::Tensor keys;    // [B, S, H]: values (dot), W_a values (general), W_a's context half (concat)
  at::Tensor mask;    // [B, S] bool, true = may be attended to

  // The memory of batch rows `index` ([N] int64), in that order (beam search reorders by it).
  AttentionMemory select(const at::Tensor& index) const;
};

struct LuongAttentionOptions {
  LuongAttentionOptions(Attention score, int64_t hidden) : score_(score), hidden_(hidden) {}
  TORCH_ARG(Attention, score);
  TORCH_ARG(int64_t, hidden);
  // BF16: the layers' products in training round their operands to bf16 (kernels::linear).
  TORCH_ARG(Precision, precision) = Precision::F32;
};

class LuongAttentionImpl : public torch::nn::Cloneable<LuongAttentionImpl> {
 public:
  explicit LuongAttentionImpl(const LuongAttentionOptions& options);
  void reset() override;

  // memory [S, B, H] (time-major encoder outputs), mask [B, S].
  AttentionMemory prepare(const at::Tensor& memory, const at::Tensor& mask);

  // query [T, B, H] decoder outputs (T = 1 for one decoding step). Returns the attentional
  // states h̃ [T, B, H]; with `weights`, also stores the attention weights [B, T, S] there
  // (exactly 0 on masked positions).
  at::Tensor forward(const at::Tensor& query, const AttentionMemory& memory,
                     at::Tensor* weights = nullptr);
  // forward's h̃ for the positions `rows` (int64 [N], batch-major: b * T + t) only: [N, H].
  // Training's packed decoder asks for the positions its targets reach; W_c, the largest
  // product here, then skips the padding.
  at::Tensor forward_rows(const at::Tensor& query, const AttentionMemory& memory,
                          const at::Tensor& rows);

  LuongAttentionOptions options;
  torch::nn::Linear linear_in{nullptr};       // general: W_a
  torch::nn::Linear linear_query{nullptr};    // concat: W_a's query half
  torch::nn::Linear linear_context{nullptr};  // concat: W_a's context half
  torch::nn::Linear v{nullptr};               // concat: v_a
  torch::nn::Linear linear_out{nullptr};      // W_c, [H, 2H] over [c_t; h_t]
};

TORCH_MODULE(LuongAttention);

// The number of parameters LuongAttention(options) has, computed without allocating them.
int64_t parameter_count(const LuongAttentionOptions& options);

}  // namespace s2s
