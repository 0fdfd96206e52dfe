#include "s2s/attention.h"

#include <ATen/ATen.h>

#include <limits>

#include "kernels/dense.h"
#include "s2s/error.h"
#include "s2s/vocab.h"

namespace s2s {

at::Tensor source_mask(const at::Tensor& src, const at::Tensor& src_lengths) {
  if (!src_lengths.defined()) return src.t().ne(kPadId);
  const at::Tensor positions = at::arange(src.size(0), src_lengths.options());
  return positions.unsqueeze(0).lt(src_lengths.unsqueeze(1));
}

AttentionMemory AttentionMemory::select(const at::Tensor& index) const {
  const at::Tensor v = values.index_select(0, index);
  // keys alias values for dot attention; keep them one tensor.
  const at::Tensor k = keys.is_same(values) ? v : keys.index_select(0, index);
  return {v, k, mask.index_select(0, index)};
}

LuongAttentionImpl::LuongAttentionImpl(const LuongAttentionOptions& options_) : options(options_) {
  reset();
}

void LuongAttentionImpl::reset() {
  const int64_t h = options.hidden();
  const auto linear = [](int64_t in, int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(false));
  };
  switch (options.score()) {
    case Attention::None:
      throw Error("LuongAttention needs a score function (dot, general or concat)");
    case Attention::Dot:
      break;
    case Attention::General:
      linear_in = register_module("linear_in", linear(h, h));
      break;
    case Attention::Concat:
      linear_query = register_module("linear_query", linear(h, h));
      linear_context = register_module("linear_context", linear(h, h));
      v = register_module("v", linear(h, 1));
      break;
  }
  linear_out = register_module("linear_out", linear(2 * h, h));
}

AttentionMemory LuongAttentionImpl::prepare(const at::Tensor& memory, const at::Tensor& mask) {
  AttentionMemory m;
  m.values = memory.transpose(0, 1);  // [B, S, H]
  m.mask = mask;
  switch (options.score()) {
    case Attention::General:
      m.keys = kernels::linear(m.values, linear_in->weight, linear_in->bias, options.precision());
      break;
    case Attention::Concat:
      m.keys = kernels::linear(m.values, linear_context->weight, linear_context->bias,
                               options.precision());
      break;
    default:
      m.keys = m.values;
  }
  return m;
}

namespace {

// [c_t; h_t] for every query position, [B, T, 2H]: what W_c turns into h̃.
at::Tensor context_and_query(LuongAttentionImpl& attention, const at::Tensor& query,
                             const AttentionMemory& memory, at::Tensor* weights) {
  const at::Tensor q = query.transpose(0, 1);  // [B, T, H]
  at::Tensor scores;                           // [B, T, S]
  if (attention.options.score() == Attention::Concat) {
    // v_aᵀ tanh(W_q h_t + W_k h̄_s) for every (t, s) pair at once: [B, T, S, H] -> [B, T, S].
    const at::Tensor q_proj =
        kernels::linear(q, attention.linear_query->weight, attention.linear_query->bias,
                        attention.options.precision())
            .unsqueeze(2);
    const at::Tensor joint = at::tanh(q_proj + memory.keys.unsqueeze(1));
    scores = attention.v->forward(joint).squeeze(-1);
  } else {
    scores = kernels::bmm(q, memory.keys.transpose(1, 2));
  }
  // -inf before the softmax: masked positions get exactly zero weight and zero gradient. Every
  // source has at least its <eos>, so no row is all -inf.
  scores = scores.masked_fill(memory.mask.logical_not().unsqueeze(1),
                              -std::numeric_limits<double>::infinity());
  const at::Tensor a = at::softmax(scores, -1);
  const at::Tensor context = kernels::bmm(a, memory.values);  // [B, T, H]
  if (weights) *weights = a;
  return at::cat({context, q}, -1);
}

}  // namespace

at::Tensor LuongAttentionImpl::forward(const at::Tensor& query, const AttentionMemory& memory,
                                       at::Tensor* weights) {
  const at::Tensor joint = context_and_query(*this, query, memory, weights);
  return at::tanh(kernels::linear(joint, linear_out->weight, linear_out->bias, options.precision()))
      .transpose(0, 1);
}

at::Tensor LuongAttentionImpl::forward_rows(const at::Tensor& query, const AttentionMemory& memory,
                                            const at::Tensor& rows) {
  const at::Tensor joint = context_and_query(*this, query, memory, nullptr);
  const at::Tensor picked = joint.reshape({-1, joint.size(2)}).index_select(0, rows);
  return at::tanh(
      kernels::linear(picked, linear_out->weight, linear_out->bias, options.precision()));
}

// The shapes registered in LuongAttentionImpl::reset.
int64_t parameter_count(const LuongAttentionOptions& options) {
  const int64_t h = options.hidden();
  const int64_t out = 2 * h * h;  // linear_out
  switch (options.score()) {
    case Attention::None:
    case Attention::Dot:
      return out;
    case Attention::General:
      return out + h * h;
    case Attention::Concat:
      return out + 2 * h * h + h;
  }
  return out;
}

}  // namespace s2s
