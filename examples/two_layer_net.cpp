// The course's first figure: a two-layer network trained by hand.
//
//   x (64 x 1000) --·w1--> (64 x 100) --ReLU--> --·w2--> y_pred (64 x 10)
//   loss = sum((y_pred - y)^2)
//
// Autograd computes d loss / d w1 and d loss / d w2; we update the weights ourselves with plain
// gradient descent (w -= learning_rate * grad), which is what an optimizer such as Adam does
// for us later, with more cleverness. The loss printed every 50 steps falls steadily.
#include <torch/torch.h>

#include <cstdio>

int main() {
  torch::manual_seed(0);  // the same random data and weights on every run
  const int64_t batch = 64, in = 1000, hidden = 100, out = 10;

  // Random inputs and random targets: the net learns to map one to the other.
  const torch::Tensor x = torch::randn({batch, in});
  const torch::Tensor y = torch::randn({batch, out});

  // The weights are what we learn, so autograd must track them.
  torch::Tensor w1 = torch::randn({in, hidden}, torch::requires_grad());
  torch::Tensor w2 = torch::randn({hidden, out}, torch::requires_grad());

  const double learning_rate = 1e-6;
  const int steps = 500;
  for (int step = 0; step <= steps; ++step) {
    // Forward: matrix multiply, ReLU (clamp negatives to 0), matrix multiply.
    const torch::Tensor y_pred = x.mm(w1).clamp_min(0).mm(w2);
    const torch::Tensor loss = (y_pred - y).pow(2).sum();
    if (step % 50 == 0) std::printf("step %3d  loss %.6g\n", step, loss.item<double>());
    if (step == steps) break;

    // Backward: fills w1.grad() and w2.grad().
    loss.backward();

    // The update must not itself be recorded in the graph, hence NoGradGuard.
    {
      torch::NoGradGuard no_grad;
      w1 -= learning_rate * w1.grad();
      w2 -= learning_rate * w2.grad();
      // Gradients accumulate across backward() calls: reset them for the next step.
      w1.grad().zero_();
      w2.grad().zero_();
    }
  }
  return 0;
}
