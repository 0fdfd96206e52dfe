// The course's autograd example: torch records every operation on tensors that require
// gradients, and backward() walks that record in reverse to get dy/da and dy/db.
//
//   a = 1, b = 2
//   x = a + a*b        -> 3
//   y = x^2            -> 9
//   dy/da = 2x * (1 + b) = 2*3*3 = 18
//   dy/db = 2x * a       = 2*3*1 = 6
#include <torch/torch.h>

#include <iostream>

int main() {
  // requires_grad(true): "I want the gradient of the result with respect to this tensor".
  const auto options = torch::dtype(torch::kFloat64).requires_grad(true);
  const torch::Tensor a = torch::tensor(1.0, options);
  const torch::Tensor b = torch::tensor(2.0, options);

  // The forward pass builds the graph as it computes.
  const torch::Tensor x = a + a * b;
  const torch::Tensor y = x.pow(2);
  std::cout << "x=" << x.item<double>() << " y=" << y.item<double>() << "\n";

  // The backward pass fills a.grad() and b.grad().
  y.backward();
  std::cout << "da=" << a.grad().item<double>() << " db=" << b.grad().item<double>() << "\n";
  return 0;
}
