// The course's "is the Intel optimization on?" check: run a small net with one Conv2d and one
// Linear while oneDNN (formerly MKL-DNN) prints a line for every primitive it executes.
//
// Each line looks like
//   onednn_verbose,exec,cpu,convolution,jit:avx512_core,forward_training,...,0.09
// naming the primitive (convolution, inner_product, reorder...), the implementation and the
// instruction set it used (jit:avx2, jit:avx512_core...), and the time in milliseconds.
// The same lines appear with the environment variable ONEDNN_VERBOSE=1 (MKLDNN_VERBOSE=1 in
// the course); here we switch them on from code.
//
// What to expect with Debian's LibTorch: the Conv2d runs on oneDNN, but the dense Linear runs
// on the system BLAS (OpenBLAS; this LibTorch has no MKL, so MKL_VERBOSE prints nothing). To
// run the Linear on oneDNN too, we give it a tensor in oneDNN's own layout (to_mkldnn).
#include <torch/torch.h>

#include <dnnl.hpp>
#include <iostream>

int main() {
  torch::NoGradGuard no_grad;  // inference only: no gradients needed
  torch::manual_seed(0);

  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(3, 8, 3));  // 3 -> 8 channels, 3x3 kernel
  torch::nn::Linear linear(8 * 6 * 6, 10);                    // 8 maps of 6x6 -> 10 outputs
  // A batch of 4 RGB images of 8x8 pixels. Torch sends batched float convolutions to oneDNN.
  const torch::Tensor images = torch::randn({4, 3, 8, 8});

  dnnl::set_verbose(1);  // from here on, oneDNN prints one line per primitive it executes

  std::cout << "--- Conv2d + Linear on ordinary (dense) tensors" << std::endl;
  const torch::Tensor features = conv->forward(images).flatten(1);
  const torch::Tensor dense_out = linear->forward(features);

  std::cout << "--- the same Linear on a oneDNN (mkldnn) tensor" << std::endl;
  const torch::Tensor onednn_out =
      at::mkldnn_linear(features.to_mkldnn(), linear->weight, linear->bias).to_dense();

  dnnl::set_verbose(0);
  std::cout << "--- done\n"
            << "output shape " << dense_out.sizes() << ", oneDNN and BLAS Linear differ by at most "
            << (onednn_out - dense_out).abs().max().item<double>() << std::endl;
  return 0;
}
