// The doctor's probes on known input: BLAS classification, /proc/self/maps parsing, oneDNN
// verbose parsing, stdout capture.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "runtime/doctor.h"

namespace s2s::doctor {
namespace {

constexpr const char* kReferenceBlas = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0";
constexpr const char* kOpenBlasWrapper = "/usr/lib/x86_64-linux-gnu/openblas-openmp/libblas.so.3";

TEST(BlasClassification, DebianReferenceBlasIsReference) {
  EXPECT_TRUE(is_reference_blas(kReferenceBlas));
  EXPECT_TRUE(is_reference_blas("/usr/lib/aarch64-linux-gnu/blas/libblas.so.3"));
  EXPECT_EQ(blas_vendor_of(kReferenceBlas), "reference BLAS (netlib)");
}

TEST(BlasClassification, OptimisedLibrariesAreNotReference) {
  EXPECT_FALSE(is_reference_blas(kOpenBlasWrapper));
  EXPECT_EQ(blas_vendor_of(kOpenBlasWrapper), "OpenBLAS");
  EXPECT_FALSE(is_reference_blas("/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3"));
  EXPECT_EQ(blas_vendor_of("/opt/intel/oneapi/mkl/lib/intel64/libmkl_rt.so.2"), "MKL");
  EXPECT_EQ(blas_vendor_of("/usr/lib/x86_64-linux-gnu/blis-openmp/libblas.so.3"), "BLIS");
  EXPECT_EQ(blas_vendor_of(""), "unknown");
}

TEST(BlasClassification, FindsBlasLibrariesInMapsOncePerPath) {
  const std::string maps =
      "55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234   /work/build/s2s\n"
      "7f0000000000-7f0000010000 r--p 00000000 08:01 42     /usr/lib/x86_64-linux-gnu/"
      "blas/libblas.so.3.11.0\n"
      "7f0000010000-7f0000020000 r-xp 00010000 08:01 42     /usr/lib/x86_64-linux-gnu/"
      "blas/libblas.so.3.11.0\n"
      "7f0000100000-7f0000200000 r-xp 00000000 08:01 77     /usr/lib/x86_64-linux-gnu/"
      "openblas-openmp/libopenblasp-r0.3.21.so\n"
      "7f0000300000-7f0000400000 r-xp 00000000 08:01 78     /usr/lib/x86_64-linux-gnu/"
      "liblapack.so.3\n"
      "7f0000500000-7f0000600000 rw-p 00000000 00:00 0      [heap]\n"
      "7f0000600000-7f0000700000 r-xp 00000000 08:01 79     /usr/lib/x86_64-linux-gnu/"
      "libtorch_cpu.so.1.13\n";
  const std::vector<std::string> expected = {
      "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3.11.0",
      "/usr/lib/x86_64-linux-gnu/openblas-openmp/libopenblasp-r0.3.21.so"};
  EXPECT_EQ(blas_libraries_in_maps(maps), expected);
}

TEST(BlasClassification, SgemmOfThisProcessComesFromAMappedLibrary) {
  // The test binary links torch, so sgemm_ is resolvable and the library owning it is mapped.
  const std::string library = library_providing("sgemm_");
  ASSERT_FALSE(library.empty());
  EXPECT_EQ(library.front(), '/');
  const auto loaded = blas_libraries_in_maps(read_proc_self_maps());
  EXPECT_NE(std::find(loaded.begin(), loaded.end(), library), loaded.end()) << library;
  EXPECT_EQ(library_providing("no_such_symbol_s2s_doctor"), "");
}

TEST(OneDnnVerbose, ParsesExecLinesOfOneDnn26) {
  const auto conv = parse_onednn_exec_line(
      "onednn_verbose,exec,cpu,convolution,jit:avx512_core,forward_training,src_f32::blocked:"
      "abcd:f0 wei_f32:p:blocked:Acdb16a:f0 bia_f32::blocked:a:f0 dst_f32:p:blocked:aBcd16b:f0,"
      "attr-scratchpad:user ,alg:convolution_direct,mb4_ic3oc8_ih8oh6kh3sh1dh0ph0_iw8ow6kw3sw1dw0"
      "pw0,0.0900879\n");
  ASSERT_TRUE(conv.has_value());
  EXPECT_EQ(conv->primitive, "convolution");
  EXPECT_EQ(conv->implementation, "jit:avx512_core");
  EXPECT_EQ(conv->problem, "mb4_ic3oc8_ih8oh6kh3sh1dh0ph0_iw8ow6kw3sw1dw0pw0");
  EXPECT_DOUBLE_EQ(conv->time_ms, 0.0900879);

  const auto ip = parse_onednn_exec_line(
      "onednn_verbose,exec,cpu,inner_product,brgemm:avx512_core,forward_training,src_f32::"
      "blocked:ab:f0 wei_f32:p:blocked:AB16b16a:f0 bia_f32::blocked:a:f0 dst_f32::blocked:ab:f0,"
      "attr-scratchpad:user ,,mb4ic288oc10,0.0600586");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->primitive, "inner_product");
  EXPECT_EQ(ip->implementation, "brgemm:avx512_core");
  EXPECT_EQ(ip->problem, "mb4ic288oc10");
}

TEST(OneDnnVerbose, ParsesOlderAndNewerPrefixes) {
  const auto old_mkldnn = parse_onednn_exec_line(
      "mkldnn_verbose,exec,convolution,jit:avx2,forward_training,fsrc:nchw,alg:"
      "convolution_direct,mb1_g1ic3oc8_ih8oh6kh3,0.25");
  ASSERT_TRUE(old_mkldnn.has_value());
  EXPECT_EQ(old_mkldnn->primitive, "convolution");
  EXPECT_EQ(old_mkldnn->implementation, "jit:avx2");
  const auto v3 = parse_onednn_exec_line(
      "onednn_verbose,primitive,exec,cpu,matmul,brg:avx512_core,undef,src_f32::blocked:ab::f0,"
      ",,2x3:3x4,0.01");
  ASSERT_TRUE(v3.has_value());
  EXPECT_EQ(v3->primitive, "matmul");
  EXPECT_EQ(v3->problem, "2x3:3x4");
}

TEST(OneDnnVerbose, RejectsInfoLinesAndOtherOutput) {
  EXPECT_FALSE(parse_onednn_exec_line("onednn_verbose,info,oneDNN v2.6.3 (commit N/A)"));
  EXPECT_FALSE(parse_onednn_exec_line("onednn_verbose,info,cpu,isa:Intel AVX2"));
  EXPECT_FALSE(parse_onednn_exec_line("epoch 3 loss 0.25"));
  EXPECT_FALSE(parse_onednn_exec_line(""));
  EXPECT_FALSE(parse_onednn_exec_line("onednn_verbose,exec,cpu,reorder,jit:uni,x,y,notanumber"));
}

TEST(OneDnnVerbose, KeepsOnlyVerboseLines) {
  const auto lines = onednn_verbose_lines(
      "hello\nonednn_verbose,info,cpu,runtime:OpenMP\nloss 1\ndnnl_verbose,exec,cpu,x,y,z,1\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "onednn_verbose,info,cpu,runtime:OpenMP");
  EXPECT_EQ(lines[1], "dnnl_verbose,exec,cpu,x,y,z,1");
}

TEST(CaptureStdout, CapturesStdioAndRawWritesThenRestores) {
  const std::string captured = capture_stdout([] {
    std::printf("from printf %d\n", 7);
    std::fflush(stdout);  // stdio buffers a file fully; oneDNN flushes after each line too
    const char raw[] = "from write\n";
    ASSERT_EQ(write(STDOUT_FILENO, raw, sizeof raw - 1), static_cast<ssize_t>(sizeof raw - 1));
  });
  EXPECT_EQ(captured, "from printf 7\nfrom write\n");
  // fd 1 is back: a second capture sees only its own output.
  EXPECT_EQ(capture_stdout([] { std::printf("second"); }), "second");
}

TEST(CaptureStdout, RestoresStdoutWhenTheFunctionThrows) {
  EXPECT_THROW(capture_stdout([] {
                 std::printf("lost");
                 throw std::runtime_error("boom");
               }),
               std::runtime_error);
  EXPECT_EQ(capture_stdout([] { std::printf("after"); }), "after");
}

TEST(OneDnnFacts, VersionAndIsaAreKnown) {
  EXPECT_EQ(onednn_version().substr(0, 2), "2.");
  const std::string isa = onednn_effective_isa();
  EXPECT_NE(isa, "unknown");
  EXPECT_NE(isa, "all");
}

// A report whose checks all passed, before the verdict.
DoctorReport passing_report() {
  DoctorReport report;
  report.blas.library = kOpenBlasWrapper;
  report.blas.vendor = "OpenBLAS";
  report.onednn.ran = true;
  report.onednn.linear_max_abs_diff = 1e-7;
  report.autograd = {18.0, 6.0, true};
  return report;
}

TEST(Verdict, OkWhenEveryCheckPasses) {
  DoctorReport report = passing_report();
  apply_verdict(report);
  EXPECT_TRUE(report.ok);
  EXPECT_TRUE(report.warnings.empty());
}

TEST(Verdict, ReferenceBlasFailsWithAFix) {
  DoctorReport report = passing_report();
  report.blas.library = kReferenceBlas;
  report.blas.is_reference = true;
  apply_verdict(report);
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_EQ(report.warnings[0].rfind(
                std::string("BLAS is the unoptimised reference BLAS (") + kReferenceBlas + ")", 0),
            0u)
      << report.warnings[0];
  EXPECT_NE(report.warnings[0].find("update-alternatives"), std::string::npos);
}

TEST(Verdict, MissingBlasFails) {
  DoctorReport report = passing_report();
  report.blas.library.clear();
  apply_verdict(report);
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("no sgemm_"), std::string::npos);
}

TEST(Verdict, OneDnnNotRunningFails) {
  DoctorReport report = passing_report();
  report.onednn.ran = false;
  apply_verdict(report);
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_EQ(report.warnings[0].rfind("oneDNN did not run", 0), 0u) << report.warnings[0];
}

TEST(Verdict, OneDnnDisagreeingWithBlasFails) {
  DoctorReport report = passing_report();
  report.onednn.linear_max_abs_diff = 0.5;
  apply_verdict(report);
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("differs from the BLAS Linear by 0.5"), std::string::npos)
      << report.warnings[0];
}

TEST(Verdict, WrongGradientsFailAndEveryProblemIsListed) {
  DoctorReport report = passing_report();
  report.autograd = {17.0, 6.0, false};
  report.onednn.ran = false;
  apply_verdict(report);
  EXPECT_FALSE(report.ok);
  ASSERT_EQ(report.warnings.size(), 2u);
  EXPECT_EQ(report.warnings[1], "autograd gave da=17, db=6, expected 18 and 6.");
}

}  // namespace
}  // namespace s2s::doctor
