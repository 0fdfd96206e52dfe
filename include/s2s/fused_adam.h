// s2s::FusedAdam: torch::optim::Adam, updated in one pass over memory.
//
// torch::optim::Adam (LibTorch 1.13) runs each update as seven tensor operations, each a full
// pass over the parameter's memory; for the course model that is 5-6 ms of a ~100 ms training
// step at one thread. FusedAdam is the same algorithm (same options, including weight decay and
// AMSGrad, the same bias corrections) computed element by element in one parallel loop, on
// the same state: it saves and loads exactly what torch::optim::Adam does, so checkpoints move
// freely between the two. A step with any parameter, gradient or state that is not a contiguous
// float CPU tensor is Adam's own.
#pragma once

#include <torch/optim/adam.h>

namespace s2s {

class FusedAdam : public torch::optim::Adam {
 public:
  using torch::optim::Adam::Adam;
  torch::Tensor step(LossClosure closure = nullptr) override;

  // torch::nn::utils::clip_grad_norm_ (L2) over the gradients of this optimizer's parameters,
  // with the scale (max_norm / (norm + 1e-6), at most 1) folded into the next step()'s update
  // instead of a pass of its own over every gradient; the norm is one fused pass too. Returns
  // the norm before clipping. The gradients themselves stay as they are until step().
  double clip_grad_norm(double max_norm);

 private:
  bool fusable() const;
  float grad_scale_ = 1.0f;  // from clip_grad_norm, for the next step() only
};

}  // namespace s2s
