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

 private:
  bool fusable() const;
};

}  // namespace s2s
