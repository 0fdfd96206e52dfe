#include "s2s/rnn.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>
#include <string>
#include <vector>

#include "kernels/dense.h"
#include "kernels/dropout.h"
#include "kernels/gemm_rnn.h"
#include "kernels/onednn_rnn.h"
#include "s2s/error.h"

namespace s2s {

namespace {
using RnnOutputs = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

// Stock ATen: at::gru / at::lstm / at::rnn_tanh, without dropout.
RnnOutputs stock_rnn(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                     at::TensorList params, int64_t num_layers) {
  constexpr bool kHasBiases = true, kBidirectional = false, kBatchFirst = false;
  constexpr double kNoDropout = 0.0;
  constexpr bool kTrain = false;  // only switches dropout, which is off here
  switch (cell) {
    case Cell::GRU: {
      auto [y, hn] = at::gru(input, h0, params, kHasBiases, num_layers, kNoDropout, kTrain,
                             kBidirectional, kBatchFirst);
      return {y, hn, at::Tensor()};
    }
    case Cell::RNN: {
      auto [y, hn] = at::rnn_tanh(input, h0, params, kHasBiases, num_layers, kNoDropout, kTrain,
                                  kBidirectional, kBatchFirst);
      return {y, hn, at::Tensor()};
    }
    case Cell::LSTM:
      return at::lstm(input, {h0, c0}, params, kHasBiases, num_layers, kNoDropout, kTrain,
                      kBidirectional, kBatchFirst);
  }
  throw Error("unknown cell");
}

// What at::gru does with dropout (layer by layer, dropout on every output but the last), with
// kernels::dropout's masks, so that both implementations draw the same masks for a given seed.
RnnOutputs stock_rnn_with_dropout(Cell cell, const at::Tensor& input, const at::Tensor& h0,
                                  const at::Tensor& c0, at::TensorList params, int64_t num_layers,
                                  double dropout) {
  const bool lstm = cell == Cell::LSTM;
  std::vector<at::Tensor> h_n, c_n;
  at::Tensor x = input;
  for (int64_t l = 0; l < num_layers; ++l) {
    auto [y, h, c] = stock_rnn(cell, x, h0.narrow(0, l, 1), lstm ? c0.narrow(0, l, 1) : c0,
                               params.slice(4 * l, 4), 1);
    h_n.push_back(h);
    if (lstm) c_n.push_back(c);
    x = l + 1 < num_layers ? kernels::dropout(y, dropout, true) : y;
  }
  return {x, at::cat(h_n, 0), lstm ? at::cat(c_n, 0) : at::Tensor()};
}

// h0 and (LSTM) c0, zeros [L, B, H] where undefined.
std::pair<at::Tensor, at::Tensor> initial_state(Cell cell, const at::Tensor& h0,
                                                const at::Tensor& c0, int64_t num_layers,
                                                int64_t batch, int64_t hidden,
                                                const at::TensorOptions& options) {
  const auto zeros = [&] { return at::zeros({num_layers, batch, hidden}, options); };
  const at::Tensor h = h0.defined() ? h0 : zeros();
  const at::Tensor c = cell == Cell::LSTM ? (c0.defined() ? c0 : zeros()) : at::Tensor();
  return {h, c};
}

// Position t * B + b -> the position of step lengths[b] - 1 - t of column b, for t < lengths[b];
// the padding maps to itself. Its own inverse.
at::Tensor reversed_within_lengths(const at::Tensor& lengths, int64_t steps) {
  const at::Tensor len = lengths.to(at::kLong).contiguous();
  const int64_t batch = len.size(0);
  const int64_t* n = len.data_ptr<int64_t>();
  std::vector<int64_t> index(static_cast<size_t>(steps * batch));
  for (int64_t t = 0; t < steps; ++t) {
    for (int64_t b = 0; b < batch; ++b) {
      index[static_cast<size_t>(t * batch + b)] = (t < n[b] ? n[b] - 1 - t : t) * batch + b;
    }
  }
  return at::tensor(index, at::kLong);
}

}  // namespace

std::tuple<at::Tensor, at::Tensor, at::Tensor> run_rnn(RnnImpl impl, Precision precision, Cell cell,
                                                       const at::Tensor& input,
                                                       const at::Tensor& h0, const at::Tensor& c0,
                                                       at::TensorList params, int64_t num_layers,
                                                       double dropout, bool train,
                                                       const at::Tensor& lengths) {
  const auto [h, c] =
      initial_state(cell, h0, c0, num_layers, input.size(1), params[1].size(1), input.options());
  impl = resolve_impl(impl, cell, kernels::records_gradients(input, h, c, params), precision);
  if (precision == Precision::BF16 && impl == RnnImpl::Torch) throw Error(kBf16NeedsOwnKernels);
  if (lengths.defined() && (impl != RnnImpl::Gemm || input.scalar_type() != at::kFloat)) {
    throw Error(kPackedNeedsGemm);
  }
  // oneDNN's RNN primitives are f32 (and bf16) only; double precision (finite-difference
  // checks) runs on stock ATen.
  if (impl == RnnImpl::OneDNN && input.scalar_type() == at::kFloat) {
    auto r = kernels::onednn_rnn(cell, input, h, c, params, num_layers, dropout, train, precision);
    return {r.output, r.h_n, r.c_n};
  }
  if (impl == RnnImpl::Gemm && input.scalar_type() == at::kFloat) {
    auto r = kernels::gemm_rnn(cell, input, h, c, params, num_layers, dropout, train, precision,
                               lengths);
    return {r.output, r.h_n, r.c_n};
  }
  if (dropout > 0 && train && num_layers > 1) {
    return stock_rnn_with_dropout(cell, input, h, c, params, num_layers, dropout);
  }
  return stock_rnn(cell, input, h, c, params, num_layers);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> run_rnn_tokens(
    RnnImpl impl, Precision precision, Cell cell, const at::Tensor& tokens,
    const at::Tensor& embedding, const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
    int64_t num_layers, double dropout, bool train, const at::Tensor& lengths) {
  const auto [h, c] = initial_state(cell, h0, c0, num_layers, tokens.size(1), params[1].size(1),
                                    embedding.options());
  const bool record = kernels::records_gradients(embedding, h, c, params);
  // The table costs the input products of V rows (forward, and backward's two), the gather and
  // the scatter T x B rows of copies: a win while V is at most the batch's T x B tokens.
  const bool table = resolve_impl(impl, cell, record, precision) == RnnImpl::Gemm &&
                     embedding.scalar_type() == at::kFloat && embedding.size(0) <= tokens.numel();
  if (!table) {
    return run_rnn(impl, precision, cell, at::embedding(embedding, tokens), h, c, params,
                   num_layers, dropout, train, lengths);
  }
  // On oneDNN's matmul (kernels::linear), as the other products: ATen's addmm and its backward
  // ran on OpenBLAS at a small fraction of the ceiling, ~4% of G2P's training step.
  const at::Tensor projections = kernels::linear(embedding, params[0], params[2]);
  auto r = kernels::gemm_rnn_tokens(cell, tokens, projections, h, c, params, num_layers, dropout,
                                    train, precision, lengths);
  return {r.output, r.h_n, r.c_n};
}

RnnStackImpl::RnnStackImpl(const RnnStackOptions& options_) : options(options_) {
  reset();
}

void RnnStackImpl::reset() {
  if (options.num_layers() < 1 || options.hidden_size() < 1 || options.input_size() < 1) {
    throw Error("an RNN needs at least 1 layer and positive sizes");
  }
  if (options.dropout() < 0.0 || options.dropout() >= 1.0) {
    throw Error("dropout must be in [0, 1), got " + std::to_string(options.dropout()));
  }
  if (options.precision() == Precision::BF16) {
    if (options.impl() == RnnImpl::Torch) throw Error(kBf16NeedsOwnKernels);
    // Fail now, not at the first batch, on a CPU without oneDNN bf16 RNNs.
    kernels::check_precision_supported(options.cell(), Precision::BF16);
  }
  const int64_t rows = gate_count(options.cell()) * options.hidden_size();
  const int64_t directions = options.bidirectional() ? 2 : 1;
  flat_weights_.clear();
  for (int64_t k = 0; k < options.num_layers(); ++k) {
    const int64_t in = k == 0 ? options.input_size() : options.hidden_size() * directions;
    for (int64_t d = 0; d < directions; ++d) {
      const std::string l = "_l" + std::to_string(k) + (d == 1 ? "_reverse" : "");
      flat_weights_.push_back(register_parameter("weight_ih" + l, at::empty({rows, in})));
      flat_weights_.push_back(
          register_parameter("weight_hh" + l, at::empty({rows, options.hidden_size()})));
      flat_weights_.push_back(register_parameter("bias_ih" + l, at::empty({rows})));
      flat_weights_.push_back(register_parameter("bias_hh" + l, at::empty({rows})));
    }
  }
  reset_parameters();
}

void RnnStackImpl::reset_parameters() {
  const double bound = 1.0 / std::sqrt(static_cast<double>(options.hidden_size()));
  for (auto& w : flat_weights_) torch::nn::init::uniform_(w, -bound, bound);
}

std::tuple<at::Tensor, RnnState> RnnStackImpl::forward(const at::Tensor& input,
                                                       const RnnState& state) {
  if (options.bidirectional()) return forward_bidirectional(input, state);
  // PyTorch applies no dropout to a single layer (and warns); do the same silently.
  const double dropout = options.num_layers() > 1 ? options.dropout() : 0.0;
  auto [y, h, c] = run_rnn(options.impl(), options.precision(), options.cell(), input, state.h,
                           state.c, flat_weights_, options.num_layers(), dropout, is_training());
  return {y, RnnState{h, c}};
}

bool RnnStackImpl::runs_packed() const {
  const bool record = at::GradMode::is_enabled() && flat_weights_[0].requires_grad();
  return resolve_impl(options.impl(), options.cell(), record, options.precision()) ==
             RnnImpl::Gemm &&
         flat_weights_[0].scalar_type() == at::kFloat;
}

std::tuple<at::Tensor, RnnState> RnnStackImpl::forward_tokens(const at::Tensor& tokens,
                                                              const at::Tensor& embedding,
                                                              const RnnState& state,
                                                              const at::Tensor& lengths) {
  if (embedding.dim() != 2 || embedding.size(1) != options.input_size()) {
    throw Error("an RNN of input size " + std::to_string(options.input_size()) +
                " needs a [vocabulary, " + std::to_string(options.input_size()) + "] embedding");
  }
  if (tokens.dim() != 2) throw Error("RNN tokens must be [T, B] ids");
  if (options.bidirectional()) return forward_bidirectional({}, state, tokens, embedding, lengths);
  const double dropout = options.num_layers() > 1 ? options.dropout() : 0.0;
  auto [y, h, c] = run_rnn_tokens(options.impl(), options.precision(), options.cell(), tokens,
                                  embedding, state.h, state.c, flat_weights_, options.num_layers(),
                                  dropout, is_training(), lengths);
  return {y, RnnState{h, c}};
}

std::tuple<at::Tensor, RnnState> RnnStackImpl::forward_bidirectional(const at::Tensor& input,
                                                                     const RnnState& state,
                                                                     const at::Tensor& tokens,
                                                                     const at::Tensor& embedding,
                                                                     const at::Tensor& lengths) {
  const bool lstm = options.cell() == Cell::LSTM;
  const double dropout = options.num_layers() > 1 ? options.dropout() : 0.0;
  const auto row = [](const at::Tensor& t, int64_t i) {
    return t.defined() ? t.narrow(0, i, 1) : at::Tensor();
  };
  // The backward direction reads each column from its last token back: flipped in time, or
  // with lengths reversed within each column's length (padding stays where it is).
  const int64_t steps = tokens.defined() ? tokens.size(0) : input.size(0);
  const at::Tensor reversal =
      lengths.defined() ? reversed_within_lengths(lengths, steps) : at::Tensor();
  const auto reverse = [&](const at::Tensor& t) {
    if (!reversal.defined()) return t.flip(0);
    const int64_t batch = t.size(1);
    return t.reshape({steps * batch, -1}).index_select(0, reversal).view(t.sizes());
  };
  std::vector<at::Tensor> h_n, c_n;
  at::Tensor x = input;
  for (int64_t l = 0; l < options.num_layers(); ++l) {
    at::Tensor y[2];
    for (int64_t d = 0; d < 2; ++d) {
      const int64_t k = 2 * l + d;
      const at::TensorList params = at::TensorList(flat_weights_).slice(4 * k, 4);
      const at::Tensor h0 = row(state.h, k), c0 = lstm ? row(state.c, k) : at::Tensor();
      auto [out, h, c] =
          l == 0 && tokens.defined()
              ? run_rnn_tokens(options.impl(), options.precision(), options.cell(),
                               d == 1 ? reverse(tokens) : tokens, embedding, h0, c0, params, 1, 0.0,
                               is_training(), lengths)
              : run_rnn(options.impl(), options.precision(), options.cell(),
                        d == 1 ? reverse(x) : x, h0, c0, params, 1, 0.0, is_training(), lengths);
      y[d] = d == 1 ? reverse(out) : out;
      h_n.push_back(h);
      if (lstm) c_n.push_back(c);
    }
    x = at::cat({y[0], y[1]}, -1);
    if (l + 1 < options.num_layers()) x = kernels::dropout(x, dropout, is_training());
  }
  return {x, RnnState{at::cat(h_n, 0), lstm ? at::cat(c_n, 0) : at::Tensor()}};
}

// The shapes registered in RnnStackImpl::reset, per layer and direction.
int64_t parameter_count(const RnnStackOptions& options) {
  const int64_t rows = gate_count(options.cell()) * options.hidden_size();
  const int64_t directions = options.bidirectional() ? 2 : 1;
  int64_t count = 0;
  for (int64_t k = 0; k < options.num_layers(); ++k) {
    const int64_t in = k == 0 ? options.input_size() : options.hidden_size() * directions;
    count += directions * rows * (in + options.hidden_size() + 2);
  }
  return count;
}

}  // namespace s2s
