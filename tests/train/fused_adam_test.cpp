// s2s::FusedAdam against torch::optim::Adam: the same parameters after many steps for every
// option, the same saved state (checkpoints move between the two), and Adam's own path for
// tensors the fused loop does not take.
#include "s2s/fused_adam.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <sstream>

#include <torch/nn/utils/clip_grad.h>

namespace s2s {
namespace {

using torch::optim::AdamOptions;

// Parameters of a few shapes, one without a gradient, one large enough to be split across
// threads.
std::vector<torch::Tensor> make_params(at::ScalarType type = at::kFloat) {
  torch::manual_seed(1);
  std::vector<torch::Tensor> ps;
  for (const std::vector<int64_t>& shape :
       std::vector<std::vector<int64_t>>{{768, 256}, {768}, {13, 256}, {5, 3}, {300000}}) {
    ps.push_back(torch::randn(shape, at::TensorOptions().dtype(type)).requires_grad_(true));
  }
  return ps;
}

std::vector<torch::Tensor> clone(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> out;
  for (const auto& p : ps) out.push_back(p.detach().clone().requires_grad_(true));
  return out;
}

// `steps` updates of both optimizers with the same random gradients (the 4th parameter never
// gets one).
template <class A, class B>
void run_both(A& a, const std::vector<torch::Tensor>& pa, B& b,
              const std::vector<torch::Tensor>& pb, int steps, uint64_t seed) {
  torch::manual_seed(seed);
  for (int s = 0; s < steps; ++s) {
    for (size_t i = 0; i < pa.size(); ++i) {
      if (i == 3) continue;
      const torch::Tensor g = torch::randn_like(pa[i]) * (1 + s % 3);
      pa[i].mutable_grad() = g.clone();
      pb[i].mutable_grad() = g.clone();
    }
    a.step();
    b.step();
  }
}

double max_rel_diff(const std::vector<torch::Tensor>& x, const std::vector<torch::Tensor>& y) {
  double worst = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    const double scale = y[i].abs().max().item<double>();
    worst = std::max(worst, (x[i] - y[i]).abs().max().item<double>() / scale);
  }
  return worst;
}

TEST(FusedAdam, MatchesTorchAdamForEveryOption) {
  const std::vector<AdamOptions> options{AdamOptions(1e-3), AdamOptions(2e-3).weight_decay(0.01),
                                         AdamOptions(1e-2).amsgrad(true),
                                         // beta2 0.5: v falls after a large gradient, so the
                                         // running maximum AMSGrad divides by differs from v.
                                         AdamOptions(1e-2).amsgrad(true).betas({0.9, 0.5}),
                                         AdamOptions(5e-3).betas({0.8, 0.99}).eps(1e-6)};
  for (size_t k = 0; k < options.size(); ++k) {
    const auto initial = make_params();
    const auto ours_params = clone(initial), torch_params = clone(initial);
    FusedAdam ours(ours_params, options[k]);
    torch::optim::Adam reference(torch_params, options[k]);
    run_both(ours, ours_params, reference, torch_params, 30, 2);
    // The updates moved the weights (by far more than the tolerance) ...
    EXPECT_GT(max_rel_diff(ours_params, initial), 1e-3) << "options " << k;
    // ... to where torch's Adam moved them, to float rounding.
    EXPECT_LT(max_rel_diff(ours_params, torch_params), 1e-5) << "options " << k;
    EXPECT_TRUE(torch::equal(ours_params[3], initial[3])) << "a parameter without gradient moved";
  }
}

// Caches of converted weights (the oneDNN inference weights) key on the version counter, which
// torch's in-place ops bump; the fused loop writes through data_ptr and must bump it itself.
TEST(FusedAdam, EveryUpdatedParameterGetsANewVersion) {
  const auto params = make_params();
  FusedAdam adam(params, AdamOptions(1e-3));
  std::vector<uint32_t> before;
  for (const auto& p : params) before.push_back(p._version());
  for (size_t i = 0; i < params.size(); ++i) {
    if (i != 3) params[i].mutable_grad() = torch::ones_like(params[i]);
  }
  adam.step();
  for (size_t i = 0; i < params.size(); ++i) {
    if (i == 3) {
      EXPECT_EQ(params[i]._version(), before[i]) << "no gradient, no update";
    } else {
      EXPECT_GT(params[i]._version(), before[i]) << "parameter " << i;
    }
  }
}

TEST(FusedAdam, SavesAndLoadsTorchAdamState) {
  const auto initial = make_params();
  const auto fused_params = clone(initial), torch_params = clone(initial);
  FusedAdam fused(fused_params, AdamOptions(1e-3));
  torch::optim::Adam adam(torch_params, AdamOptions(1e-3));
  run_both(fused, fused_params, adam, torch_params, 5, 3);

  // Swap states: each optimizer continues from the other's saved state.
  std::stringstream fused_state, adam_state;
  torch::serialize::OutputArchive out_fused, out_adam;
  fused.save(out_fused);
  adam.save(out_adam);
  out_fused.save_to(fused_state);
  out_adam.save_to(adam_state);
  const auto p1 = clone(fused_params), p2 = clone(torch_params);
  torch::optim::Adam adam_from_fused(p1, AdamOptions(1e-3));
  FusedAdam fused_from_adam(p2, AdamOptions(1e-3));
  torch::serialize::InputArchive in_fused, in_adam;
  in_fused.load_from(fused_state);
  in_adam.load_from(adam_state);
  adam_from_fused.load(in_fused);
  fused_from_adam.load(in_adam);
  run_both(adam_from_fused, p1, fused_from_adam, p2, 5, 4);
  run_both(fused, fused_params, adam, torch_params, 5, 4);
  // Had either lost the step count or the moments, the bias correction and the direction would
  // differ by far more than rounding.
  EXPECT_LT(max_rel_diff(p1, torch_params), 1e-5);
  EXPECT_LT(max_rel_diff(p2, fused_params), 1e-5);
}

TEST(FusedAdam, DoubleParametersTakeTorchAdamsPath) {
  const auto initial = make_params(at::kDouble);
  const auto fused_params = clone(initial), torch_params = clone(initial);
  FusedAdam fused(fused_params, AdamOptions(1e-3));
  torch::optim::Adam adam(torch_params, AdamOptions(1e-3));
  run_both(fused, fused_params, adam, torch_params, 3, 5);
  for (size_t i = 0; i < initial.size(); ++i)
    EXPECT_TRUE(torch::equal(fused_params[i], torch_params[i]));
  EXPECT_FALSE(torch::equal(fused_params[0], initial[0]));
}

// clip_grad_norm then step() against torch's clip_grad_norm_ then Adam: the same norm, and the
// same parameters after steps where the clip scales the gradients (max norm far below theirs)
// and where it leaves them alone (far above), in both step() paths (float: the fused loop with
// the scale folded in; double: Adam's own after a multiply).
TEST(FusedAdam, ClipGradNormMatchesTorchClipThenStep) {
  for (const at::ScalarType type : {at::kFloat, at::kDouble}) {
    for (const double max_norm : {0.5, 1e6}) {
      const auto initial = make_params(type);
      const auto ours_params = clone(initial), torch_params = clone(initial);
      FusedAdam ours(ours_params, AdamOptions(1e-2));
      torch::optim::Adam reference(torch_params, AdamOptions(1e-2));
      torch::manual_seed(7);
      for (int s = 0; s < 10; ++s) {
        for (size_t i = 0; i < initial.size(); ++i) {
          if (i == 3) continue;
          const torch::Tensor g = torch::randn_like(initial[i]) * (1 + s % 3);
          ours_params[i].mutable_grad() = g.clone();
          torch_params[i].mutable_grad() = g.clone();
        }
        const double ours_norm = ours.clip_grad_norm(max_norm);
        const double torch_norm = torch::nn::utils::clip_grad_norm_(torch_params, max_norm);
        ASSERT_NEAR(ours_norm, torch_norm, 1e-5 * torch_norm) << "step " << s;
        ours.step();
        reference.step();
      }
      // The scale is the next step's only: without a new clip, the following ones are Adam's.
      run_both(ours, ours_params, reference, torch_params, 3, 8);
      EXPECT_LT(max_rel_diff(ours_params, torch_params), 1e-5)
          << "max norm " << max_norm << ", " << c10::toString(type);
      EXPECT_GT(max_rel_diff(ours_params, initial), 1e-3);
    }
  }
}

}  // namespace
}  // namespace s2s
