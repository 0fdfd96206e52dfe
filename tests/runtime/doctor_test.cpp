// run_doctor() in this process, and both output formats on a report with known values.
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

TEST(Doctor, EveryCheckPassesOnThisMachine) {
  const int64_t threads = configure_runtime();
  const DoctorReport report = run_doctor();
  EXPECT_TRUE(report.ok);
  EXPECT_TRUE(report.warnings.empty());
  // The course's autograd example, exactly.
  EXPECT_EQ(report.autograd.da, 18.0);
  EXPECT_EQ(report.autograd.db, 6.0);
  EXPECT_TRUE(report.autograd.ok);
  // setup installs OpenBLAS as libblas.so.3: torch's sgemm_ must land there.
  EXPECT_FALSE(report.blas.is_reference) << report.blas.library;
  EXPECT_EQ(report.blas.vendor, "OpenBLAS") << report.blas.library;
  EXPECT_TRUE(has(report.blas.loaded, report.blas.library));
  EXPECT_EQ(report.blas.sgemm_size, 512);
  EXPECT_GT(report.blas.sgemm_gflops, 0.0);
  // The doctor reports the threads configure_runtime() set (the policy is tested elsewhere).
  EXPECT_EQ(report.threads.torch_intra_op, threads);
  EXPECT_GE(report.threads.torch_inter_op, 1);
}

TEST(Doctor, ConvolutionAndInnerProductRanOnOneDnn) {
  const OneDnnInfo onednn = run_doctor().onednn;
  EXPECT_TRUE(onednn.ran);
  EXPECT_TRUE(has(onednn.primitives, "convolution"));
  EXPECT_TRUE(has(onednn.primitives, "inner_product"));
  ASSERT_FALSE(onednn.executions.empty());
  for (const OneDnnExec& exec : onednn.executions) {
    EXPECT_FALSE(exec.implementation.empty()) << exec.primitive;
    EXPECT_GE(exec.time_ms, 0.0);
  }
  // The Conv2d's problem is the net's shape: batch 4, 3 -> 8 channels, 8x8 -> 6x6, 3x3 kernel.
  const auto conv = std::find_if(onednn.executions.begin(), onednn.executions.end(),
                                 [](const OneDnnExec& e) { return e.primitive == "convolution"; });
  ASSERT_NE(conv, onednn.executions.end());
  EXPECT_EQ(conv->problem.rfind("mb4_ic3oc8_ih8oh6kh3", 0), 0u) << conv->problem;
  // Where each layer ran: Conv2d on oneDNN, dense Linear on BLAS, mkldnn Linear on oneDNN.
  ASSERT_EQ(onednn.layers.size(), 3u);
  EXPECT_EQ(onednn.layers[0].layer, "Conv2d");
  EXPECT_EQ(onednn.layers[0].backend.rfind("oneDNN convolution (", 0), 0u);
  EXPECT_EQ(onednn.layers[1].layer, "Linear");
  EXPECT_EQ(onednn.layers[1].backend, "BLAS sgemm_ via OpenBLAS (no oneDNN line)");
  EXPECT_EQ(onednn.layers[2].layer, "Linear (to_mkldnn)");
  EXPECT_EQ(onednn.layers[2].backend.rfind("oneDNN inner_product (", 0), 0u);
  // The oneDNN Linear computes what the BLAS Linear computes.
  EXPECT_LT(onednn.linear_max_abs_diff, 1e-4);
  // The ISA the compute primitives used is named and is one this CPU has ("avx512_core" here,
  // "avx2" on older machines), never "uni"/"any" of a plain reorder.
  ASSERT_FALSE(onednn.isa_used.empty());
  for (const std::string& isa : onednn.isa_used) {
    EXPECT_EQ(isa.rfind("avx", 0), 0u) << isa;
  }
  // A second run in the same process still sees its lines (verbose is switched per run).
  EXPECT_FALSE(onednn.verbose_lines.empty());
}

// A report with known values, so the formats can be checked line by line.
DoctorReport known_report() {
  DoctorReport report;
  report.ok = true;
  report.versions = {{"s2s", "0.1.0"}, {"libtorch", "1.13.0"}, {"onednn", "2.6.3"}};
  report.torch = {{"cpu_capability", "AVX2"}, {"mkldnn", "yes"}};
  report.blas.library = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3";
  report.blas.vendor = "OpenBLAS";
  report.blas.loaded = {report.blas.library};
  report.blas.openblas_parallel = "openmp";
  report.blas.openblas_threads = 2;
  report.blas.sgemm_size = 512;
  report.blas.sgemm_gflops = 41.3;
  report.onednn.version = "2.6.3";
  report.onednn.ran = true;
  report.onednn.isa = "avx512_core";
  report.onednn.isa_used = {"avx512_core"};
  report.onednn.primitives = {"reorder", "convolution"};
  report.onednn.executions = {{"reorder", "jit:uni", "8x3x3x3", 0.004},
                              {"convolution", "jit:avx512_core", "mb4_ic3oc8", 0.09}};
  report.onednn.layers = {{"Conv2d", "oneDNN convolution (jit:avx512_core)"}};
  report.onednn.verbose_lines = {"onednn_verbose,exec,cpu,reorder,jit:uni,,,,8x3x3x3,0.004"};
  report.threads.torch_intra_op = 2;
  report.threads.torch_inter_op = 1;
  report.threads.omp_max_threads = 2;
  report.threads.hardware_concurrency = 2;
  report.threads.env = {{"OMP_NUM_THREADS", "2"}};
  report.autograd = {18.0, 6.0, true};
  return report;
}

TEST(DoctorFormat, JsonHasTheDocumentedFields) {
  const auto json = nlohmann::json::parse(format_doctor_json(known_report()));
  EXPECT_EQ(json.at("ok"), true);
  EXPECT_EQ(json.at("versions"),
            nlohmann::json({{"s2s", "0.1.0"}, {"libtorch", "1.13.0"}, {"onednn", "2.6.3"}}));
  EXPECT_EQ(json.at("blas").at("library"),
            "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3");
  EXPECT_EQ(json.at("blas").at("is_reference"), false);
  EXPECT_EQ(json.at("blas").at("sgemm_gflops"), 41.3);
  EXPECT_EQ(json.at("onednn").at("version"), "2.6.3");
  EXPECT_EQ(json.at("onednn").at("ran"), true);
  EXPECT_EQ(json.at("onednn").at("isa"), "avx512_core");
  EXPECT_EQ(json.at("onednn").at("isa_used"), nlohmann::json({"avx512_core"}));
  EXPECT_EQ(json.at("onednn").at("primitives"), nlohmann::json({"reorder", "convolution"}));
  EXPECT_EQ(json.at("onednn").at("executions")[1].at("implementation"), "jit:avx512_core");
  EXPECT_EQ(json.at("onednn").at("layers")[0].at("backend"),
            "oneDNN convolution (jit:avx512_core)");
  EXPECT_FALSE(json.at("onednn").contains("verbose_lines"));
  EXPECT_EQ(json.at("threads").at("torch_intra_op"), 2);
  EXPECT_EQ(json.at("threads").at("env").at("OMP_NUM_THREADS"), "2");
  EXPECT_EQ(json.at("autograd").at("da"), 18.0);
  EXPECT_EQ(json.at("autograd").at("db"), 6.0);
  EXPECT_TRUE(json.at("warnings").empty());
  // --verbose adds the raw lines.
  const auto verbose = nlohmann::json::parse(format_doctor_json(known_report(), true));
  EXPECT_EQ(verbose.at("onednn").at("verbose_lines").size(), 1u);
}

TEST(DoctorFormat, TextShowsEachCheckAndEndsWithTheVerdict) {
  const std::string text = format_doctor_text(known_report());
  for (const char* expected :
       {"  library    /usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3\n",
        "  vendor     OpenBLAS\n", "  OpenBLAS   openmp threading, 2 threads\n",
        "  sgemm      41.3 GFLOP/s (512x512 float matmul through torch::mm)\n",
        "  version    2.6.3, highest ISA avx512_core, used avx512_core\n",
        "  Conv2d              oneDNN convolution (jit:avx512_core)\n",
        "  primitives reorder, convolution (2 executions)\n",
        "  torch intra-op 2, inter-op 1; OpenMP max 2; OpenBLAS 2; cores 2\n",
        "  OMP_NUM_THREADS=2\n", "  da = 18, db = 6  (expected 18 and 6: ok)\n"}) {
    EXPECT_NE(text.find(expected), std::string::npos) << "missing: " << expected << text;
  }
  EXPECT_EQ(text.find("onednn_verbose"), std::string::npos);
  const std::string verdict = "\nOK: every check passed.\n";
  ASSERT_GT(text.size(), verdict.size());
  EXPECT_EQ(text.substr(text.size() - verdict.size()), verdict);
  EXPECT_NE(format_doctor_text(known_report(), true).find("    onednn_verbose,exec,cpu,reorder"),
            std::string::npos);
}

TEST(DoctorFormat, FailedReportListsEachWarning) {
  DoctorReport failed = known_report();
  failed.ok = false;
  failed.blas.library = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0";
  failed.blas.vendor = "reference BLAS (netlib)";
  failed.blas.is_reference = true;
  failed.warnings = {"BLAS is the unoptimised reference BLAS (x)", "oneDNN did not run"};
  const std::string text = format_doctor_text(failed);
  EXPECT_NE(text.find("  vendor     reference BLAS (netlib)  <- REFERENCE BLAS, slow\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("OpenBLAS   openmp threading, 2 threads (loaded, but sgemm_ resolves "
                      "elsewhere)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("WARNING: BLAS is the unoptimised reference BLAS (x)\n"), std::string::npos);
  EXPECT_NE(text.find("WARNING: oneDNN did not run\n"), std::string::npos);
  const std::string verdict = "\nFAILED: 2 check(s) did not pass.\n";
  ASSERT_GT(text.size(), verdict.size());
  EXPECT_EQ(text.substr(text.size() - verdict.size()), verdict);
  const auto json = nlohmann::json::parse(format_doctor_json(failed));
  EXPECT_EQ(json.at("ok"), false);
  EXPECT_EQ(json.at("blas").at("is_reference"), true);
  EXPECT_EQ(json.at("warnings"),
            nlohmann::json({"BLAS is the unoptimised reference BLAS (x)", "oneDNN did not run"}));
}

}  // namespace
}  // namespace s2s
