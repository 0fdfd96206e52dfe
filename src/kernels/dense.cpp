#include "kernels/dense.h"

#include <torch/csrc/autograd/custom_function.h>

#include "kernels/gates.h"
#include "kernels/matmul.h"

namespace s2s::kernels {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

bool ours(std::initializer_list<at::Tensor> tensors) {
  if (!at::GradMode::is_enabled()) return false;
  for (const at::Tensor& t : tensors) {
    if (!t.defined()) continue;
    if (t.scalar_type() != at::kFloat || !t.device().is_cpu() || t.numel() == 0) return false;
  }
  return true;
}

// Row-major views of contiguous f32 or bf16 tensors.
Matrix rows_of(const at::Tensor& t, int64_t rows, int64_t cols) {
  return Matrix{t.data_ptr(), rows, cols, cols, 1};
}
Matrix batch_of(const at::Tensor& t) {  // [B, R, C]
  const int64_t r = t.size(1), c = t.size(2);
  return Matrix{t.data_ptr<float>(), r, c, c, 1, t.size(0), r * c};
}

// A bf16 copy of a contiguous f32 tensor, rounded as the recurrent kernels round their operands.
at::Tensor to_bf16(const at::Tensor& t) {
  at::Tensor rounded = at::empty(t.sizes(), t.options().dtype(at::kBFloat16));
  masked_copy(t.numel(), t.data_ptr<float>(), nullptr, rounded.data_ptr<c10::BFloat16>());
  return rounded;
}

struct LinearFunction : public torch::autograd::Function<LinearFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& weight,
                            const at::Tensor& bias, bool bf16) {
    const int64_t in = weight.size(1), out = weight.size(0), rows = x.numel() / in;
    at::Tensor x2 = x.reshape({rows, in}).contiguous(), w = weight.contiguous();
    if (bf16) {  // the operands backward multiplies too, so each is rounded once
      x2 = to_bf16(x2);
      w = to_bf16(w);
    }
    at::Tensor y = at::empty({rows, out}, x.options());
    matmul(rows_of(x2, rows, in), rows_of(w, out, in).t(), y.data_ptr<float>(),
           bias.numel() > 0 ? bias.contiguous().data_ptr<float>() : nullptr, bf16);
    ctx->save_for_backward({x2, w});
    ctx->saved_data["bias"] = bias.numel() > 0;
    ctx->saved_data["bf16"] = bf16;
    std::vector<int64_t> sizes = x.sizes().vec();
    sizes.back() = out;
    return y.view(sizes);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &x2 = saved[0], &w = saved[1];
    const int64_t rows = x2.size(0), in = w.size(1), out = w.size(0);
    const bool bf16 = ctx->saved_data["bf16"].toBool();
    const at::Tensor dy = grads[0].reshape({rows, out}).contiguous();
    const at::Tensor dy_operand = bf16 ? to_bf16(dy) : dy;
    at::Tensor dx, dw, db;
    if (ctx->needs_input_grad(0)) {  // dy W
      dx = at::empty({rows, in}, dy.options());
      matmul(rows_of(dy_operand, rows, out), rows_of(w, out, in), dx.data_ptr<float>(), nullptr,
             bf16);
      std::vector<int64_t> sizes = grads[0].sizes().vec();
      sizes.back() = in;
      dx = dx.view(sizes);
    }
    if (ctx->needs_input_grad(1)) {  // dy^T x
      dw = at::empty({out, in}, dy.options());
      matmul(rows_of(dy_operand, rows, out).t(), rows_of(x2, rows, in), dw.data_ptr<float>(),
             nullptr, bf16);
    }
    if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2)) db = dy.sum(0);
    return {dx, dw, db, at::Tensor()};
  }
};

struct BmmFunction : public torch::autograd::Function<BmmFunction> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b) {
    const at::Tensor ac = a.contiguous(), bc = b.contiguous();
    at::Tensor c = at::empty({a.size(0), a.size(1), b.size(2)}, a.options());
    matmul(batch_of(ac), batch_of(bc), c.data_ptr<float>(), nullptr, false);
    ctx->save_for_backward({ac, bc});
    return c;
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &a = saved[0], &b = saved[1];
    const at::Tensor dc = grads[0].contiguous();
    at::Tensor da, db;
    if (ctx->needs_input_grad(0)) {  // dc b^T
      da = at::empty_like(a);
      matmul(batch_of(dc), batch_of(b).t(), da.data_ptr<float>(), nullptr, false);
    }
    if (ctx->needs_input_grad(1)) {  // a^T dc
      db = at::empty_like(b);
      matmul(batch_of(a).t(), batch_of(dc), db.data_ptr<float>(), nullptr, false);
    }
    return {da, db};
  }
};

}  // namespace

// Narrower layers stay f32 in BF16: an output layer over a small vocabulary (the course's 14
// tokens) ran slower with its operands converted than in f32.
constexpr int64_t kMinBf16Outputs = 64;

at::Tensor linear(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                  Precision precision) {
  if (!ours({x, weight, bias})) return at::linear(x, weight, bias);
  // An empty tensor stands in for no bias: autograd functions take defined inputs.
  return LinearFunction::apply(x, weight, bias.defined() ? bias : at::empty({0}, x.options()),
                               precision == Precision::BF16 && weight.size(0) >= kMinBf16Outputs);
}

at::Tensor bmm(const at::Tensor& a, const at::Tensor& b) {
  if (!ours({a, b})) return at::bmm(a, b);
  return BmmFunction::apply(a, b);
}

}  // namespace s2s::kernels
