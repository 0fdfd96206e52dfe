// run_doctor() in this process: the checks' numbers and both output formats.
#include "s2s/doctor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "s2s/runtime.h"

namespace s2s {
namespace {

bool has(const std::vector<std::string>& items, const std::string& item) {
  return std::find(items.begin(), items.end(), item) != items.end();
}

// The checks take about a second: run them once for the whole suite.
const DoctorReport& report() {
  static const DoctorReport kReport = [] {
    configure_runtime();
    return run_doctor();
  }();
  return kReport;
}

TEST(Doctor, AutogradExampleGives18And6) {
  EXPECT_EQ(report().autograd.da, 18.0);
  EXPECT_EQ(report().autograd.db, 6.0);
  EXPECT_TRUE(report().autograd.ok);
}

TEST(Doctor, ConvolutionAndInnerProductRanOnOneDnn) {
  const OneDnnInfo& onednn = report().onednn;
  EXPECT_TRUE(onednn.ran);
  EXPECT_TRUE(has(onednn.primitives, "convolution"));
  EXPECT_TRUE(has(onednn.primitives, "inner_product"));
  // Every parsed execution names an implementation such as "jit:avx512_core".
  ASSERT_FALSE(onednn.executions.empty());
  for (const OneDnnExec& exec : onednn.executions) {
    EXPECT_FALSE(exec.implementation.empty()) << exec.primitive;
    EXPECT_GE(exec.time_ms, 0.0);
  }
  // The Conv2d's problem descriptor is the net's shape: batch 4, 3 -> 8 channels, 8x8 -> 6x6.
  const auto conv = std::find_if(onednn.executions.begin(), onednn.executions.end(),
                                 [](const OneDnnExec& e) { return e.primitive == "convolution"; });
  ASSERT_NE(conv, onednn.executions.end());
  EXPECT_EQ(conv->problem.rfind("mb4_ic3oc8_ih8oh6kh3", 0), 0u) << conv->problem;
  // The oneDNN Linear computes what the BLAS Linear computes.
  EXPECT_LT(onednn.linear_max_abs_diff, 1e-4);
}

TEST(Doctor, ReportsWhereEachLayerRan) {
  const auto& layers = report().onednn.layers;
  ASSERT_EQ(layers.size(), 3u);
  EXPECT_EQ(layers[0].layer, "Conv2d");
  EXPECT_EQ(layers[0].backend.rfind("oneDNN convolution (", 0), 0u) << layers[0].backend;
  EXPECT_EQ(layers[1].layer, "Linear");
  EXPECT_EQ(layers[1].backend.rfind("BLAS sgemm_ via OpenBLAS", 0), 0u) << layers[1].backend;
  EXPECT_EQ(layers[2].layer, "Linear (to_mkldnn)");
  EXPECT_EQ(layers[2].backend.rfind("oneDNN inner_product (", 0), 0u) << layers[2].backend;
}

TEST(Doctor, BlasOnThisMachineIsOpenBlas) {
  const BlasInfo& blas = report().blas;
  EXPECT_FALSE(blas.is_reference) << blas.library;
  EXPECT_EQ(blas.vendor, "OpenBLAS") << blas.library;
  EXPECT_TRUE(has(blas.loaded, blas.library));
  EXPECT_EQ(blas.sgemm_size, 512);
  EXPECT_GT(blas.sgemm_gflops, 0.0);
}

TEST(Doctor, ThreadsFollowConfigureRuntime) {
  const ThreadInfo& threads = report().threads;
  EXPECT_GE(threads.torch_intra_op, 1);
  EXPECT_GE(threads.torch_inter_op, 1);
  EXPECT_GE(threads.hardware_concurrency, 1);
}

TEST(Doctor, OkWhenEveryCheckPasses) {
  EXPECT_TRUE(report().ok);
  EXPECT_TRUE(report().warnings.empty());
}

TEST(DoctorFormat, JsonHasTheDocumentedFields) {
  const auto json = nlohmann::json::parse(format_doctor_json(report()));
  EXPECT_EQ(json.at("ok"), true);
  EXPECT_EQ(json.at("versions").at("libtorch").get<std::string>().substr(0, 4), "1.13");
  EXPECT_EQ(json.at("versions").at("onednn"), report().onednn.version);
  EXPECT_EQ(json.at("blas").at("library"), report().blas.library);
  EXPECT_EQ(json.at("blas").at("is_reference"), false);
  EXPECT_GT(json.at("blas").at("sgemm_gflops").get<double>(), 0.0);
  EXPECT_EQ(json.at("onednn").at("ran"), true);
  EXPECT_EQ(json.at("onednn").at("isa"), report().onednn.isa);
  EXPECT_EQ(json.at("onednn").at("primitives"), report().onednn.primitives);
  EXPECT_FALSE(json.at("onednn").contains("verbose_lines"));
  EXPECT_EQ(json.at("threads").at("torch_intra_op"), report().threads.torch_intra_op);
  EXPECT_EQ(json.at("autograd").at("da"), 18.0);
  EXPECT_EQ(json.at("autograd").at("db"), 6.0);
  const auto verbose = nlohmann::json::parse(format_doctor_json(report(), true));
  EXPECT_EQ(verbose.at("onednn").at("verbose_lines").size(), report().onednn.verbose_lines.size());
}

TEST(DoctorFormat, TextEndsWithTheVerdict) {
  const std::string text = format_doctor_text(report());
  EXPECT_NE(text.find("da = 18, db = 6"), std::string::npos) << text;
  EXPECT_NE(text.find("Conv2d              oneDNN convolution"), std::string::npos) << text;
  EXPECT_NE(text.find(report().blas.library), std::string::npos);
  const std::string verdict = "\nOK: every check passed.\n";
  ASSERT_GT(text.size(), verdict.size());
  EXPECT_EQ(text.substr(text.size() - verdict.size()), verdict);
}

TEST(DoctorFormat, FailedReportListsEachWarning) {
  DoctorReport failed = report();
  failed.ok = false;
  failed.blas.is_reference = true;
  failed.warnings = {"BLAS is the unoptimised reference BLAS (x)", "oneDNN did not run"};
  const std::string text = format_doctor_text(failed);
  EXPECT_NE(text.find("WARNING: BLAS is the unoptimised reference BLAS (x)\n"), std::string::npos);
  EXPECT_NE(text.find("WARNING: oneDNN did not run\n"), std::string::npos);
  EXPECT_NE(text.find("<- REFERENCE BLAS, slow"), std::string::npos);
  EXPECT_NE(text.find("FAILED: 2 check(s) did not pass."), std::string::npos);
  const auto json = nlohmann::json::parse(format_doctor_json(failed));
  EXPECT_EQ(json.at("ok"), false);
  EXPECT_EQ(json.at("warnings").size(), 2u);
}

}  // namespace
}  // namespace s2s
