// Runs each example program of examples/ and checks the numbers it prints.
#include <gtest/gtest.h>

#include <cstdio>
#include <regex>
#include <sstream>
#include <vector>

#include "support/run_command.h"

namespace s2s {
namespace {

using test::run_command;

std::string example(const std::string& name) {
  return std::string(S2S_EXAMPLES_DIR) + "/" + name;
}

TEST(Examples, AutogradPrints18And6) {
  const auto result = run_command("'" + example("autograd") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  EXPECT_EQ(result.out, "x=3 y=9\nda=18 db=6\n");
}

TEST(Examples, TwoLayerNetLossFalls) {
  const auto result = run_command("'" + example("two_layer_net") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  // "step  50  loss 1234.5" every 50 steps, from step 0 to step 500.
  const std::regex step_line(R"(step\s+(\d+)\s+loss\s+(\S+))");
  std::vector<std::pair<int, double>> losses;
  std::istringstream lines(result.out);
  std::string line;
  while (std::getline(lines, line)) {
    std::smatch match;
    if (std::regex_match(line, match, step_line)) {
      losses.emplace_back(std::stoi(match[1]), std::stod(match[2]));
    }
  }
  ASSERT_EQ(losses.size(), 11u) << result.out;
  EXPECT_EQ(losses.front().first, 0);
  EXPECT_EQ(losses.back().first, 500);
  // Random weights start far off (loss in the millions); gradient descent brings it down by
  // many orders of magnitude, and every printed loss is lower than the one before.
  EXPECT_GT(losses.front().second, 1e5) << result.out;
  EXPECT_LT(losses.back().second, losses.front().second / 1e4) << result.out;
  for (size_t i = 1; i < losses.size(); ++i) {
    EXPECT_LT(losses[i].second, losses[i - 1].second) << "at step " << losses[i].first;
  }
}

TEST(Examples, OneDnnCheckShowsConvolutionThenInnerProduct) {
  const auto result = run_command("'" + example("onednn_check") + "'");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  const std::string& out = result.out;
  const auto dense = out.find("--- Conv2d + Linear on ordinary (dense) tensors");
  const auto mkldnn = out.find("--- the same Linear on a oneDNN (mkldnn) tensor");
  const auto done = out.find("--- done");
  ASSERT_NE(dense, std::string::npos) << out;
  ASSERT_NE(mkldnn, std::string::npos) << out;
  ASSERT_NE(done, std::string::npos) << out;
  ASSERT_LT(dense, mkldnn);
  ASSERT_LT(mkldnn, done);
  // The Conv2d ran on oneDNN, a convolution of batch 4, 3 -> 8 channels, 8x8 -> 6x6 ...
  const std::string dense_part = out.substr(dense, mkldnn - dense);
  EXPECT_NE(dense_part.find("onednn_verbose,exec,cpu,convolution,"), std::string::npos) << out;
  EXPECT_NE(dense_part.find("mb4_ic3oc8_ih8oh6kh3"), std::string::npos) << out;
  // ... the dense Linear did not (it went to BLAS) ...
  EXPECT_EQ(dense_part.find("inner_product"), std::string::npos) << out;
  // ... and the mkldnn Linear is a oneDNN inner_product of 4 x 288 -> 10.
  const std::string mkldnn_part = out.substr(mkldnn, done - mkldnn);
  EXPECT_NE(mkldnn_part.find("onednn_verbose,exec,cpu,inner_product,"), std::string::npos) << out;
  EXPECT_NE(mkldnn_part.find("mb4ic288oc10"), std::string::npos) << out;
  // Both Linears agree.
  std::smatch match;
  const std::string tail = out.substr(done);
  ASSERT_TRUE(std::regex_search(tail, match, std::regex(R"(differ by at most (\S+))"))) << out;
  EXPECT_LT(std::stod(match[1]), 1e-4);
  EXPECT_NE(tail.find("output shape [4, 10]"), std::string::npos) << out;
}

}  // namespace
}  // namespace s2s
