// A layer at a time, so inter-layer dropout sits between layers exactly as in onednn_rnn. Each
// layer keeps its gate activations for backward (the "workspace"): LSTM i,f,g,o and c_t; GRU
// r,z,n and W_hn h_{t-1} + b_hn (the reset gate multiplies it, so backward needs it apart).
// In bf16 only the products' operands are rounded: weights once per call, states and gate
// gradients per step (into a bf16 buffer the next product reads); products accumulate in f32,
// and the gate loops, the workspace and every result stay f32, as in onednn_rnn's bf16.
#include "kernels/gemm_rnn.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/custom_function.h>

#include <string>

#include "kernels/dropout.h"
#include "kernels/gates.h"
#include "kernels/matmul.h"
#include "s2s/error.h"

namespace s2s::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The operand a product reads: t itself in f32, a bf16 copy in bf16.
at::Tensor operand(const at::Tensor& t, bool bf16) {
  return bf16 ? t.to(at::kBFloat16) : t;
}

// One layer's forward results: y [T,B,H], and what backward needs.
struct LayerForward {
  at::Tensor y;      // [T,B,H]: h_t for every step
  at::Tensor gates;  // [T,B,G*H] activated gates (LSTM, GRU); undefined for RNN
  at::Tensor extra;  // [T,B,H]: LSTM c_t, GRU W_hn h_{t-1} + b_hn; undefined for RNN
};

LayerForward layer_forward(Cell cell, const at::Tensor& x, const at::Tensor& h0,
                           const at::Tensor& c0, const at::Tensor& w_ih, const at::Tensor& w_hh,
                           const at::Tensor& b_ih, const at::Tensor& b_hh, bool bf16) {
  const int64_t steps = x.size(0), batch = x.size(1), hidden = w_hh.size(1);
  const int64_t rows = w_hh.size(0);  // G*H
  // All steps' input projections at once: the large product of the layer.
  at::Tensor xp = at::empty({steps * batch, rows}, x.options());
  matmul(operand(x.reshape({steps * batch, x.size(2)}), bf16), operand(w_ih, bf16).t(), xp, b_ih);
  at::Tensor gh = at::empty({batch, rows}, x.options());
  at::Tensor h_low =
      bf16 ? at::empty({batch, hidden}, x.options().dtype(at::kBFloat16)) : at::Tensor();
  LayerForward out;
  out.y = at::empty({steps, batch, hidden}, x.options());
  if (cell != Cell::RNN) {
    out.gates = at::empty({steps, batch, rows}, x.options());
    out.extra = at::empty({steps, batch, hidden}, x.options());
  }
  const at::Tensor w_hh_t = operand(w_hh, bf16).t();
  for (int64_t t = 0; t < steps; ++t) {
    const at::Tensor h_prev = t == 0 ? h0 : out.y[t - 1];
    matmul(bf16 ? h_low.copy_(h_prev) : h_prev, w_hh_t, gh, b_hh);
    const float* xpt = xp.data_ptr<float>() + t * batch * rows;
    float* h = out.y[t].data_ptr<float>();
    switch (cell) {
      case Cell::LSTM: {
        const at::Tensor c_prev = t == 0 ? c0 : out.extra[t - 1];
        lstm_step(batch, hidden, xpt, gh.data_ptr<float>(), c_prev.data_ptr<float>(),
                  out.gates[t].data_ptr<float>(), out.extra[t].data_ptr<float>(), h);
        break;
      }
      case Cell::GRU:
        gru_step(batch, hidden, xpt, gh.data_ptr<float>(), h_prev.data_ptr<float>(),
                 out.gates[t].data_ptr<float>(), out.extra[t].data_ptr<float>(), h);
        break;
      case Cell::RNN:
        rnn_step(batch * hidden, xpt, gh.data_ptr<float>(), h);
        break;
    }
  }
  return out;
}

struct GemmLayerFunction : public torch::autograd::Function<GemmLayerFunction> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& h0,
                               const at::Tensor& c0, const at::Tensor& w_ih, const at::Tensor& w_hh,
                               const at::Tensor& b_ih, const at::Tensor& b_hh, int64_t cell_index,
                               bool bf16) {
    const Cell cell = static_cast<Cell>(cell_index);
    const bool lstm = cell == Cell::LSTM;
    const at::Tensor h = h0[0], c = lstm ? c0[0] : at::Tensor();
    LayerForward f = layer_forward(cell, x, h, c, w_ih, w_hh, b_ih, b_hh, bf16);
    const int64_t last = x.size(0) - 1;
    ctx->save_for_backward({x, h0, c0, w_ih, w_hh, f.y});
    ctx->saved_data["cell"] = cell_index;
    ctx->saved_data["bf16"] = bf16;
    if (f.gates.defined()) ctx->saved_data["gates"] = f.gates;
    if (f.extra.defined()) ctx->saved_data["extra"] = f.extra;
    const at::Tensor h_n = f.y[last].unsqueeze(0).clone();
    if (lstm) return {f.y, h_n, f.extra[last].unsqueeze(0).clone()};
    return {f.y, h_n};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const Cell cell = static_cast<Cell>(ctx->saved_data["cell"].toInt());
    const bool lstm = cell == Cell::LSTM, gru = cell == Cell::GRU;
    const bool bf16 = ctx->saved_data["bf16"].toBool();
    const variable_list saved = ctx->get_saved_variables();
    const at::Tensor &x = saved[0], &h0 = saved[1], &c0 = saved[2], &w_ih = saved[3],
                     &w_hh = saved[4], &y = saved[5];
    const auto tensor = [&](const char* key) {
      const c10::IValue& v = ctx->saved_data[key];
      return v.isTensor() ? v.toTensor() : at::Tensor();
    };
    const at::Tensor gates = tensor("gates"), extra = tensor("extra");
    const int64_t steps = x.size(0), batch = x.size(1), hidden = w_hh.size(1);
    const int64_t rows = w_hh.size(0);
    const auto grad_or_zeros = [&](size_t i, at::IntArrayRef sizes) {
      return grads.size() > i && grads[i].defined() ? grads[i].contiguous()
                                                    : at::zeros(sizes, x.options());
    };
    const at::Tensor dy = grad_or_zeros(0, y.sizes());
    at::Tensor dh_next = grad_or_zeros(1, {1, batch, hidden})[0].clone();
    at::Tensor dc = lstm ? grad_or_zeros(2, {1, batch, hidden})[0].clone() : at::Tensor();
    at::Tensor dgi = at::empty({steps, batch, rows}, x.options());
    at::Tensor dgh = gru ? at::empty_like(dgi) : dgi;
    // What the recurrent products read: dgh itself, or its bf16 copy, filled step by step.
    at::Tensor dgh_low = bf16 ? at::empty(dgh.sizes(), x.options().dtype(at::kBFloat16)) : dgh;
    const auto recurrent_operand = [&](int64_t t) {
      return bf16 ? dgh_low[t].copy_(dgh[t]) : dgh[t];
    };
    const at::Tensor w_hh_low = operand(w_hh, bf16);
    for (int64_t t = steps - 1; t >= 0; --t) {
      const at::Tensor h_prev = t == 0 ? h0[0] : y[t - 1];
      const float* dyt = dy[t].data_ptr<float>();
      switch (cell) {
        case Cell::LSTM: {
          const at::Tensor c_prev = t == 0 ? c0[0] : extra[t - 1];
          lstm_step_backward(batch, hidden, dyt, dh_next.data_ptr<float>(),
                             gates[t].data_ptr<float>(), extra[t].data_ptr<float>(),
                             c_prev.data_ptr<float>(), dc.data_ptr<float>(),
                             dgi[t].data_ptr<float>());
          matmul(recurrent_operand(t), w_hh_low, dh_next);
          break;
        }
        case Cell::GRU:
          gru_step_backward(batch, hidden, dyt, dh_next.data_ptr<float>(),
                            gates[t].data_ptr<float>(), extra[t].data_ptr<float>(),
                            h_prev.data_ptr<float>(), dgi[t].data_ptr<float>(),
                            dgh[t].data_ptr<float>(), dh_next.data_ptr<float>());
          // dh_next now holds z * dh, the part that bypasses W_hh; add dgh W_hh to it.
          matmul(recurrent_operand(t), w_hh_low, dh_next, at::Tensor(), /*accumulate=*/true);
          break;
        case Cell::RNN:
          rnn_step_backward(batch * hidden, dyt, dh_next.data_ptr<float>(), y[t].data_ptr<float>(),
                            dgi[t].data_ptr<float>());
          matmul(recurrent_operand(t), w_hh_low, dh_next);
          break;
      }
    }
    // The large products, over all steps at once.
    // (Biases' gradients from the f32 gate gradients; for LSTM and RNN dgh_low is dgi's copy.)
    const at::Tensor dgi2 = dgi.view({steps * batch, rows}), dgh2 = dgh.view({steps * batch, rows});
    const at::Tensor dgi_low = gru ? operand(dgi2, bf16) : dgh_low.view({steps * batch, rows});
    const at::Tensor dgh_low2 = dgh_low.view({steps * batch, rows});
    const at::Tensor h_prevs =
        at::cat({h0, y.narrow(0, 0, steps - 1)}, 0).view({steps * batch, hidden});
    at::Tensor dx = at::empty({steps * batch, x.size(2)}, x.options());
    at::Tensor dw_ih = at::empty(w_ih.sizes(), x.options()), dw_hh = at::empty_like(w_hh);
    matmul(dgi_low, operand(w_ih, bf16), dx);
    matmul(dgi_low.t(), operand(x.reshape({steps * batch, x.size(2)}), bf16), dw_ih);
    matmul(dgh_low2.t(), operand(h_prevs, bf16), dw_hh);
    at::Tensor db_ih = dgi2.sum(0), db_hh = dgh2.sum(0);
    dx = dx.view(x.sizes());
    at::Tensor dh0 = dh_next.unsqueeze(0);
    at::Tensor dc0 = lstm ? dc.unsqueeze(0) : at::Tensor();
    return {dx, dh0, dc0, dw_ih, dw_hh, db_ih, db_hh, at::Tensor(), at::Tensor()};
  }
};

void check_arguments(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                     at::TensorList params, int64_t num_layers) {
  const auto fail = [](const std::string& what) { throw Error("gemm_rnn: " + what); };
  if (num_layers < 1) fail("num_layers must be >= 1");
  if (static_cast<int64_t>(params.size()) != 4 * num_layers)
    fail("expected 4 parameters per layer (w_ih, w_hh, b_ih, b_hh), got " +
         std::to_string(params.size()) + " for " + std::to_string(num_layers) + " layers");
  if (input.dim() != 3 || input.scalar_type() != at::kFloat || !input.device().is_cpu())
    fail("input must be a [T, B, I] float CPU tensor");
  if (input.size(0) < 1 || input.size(1) < 1) fail("input needs at least one step and one row");
  if (h0.dim() != 3 || h0.size(0) != num_layers || h0.size(1) != input.size(1))
    fail("h0 must be [num_layers, B, H]");
  if (cell == Cell::LSTM && (!c0.defined() || !c0.sizes().equals(h0.sizes())))
    fail("LSTM needs c0 shaped like h0");
  const int64_t hidden = h0.size(2), gates = gate_count(cell);
  for (int64_t l = 0; l < num_layers; ++l) {
    const int64_t in = l == 0 ? input.size(2) : hidden;
    if (!params[4 * l].sizes().equals({gates * hidden, in}) ||
        !params[4 * l + 1].sizes().equals({gates * hidden, hidden}) ||
        !params[4 * l + 2].sizes().equals({gates * hidden}) ||
        !params[4 * l + 3].sizes().equals({gates * hidden}))
      fail("layer " + std::to_string(l) + " parameters do not match " + to_string(cell) +
           " with input " + std::to_string(in) + " and hidden " + std::to_string(hidden));
  }
}

}  // namespace

RnnResult gemm_rnn(Cell cell, const at::Tensor& input, const at::Tensor& h0, const at::Tensor& c0,
                   at::TensorList params, int64_t num_layers, double dropout, bool train,
                   Precision precision) {
  check_arguments(cell, input, h0, c0, params, num_layers);
  const bool lstm = cell == Cell::LSTM, bf16 = precision == Precision::BF16;
  bool record = at::GradMode::is_enabled() &&
                (input.requires_grad() || h0.requires_grad() || (lstm && c0.requires_grad()));
  for (const auto& p : params) record = record || (at::GradMode::is_enabled() && p.requires_grad());

  std::vector<at::Tensor> h_n, c_n;
  at::Tensor x = input.contiguous();
  for (int64_t l = 0; l < num_layers; ++l) {
    const at::Tensor h = h0.narrow(0, l, 1).contiguous();
    const at::Tensor c = lstm ? c0.narrow(0, l, 1).contiguous() : at::Tensor();
    const at::TensorList lp = params.slice(4 * l, 4);
    at::Tensor y;
    if (record) {
      // Non-LSTM cells have no cell state; h stands in so that no input is undefined.
      const variable_list out = GemmLayerFunction::apply(
          x, h, lstm ? c : h, lp[0].contiguous(), lp[1].contiguous(), lp[2].contiguous(),
          lp[3].contiguous(), static_cast<int64_t>(cell), bf16);
      y = out[0];
      h_n.push_back(out[1]);
      if (lstm) c_n.push_back(out[2]);
    } else {
      at::NoGradGuard no_grad;
      LayerForward f = layer_forward(cell, x, h[0], lstm ? c[0] : at::Tensor(), lp[0].contiguous(),
                                     lp[1].contiguous(), lp[2], lp[3], bf16);
      y = f.y;
      const int64_t last = x.size(0) - 1;
      h_n.push_back(f.y[last].unsqueeze(0).clone());
      if (lstm) c_n.push_back(f.extra[last].unsqueeze(0).clone());
    }
    x = l + 1 < num_layers ? kernels::dropout(y, dropout, train) : y;
  }
  RnnResult result;
  result.output = x;
  result.h_n = num_layers == 1 ? h_n[0] : at::cat(h_n, 0);
  if (lstm) result.c_n = num_layers == 1 ? c_n[0] : at::cat(c_n, 0);
  return result;
}

}  // namespace s2s::kernels
