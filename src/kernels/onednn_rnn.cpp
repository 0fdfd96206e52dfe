// One oneDNN primitive per layer, so inter-layer dropout happens between primitives as in at::gru
// (on every layer's output but the last), with kernels::dropout's masks like the torch path's.
#include "kernels/onednn_rnn.h"

#include <algorithm>

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include "kernels/dropout.h"
#include "kernels/rnn_primitives.h"
#include "kernels/weight_cache.h"
#include "s2s/error.h"

namespace s2s::kernels {
namespace {

using dnnl::memory;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Forward on the training primitive (records the workspace) and backward through oneDNN.
// In bf16 the primitive reads and writes bf16 activations and states: the f32 inputs are
// rounded on the way in and the outputs widened on the way out, and backward gets the bf16
// tensors the forward saw. LSTM cell states, biases, gradients and diff weights are f32 always.
struct RnnLayerFunction : public torch::autograd::Function<RnnLayerFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x_f32,
                               const at::Tensor& h0_f32, const at::Tensor& c0,
                               const at::Tensor& w_ih, const at::Tensor& w_hh,
                               const at::Tensor& b_ih, const at::Tensor& b_hh, int64_t cell_index,
                               int64_t precision_index) {
    const Cell cell = static_cast<Cell>(cell_index);
    const Precision precision = static_cast<Precision>(precision_index);
    const bool lstm = cell == Cell::LSTM;
    const RnnShape s{cell, 1, x_f32.size(0), x_f32.size(1), x_f32.size(2), w_hh.size(1), precision};
    const RnnPrimitives& p = training_primitives(s);
    const at::Tensor x = to_precision(x_f32, precision), h0 = to_precision(h0_f32, precision);
    const dnnl::memory::data_type type = data_type(precision);

    const at::Tensor wl_user = to_onednn_gate_order(cell, w_ih);
    const at::Tensor wi_user = to_onednn_gate_order(cell, w_hh);
    const at::Tensor bias = onednn_bias(cell, b_ih, b_hh);
    const at::Tensor wl =
        reorder_to(wl_user, user_weights_md(1, s.input, cell, s.hidden), p.weights_layer);
    const at::Tensor wi =
        reorder_to(wi_user, user_weights_md(1, s.hidden, cell, s.hidden), p.weights_iter);

    at::Tensor y = at::empty({s.steps, s.batch, s.hidden}, x.options());
    at::Tensor h_n = at::empty({1, s.batch, s.hidden}, x.options());
    at::Tensor c_n = lstm ? at::empty({1, s.batch, s.hidden}, c0.options()) : at::Tensor();
    at::Tensor ws = at::empty({static_cast<int64_t>(p.workspace.get_size())}, at::kByte);

    const memory::desc io = layer_md(s.steps, s.batch, s.input, type);
    const memory::desc oo = layer_md(s.steps, s.batch, s.hidden, type);
    const memory::desc st = iter_md(1, s.batch, s.hidden, type);
    const memory::desc cs = iter_md(1, s.batch, s.hidden);
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC_LAYER, make_memory(io, x)},
                                         {DNNL_ARG_SRC_ITER, make_memory(st, h0)},
                                         {DNNL_ARG_WEIGHTS_LAYER, make_memory(p.weights_layer, wl)},
                                         {DNNL_ARG_WEIGHTS_ITER, make_memory(p.weights_iter, wi)},
                                         {DNNL_ARG_BIAS, make_memory(bias_md(s), bias)},
                                         {DNNL_ARG_DST_LAYER, make_memory(oo, y)},
                                         {DNNL_ARG_DST_ITER, make_memory(st, h_n)},
                                         {DNNL_ARG_WORKSPACE, make_memory(p.workspace, ws)}};
    if (lstm) {
      args.emplace(DNNL_ARG_SRC_ITER_C, make_memory(cs, c0));
      args.emplace(DNNL_ARG_DST_ITER_C, make_memory(cs, c_n));
    }
    p.forward.execute(cpu_stream(), args);

    if (lstm) {
      ctx->save_for_backward({x, h0, y, h_n, c0, c_n});
    } else {
      ctx->save_for_backward({x, h0, y, h_n});
    }
    ctx->saved_data["cell"] = cell_index;
    ctx->saved_data["precision"] = precision_index;
    ctx->saved_data["w_layer"] = wl_user;
    ctx->saved_data["w_iter"] = wi_user;
    ctx->saved_data["bias"] = bias;
    ctx->saved_data["workspace"] = ws;
    // Widening bf16 to f32 is exact; in f32 these are the primitive's own outputs.
    const at::Tensor y_f32 = y.to(at::kFloat), h_n_f32 = h_n.to(at::kFloat);
    if (lstm) return {y_f32, h_n_f32, c_n};
    return {y_f32, h_n_f32};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Cell cell = static_cast<Cell>(ctx->saved_data["cell"].toInt());
    const Precision precision = static_cast<Precision>(ctx->saved_data["precision"].toInt());
    const bool lstm = cell == Cell::LSTM;
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &h0 = saved[1], &y = saved[2], &h_n = saved[3];
    const at::Tensor c0 = lstm ? saved[4] : at::Tensor(), c_n = lstm ? saved[5] : at::Tensor();
    const at::Tensor wl_user = ctx->saved_data["w_layer"].toTensor();
    const at::Tensor wi_user = ctx->saved_data["w_iter"].toTensor();
    const at::Tensor bias = ctx->saved_data["bias"].toTensor();
    const at::Tensor ws = ctx->saved_data["workspace"].toTensor();
    const RnnShape s{cell, 1, x.size(0), x.size(1), x.size(2), wi_user.size(1), precision};
    const RnnPrimitives& p = training_primitives(s);

    const memory::desc ul = user_weights_md(1, s.input, cell, s.hidden);
    const memory::desc ui = user_weights_md(1, s.hidden, cell, s.hidden);
    const at::Tensor wl = reorder_to(wl_user, ul, p.bwd_weights_layer);
    const at::Tensor wi = reorder_to(wi_user, ui, p.bwd_weights_iter);

    // oneDNN accumulates into diff weights and bias: start them at zero.
    const auto bytes = [](const memory::desc& md) {
      return at::zeros({static_cast<int64_t>(md.get_size())}, at::kByte);
    };
    at::Tensor dwl = bytes(p.diff_weights_layer), dwi = bytes(p.diff_weights_iter);
    // Gradients are f32 in both precisions (the primitive's diff tensors are f32).
    const auto f32 = x.options().dtype(at::kFloat);
    at::Tensor db = at::zeros({bias_gates(cell), s.hidden}, f32);
    at::Tensor dx = at::empty(x.sizes(), f32), dh0 = at::empty(h0.sizes(), f32);
    at::Tensor dc0 = lstm ? at::empty_like(c0) : at::Tensor();
    const auto grad = [&](size_t i) { return grads[i].to(at::kFloat).contiguous(); };
    const at::Tensor dy = grad(0), dhn = grad(1);
    const at::Tensor dcn = lstm ? grad(2) : at::Tensor();

    const dnnl::memory::data_type type = data_type(precision);
    const memory::desc io = layer_md(s.steps, s.batch, s.input, type);
    const memory::desc oo = layer_md(s.steps, s.batch, s.hidden, type);
    const memory::desc st = iter_md(1, s.batch, s.hidden, type);
    const memory::desc d_io = layer_md(s.steps, s.batch, s.input);
    const memory::desc d_oo = layer_md(s.steps, s.batch, s.hidden);
    const memory::desc d_st = iter_md(1, s.batch, s.hidden);  // also the LSTM cell state's
    const memory::desc bm = bias_md(s);
    std::unordered_map<int, memory> args{
        {DNNL_ARG_SRC_LAYER, make_memory(io, x)},
        {DNNL_ARG_SRC_ITER, make_memory(st, h0)},
        {DNNL_ARG_WEIGHTS_LAYER, make_memory(p.bwd_weights_layer, wl)},
        {DNNL_ARG_WEIGHTS_ITER, make_memory(p.bwd_weights_iter, wi)},
        {DNNL_ARG_BIAS, make_memory(bm, bias)},
        {DNNL_ARG_DST_LAYER, make_memory(oo, y)},
        {DNNL_ARG_DST_ITER, make_memory(st, h_n)},
        {DNNL_ARG_WORKSPACE, make_memory(p.workspace, ws)},
        {DNNL_ARG_DIFF_SRC_LAYER, make_memory(d_io, dx)},
        {DNNL_ARG_DIFF_SRC_ITER, make_memory(d_st, dh0)},
        {DNNL_ARG_DIFF_WEIGHTS_LAYER, make_memory(p.diff_weights_layer, dwl)},
        {DNNL_ARG_DIFF_WEIGHTS_ITER, make_memory(p.diff_weights_iter, dwi)},
        {DNNL_ARG_DIFF_BIAS, make_memory(bm, db)},
        {DNNL_ARG_DIFF_DST_LAYER, make_memory(d_oo, dy)},
        {DNNL_ARG_DIFF_DST_ITER, make_memory(d_st, dhn)}};
    if (lstm) {
      args.emplace(DNNL_ARG_SRC_ITER_C, make_memory(d_st, c0));
      args.emplace(DNNL_ARG_DST_ITER_C, make_memory(d_st, c_n));
      args.emplace(DNNL_ARG_DIFF_SRC_ITER_C, make_memory(d_st, dc0));
      args.emplace(DNNL_ARG_DIFF_DST_ITER_C, make_memory(d_st, dcn));
    }
    p.backward.execute(cpu_stream(), args);

    const int64_t rows = gate_count(cell) * s.hidden;
    at::Tensor dw_ih =
        to_onednn_gate_order(cell, reorder_from(dwl, p.diff_weights_layer, ul, {rows, s.input}));
    at::Tensor dw_hh =
        to_onednn_gate_order(cell, reorder_from(dwi, p.diff_weights_iter, ui, {rows, s.hidden}));
    auto [db_ih, db_hh] = torch_bias_grads(cell, db);
    return {dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, at::Tensor(), at::Tensor()};
  }
};

// Forward only: no workspace, weights converted once per weight version (and precision).
RnnResult inference_layer(Cell cell, Precision precision, const at::Tensor& x_f32,
                          const at::Tensor& h0_f32, const at::Tensor& c0,
                          at::TensorList layer_params) {
  const bool lstm = cell == Cell::LSTM;
  const RnnShape s{
      cell, 1, x_f32.size(0), x_f32.size(1), x_f32.size(2), layer_params[1].size(1), precision};
  const RnnPrimitives& p = inference_primitives(s);
  const ConvertedWeights w = converted_weights(p, layer_params);
  const at::Tensor x = to_precision(x_f32, precision), h0 = to_precision(h0_f32, precision);
  at::Tensor y = at::empty({s.steps, s.batch, s.hidden}, x.options());
  at::Tensor h_n = at::empty({1, s.batch, s.hidden}, x.options());
  RnnResult r;
  if (lstm) r.c_n = at::empty({1, s.batch, s.hidden}, c0.options());
  const at::Tensor scratchpad = scratchpad_for(p);
  const dnnl::memory::data_type type = data_type(precision);
  const memory::desc st = iter_md(1, s.batch, s.hidden, type);
  const memory::desc cs = iter_md(1, s.batch, s.hidden);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, make_memory(layer_md(s.steps, s.batch, s.input, type), x)},
      {DNNL_ARG_SRC_ITER, make_memory(st, h0)},
      {DNNL_ARG_WEIGHTS_LAYER, make_memory(p.weights_layer, w.layer)},
      {DNNL_ARG_WEIGHTS_ITER, make_memory(p.weights_iter, w.iter)},
      {DNNL_ARG_BIAS, make_memory(bias_md(s), w.bias)},
      {DNNL_ARG_DST_LAYER, make_memory(layer_md(s.steps, s.batch, s.hidden, type), y)},
      {DNNL_ARG_DST_ITER, make_memory(st, h_n)},
      {DNNL_ARG_SCRATCHPAD, make_memory(p.scratchpad, scratchpad)}};
  if (lstm) {
    args.emplace(DNNL_ARG_SRC_ITER_C, make_memory(cs, c0));
    args.emplace(DNNL_ARG_DST_ITER_C, make_memory(cs, r.c_n));
  }
  p.forward.execute(cpu_stream(), args);
  r.output = y.to(at::kFloat);
  r.h_n = h_n.to(at::kFloat);
  return r;
}

}  // namespace

void check_rnn_arguments(const char* kernel, Cell cell, const at::Tensor& input,
                         const at::Tensor& h0, const at::Tensor& c0, at::TensorList params,
                         int64_t num_layers) {
  if (input.dim() != 3 || input.scalar_type() != at::kFloat || !input.device().is_cpu())
    throw Error(std::string(kernel) + ": input must be a [T, B, I] float CPU tensor");
  check_rnn_shapes(kernel, cell, input.size(0), input.size(1), input.size(2), h0, c0, params,
                   num_layers);
}

void check_rnn_shapes(const char* kernel, Cell cell, int64_t steps, int64_t batch,
                      int64_t input_size, const at::Tensor& h0, const at::Tensor& c0,
                      at::TensorList params, int64_t num_layers) {
  const auto fail = [&](const std::string& what) {
    throw Error(std::string(kernel) + ": " + what);
  };
  if (num_layers < 1) fail("num_layers must be >= 1");
  if (static_cast<int64_t>(params.size()) != 4 * num_layers)
    fail("expected 4 parameters per layer (w_ih, w_hh, b_ih, b_hh), got " +
         std::to_string(params.size()) + " for " + std::to_string(num_layers) + " layers");
  if (steps < 1 || batch < 1) fail("input needs at least one step and one row");
  if (h0.dim() != 3 || h0.size(0) != num_layers || h0.size(1) != batch)
    fail("h0 must be [num_layers, B, H]");
  if (cell == Cell::LSTM && (!c0.defined() || !c0.sizes().equals(h0.sizes())))
    fail("LSTM needs c0 shaped like h0");
  const int64_t hidden = h0.size(2), gates = gate_count(cell);
  for (int64_t l = 0; l < num_layers; ++l) {
    const int64_t in = l == 0 ? input_size : hidden;
    if (!params[4 * l].sizes().equals({gates * hidden, in}) ||
        !params[4 * l + 1].sizes().equals({gates * hidden, hidden}) ||
        !params[4 * l + 2].sizes().equals({gates * hidden}) ||
        !params[4 * l + 3].sizes().equals({gates * hidden}))
      fail("layer " + std::to_string(l) + " parameters do not match " + to_string(cell) +
           " with input " + std::to_string(in) + " and hidden " + std::to_string(hidden));
  }
}

bool records_gradients(const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                       at::TensorList params) {
  if (!at::GradMode::is_enabled()) return false;
  const auto wants = [](const at::Tensor& t) { return t.defined() && t.requires_grad(); };
  return wants(input) || wants(h0) || wants(c0) || std::any_of(params.begin(), params.end(), wants);
}

RnnResult onednn_rnn(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                     at::TensorList params, int64_t num_layers, double dropout, bool train,
                     Precision precision) {
  check_rnn_arguments("onednn_rnn", cell, input, h0, c0, params, num_layers);
  const bool lstm = cell == Cell::LSTM;
  const bool record = records_gradients(input, h0, lstm ? c0 : at::Tensor(), params);

  std::vector<at::Tensor> h_n, c_n;
  at::Tensor x = input.contiguous();
  for (int64_t l = 0; l < num_layers; ++l) {
    const at::Tensor h = h0.narrow(0, l, 1).contiguous();
    const at::Tensor c = lstm ? c0.narrow(0, l, 1).contiguous() : at::Tensor();
    const at::TensorList lp = params.slice(4 * l, 4);
    at::Tensor y;
    if (record) {
      // Non-LSTM cells have no cell state; h stands in so that no input is undefined.
      const variable_list out = RnnLayerFunction::apply(
          x, h, lstm ? c : h, lp[0].contiguous(), lp[1].contiguous(), lp[2], lp[3],
          static_cast<int64_t>(cell), static_cast<int64_t>(precision));
      y = out[0];
      h_n.push_back(out[1]);
      if (lstm) c_n.push_back(out[2]);
    } else {
      RnnResult r = inference_layer(cell, precision, x, h, c, lp);
      y = r.output;
      h_n.push_back(r.h_n);
      if (lstm) c_n.push_back(r.c_n);
    }
    x = l + 1 < num_layers ? kernels::dropout(y, dropout, train) : y;
  }
  RnnResult result;
  result.output = x;
  result.h_n = num_layers == 1 ? h_n[0] : at::cat(h_n, 0);
  if (lstm) result.c_n = num_layers == 1 ? c_n[0] : at::cat(c_n, 0);
  return result;
}

void check_precision_supported(Cell cell, Precision precision) {
  // Building (and caching) the smallest inference primitive is the whole check: oneDNN decides
  // at descriptor creation whether it has an implementation.
  inference_primitives(RnnShape{cell, 1, 1, 1, 1, 1, precision});
}

}  // namespace s2s::kernels
