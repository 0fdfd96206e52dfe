#include "train/weight_smoothing.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <utility>

#include "s2s/error.h"
#include "train/joint_spans.h"

namespace s2s {
namespace {

// One pass over [begin, end) of one tensor, vectorized once per instruction set (the loader
// picks the clone for this CPU). About 1/7 of the fused Adam step's memory traffic.
__attribute__((target_clones("avx512f", "avx2", "default"))) void smooth_range(
    float* __restrict__ smoothed, const float* __restrict__ weights, int64_t begin, int64_t end,
    float rate) {
  for (int64_t i = begin; i < end; ++i) smoothed[i] += rate * (weights[i] - smoothed[i]);
}

}  // namespace

WeightSmoothing::WeightSmoothing(std::vector<at::Tensor> params, double factor)
    : params_(std::move(params)), factor_(factor) {
  if (!(factor > 0 && factor <= 1)) throw Error("weight smoothing: the factor must be in (0, 1]");
  at::NoGradGuard no_grad;
  for (const at::Tensor& p : params_) {
    if (p.scalar_type() != at::kFloat || !p.is_contiguous()) {
      throw Error("weight smoothing: the weights must be contiguous f32 tensors");
    }
    smoothed_.push_back(p.detach().clone());
  }
}

double WeightSmoothing::rate(int64_t step) const {
  return std::max(factor_, 1.0 / static_cast<double>(std::max<int64_t>(step, 0) + 1));
}

void WeightSmoothing::update(int64_t step) {
  if (swapped_) throw Error("weight smoothing: update while the smoothed weights are in use");
  struct Span {
    float* smoothed;
    const float* weights;
    int64_t n;
  };
  std::vector<Span> spans;
  for (size_t k = 0; k < params_.size(); ++k) {
    spans.push_back(
        {smoothed_[k].data_ptr<float>(), params_[k].data_ptr<float>(), params_[k].numel()});
  }
  const auto r = static_cast<float>(rate(step));
  const Joint<Span> joint(spans);
  at::parallel_for(0, joint.total(), 32768, [&](int64_t begin, int64_t end) {
    joint.each(begin, end, [r](const Span& s, int64_t from, int64_t to) {
      smooth_range(s.smoothed, s.weights, from, to, r);
    });
  });
}

const std::vector<at::Tensor>& WeightSmoothing::smoothed() const {
  if (swapped_) throw Error("weight smoothing: the smoothed weights are in the parameters");
  return smoothed_;
}

const std::vector<at::Tensor>& WeightSmoothing::trained() const {
  if (!swapped_) throw Error("weight smoothing: the trained weights are in the parameters");
  return trained_;
}

// Copies, not swapped storage: copy_ bumps the parameters' version counters, by which the
// kernels' caches of converted weights (kernels/weight_cache) know to drop them.
void WeightSmoothing::swap_in() {
  at::NoGradGuard no_grad;
  if (trained_.empty()) {
    for (const at::Tensor& p : params_) trained_.push_back(at::empty_like(p));
  }
  for (size_t k = 0; k < params_.size(); ++k) {
    trained_[k].copy_(params_[k]);
    params_[k].detach().copy_(smoothed_[k]);
  }
  swapped_ = true;
}

void WeightSmoothing::swap_out() {
  at::NoGradGuard no_grad;
  for (size_t k = 0; k < params_.size(); ++k) params_[k].detach().copy_(trained_[k]);
  swapped_ = false;
}

SmoothedWeights::SmoothedWeights(WeightSmoothing* smoothing) {
  if (smoothing == nullptr || smoothing->swapped()) return;
  smoothing->swap_in();
  owner_ = smoothing;
}

SmoothedWeights::~SmoothedWeights() {
  if (owner_) owner_->swap_out();
}

}  // namespace s2s
