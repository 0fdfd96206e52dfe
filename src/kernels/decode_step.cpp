#include "kernels/decode_step.h"

#include <ATen/ATen.h>

#include <string>
#include <unordered_map>

#include "kernels/rnn_primitives.h"
#include "kernels/weight_cache.h"
#include "s2s/error.h"

namespace s2s::kernels {

using dnnl::memory;

// Layers run as few primitives as oneDNN allows: a stacked primitive needs equal input and
// hidden widths, so layer 0 runs alone when the input is narrower or wider. In bf16 every
// buffer the primitives touch is bf16 (except the f32 LSTM cell state), and the f32 input and
// output are copied across once per step: B x H values, noise next to the layers' matmuls.
namespace {

struct OneDnnSteps final : DecodeStep::Impl {
  OneDnnSteps(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
              Precision precision, const at::Tensor& embedding);
  void set_state(const at::Tensor& h, const at::Tensor& c) override;
  at::Tensor& input() override { return x; }
  at::Tensor& tokens() override { return ids; }
  const at::Tensor& run() override;
  at::Tensor h() const override { return h_[parity].to(at::kFloat); }
  at::Tensor c() const override { return cell == Cell::LSTM ? c_[parity] : at::Tensor(); }

  struct Segment {
    const RnnPrimitives* prims;
    ConvertedWeights weights;
    at::Tensor scratchpad;  // this DecodeStep's own: steps may run on several threads at once
    int64_t first, count;
    std::unordered_map<int, memory> args[2];  // [parity]: reads state buffer parity, writes !parity
  };
  Cell cell;
  Precision precision;
  int64_t layers, batch, hidden;
  at::Tensor x, h_[2], c_[2];  // state [L, B, H] double-buffered
  at::Tensor embedding, ids;   // with an embedding: the ids whose rows run() copies into x
  std::vector<at::Tensor> ys;  // each segment's top output [1, B, H]
  at::Tensor x_kernel, y_f32;  // bf16 only: what the first segment reads, the f32 result
  std::vector<Segment> segments;
  int parity = 0;
};

OneDnnSteps::OneDnnSteps(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
                         Precision precision, const at::Tensor& embedding_) {
  OneDnnSteps& m = *this;
  if (embedding_.defined()) {
    m.embedding = embedding_;
    m.ids = at::zeros({batch}, embedding_.options().dtype(at::kLong));
  }
  m.cell = cell;
  m.precision = precision;
  m.layers = num_layers;
  m.batch = batch;
  m.hidden = params[1].size(1);
  const int64_t input = params[0].size(1);
  const bool bf16 = precision == Precision::BF16;
  const auto opts = params[0].options().requires_grad(false);
  const auto kernel_opts = opts.dtype(scalar_type(precision));
  const dnnl::memory::data_type type = data_type(precision);
  m.x = at::zeros({batch, input}, opts);
  m.x_kernel = bf16 ? at::zeros({batch, input}, kernel_opts) : m.x;
  if (bf16) m.y_f32 = at::zeros({1, batch, m.hidden}, opts);
  for (int i = 0; i < 2; ++i) {
    m.h_[i] = at::zeros({num_layers, batch, m.hidden}, kernel_opts);
    if (cell == Cell::LSTM) m.c_[i] = at::zeros({num_layers, batch, m.hidden}, opts);
  }
  std::vector<std::pair<int64_t, int64_t>> spans;
  if (input == m.hidden) {
    spans.push_back({0, num_layers});
  } else {
    spans.push_back({0, 1});
    if (num_layers > 1) spans.push_back({1, num_layers - 1});
  }
  for (auto [first, count] : spans) {
    Segment s;
    s.first = first;
    s.count = count;
    const int64_t in = first == 0 ? input : m.hidden;
    s.prims = &inference_primitives(RnnShape{cell, count, 1, batch, in, m.hidden, precision});
    s.weights = converted_weights(*s.prims, params.slice(4 * first, 4 * count));
    s.scratchpad = scratchpad_for(*s.prims);
    m.ys.push_back(at::zeros({1, batch, m.hidden}, kernel_opts));
    m.segments.push_back(std::move(s));
  }
  const auto bytes_at = [](const at::Tensor& t, int64_t layer) {
    return static_cast<char*>(t.data_ptr()) + layer * t.stride(0) * t.element_size();
  };
  for (size_t k = 0; k < m.segments.size(); ++k) {
    Segment& s = m.segments[k];
    const RnnShape& sh = s.prims->shape;
    const memory::desc st = iter_md(s.count, batch, m.hidden, type);
    const memory::desc cs = iter_md(s.count, batch, m.hidden);
    const at::Tensor& src = k == 0 ? m.x_kernel : m.ys[k - 1];
    for (int p = 0; p < 2; ++p) {
      auto& a = s.args[p];
      a.emplace(DNNL_ARG_SRC_LAYER,
                memory(layer_md(1, batch, sh.input, type), cpu_engine(), src.data_ptr()));
      a.emplace(DNNL_ARG_WEIGHTS_LAYER, make_memory(s.prims->weights_layer, s.weights.layer));
      a.emplace(DNNL_ARG_WEIGHTS_ITER, make_memory(s.prims->weights_iter, s.weights.iter));
      a.emplace(DNNL_ARG_BIAS, make_memory(bias_md(sh), s.weights.bias));
      a.emplace(DNNL_ARG_SCRATCHPAD, make_memory(s.prims->scratchpad, s.scratchpad));
      a.emplace(DNNL_ARG_DST_LAYER, make_memory(layer_md(1, batch, m.hidden, type), m.ys[k]));
      a.emplace(DNNL_ARG_SRC_ITER, memory(st, cpu_engine(), bytes_at(m.h_[p], s.first)));
      a.emplace(DNNL_ARG_DST_ITER, memory(st, cpu_engine(), bytes_at(m.h_[1 - p], s.first)));
      if (cell == Cell::LSTM) {
        a.emplace(DNNL_ARG_SRC_ITER_C, memory(cs, cpu_engine(), bytes_at(m.c_[p], s.first)));
        a.emplace(DNNL_ARG_DST_ITER_C, memory(cs, cpu_engine(), bytes_at(m.c_[1 - p], s.first)));
      }
    }
  }
}

void OneDnnSteps::set_state(const at::Tensor& h, const at::Tensor& c) {
  parity = 0;
  h_[0].copy_(h);
  if (cell == Cell::LSTM) c_[0].copy_(c);
}

const at::Tensor& OneDnnSteps::run() {
  const bool bf16 = precision == Precision::BF16;
  if (embedding.defined()) {
    check_token_ids(ids, embedding.size(0));
    at::index_select_out(x, embedding, 0, ids);
  }
  if (bf16) x_kernel.copy_(x);
  for (auto& s : segments) s.prims->forward.execute(cpu_stream(), s.args[parity]);
  parity = 1 - parity;
  if (!bf16) return ys.back();
  y_f32.copy_(ys.back());
  return y_f32;
}

}  // namespace

void check_token_ids(const at::Tensor& ids, int64_t vocabulary) {
  const int64_t* id = ids.data_ptr<int64_t>();
  for (int64_t b = 0; b < ids.numel(); ++b) {
    if (id[b] < 0 || id[b] >= vocabulary) {
      throw Error("DecodeStep: token id " + std::to_string(id[b]) + " is outside the " +
                  std::to_string(vocabulary) + "-entry embedding");
    }
  }
}

DecodeStep::DecodeStep(Cell cell, at::TensorList params, int64_t num_layers, int64_t batch,
                       Precision precision, StepKernels kernels, const at::Tensor& embedding)
    : impl_(kernels == StepKernels::Gemm
                ? gemm_decode_step(cell, params, num_layers, batch, precision, embedding)
                : std::make_unique<OneDnnSteps>(cell, params, num_layers, batch, precision,
                                                embedding)) {}

DecodeStep::~DecodeStep() = default;

void DecodeStep::set_state(const at::Tensor& h, const at::Tensor& c) {
  impl_->set_state(h, c);
}
at::Tensor& DecodeStep::input() {
  return impl_->input();
}
at::Tensor& DecodeStep::tokens() {
  return impl_->tokens();
}
const at::Tensor& DecodeStep::run() {
  return impl_->run();
}
at::Tensor DecodeStep::h() const {
  return impl_->h();
}
at::Tensor DecodeStep::c() const {
  return impl_->c();
}

}  // namespace s2s::kernels
