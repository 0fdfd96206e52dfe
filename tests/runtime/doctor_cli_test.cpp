// `s2s doctor` as a user runs it: exit status and JSON, on this machine's stack and with
// Debian's reference BLAS forced in front of OpenBLAS.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "support/run_command.h"

namespace s2s {
namespace {

using test::run_command;

const std::string kCli = S2S_CLI_PATH;
// Debian's reference BLAS (package libblas3), the slow fallback the doctor must catch.
const std::string kReferenceBlas = "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3";

TEST(DoctorCli, JsonOnThisMachinePassesEveryCheck) {
  const auto result = run_command("'" + kCli + "' doctor --json");
  ASSERT_EQ(result.exit_code, 0) << result.out;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json.at("ok"), true);
  EXPECT_EQ(json.at("blas").at("is_reference"), false);
  EXPECT_EQ(json.at("onednn").at("ran"), true);
  EXPECT_EQ(json.at("autograd").at("da"), 18.0);
  EXPECT_EQ(json.at("autograd").at("db"), 6.0);
  EXPECT_EQ(json.at("versions").at("s2s"), "0.1.0");
  // Threads come from configure_runtime(): at least one, at most what the machine has.
  EXPECT_GE(json.at("threads").at("torch_intra_op").get<int>(), 1);
  EXPECT_LE(json.at("threads").at("torch_intra_op").get<int>(),
            json.at("threads").at("hardware_concurrency").get<int>());
}

TEST(DoctorCli, DetectsReferenceBlasAndFails) {
  // LD_PRELOAD puts the reference library first in the symbol search order, so torch's sgemm_
  // calls land there: exactly what a wrong libblas.so.3 alternative does.
  const auto result = run_command("LD_PRELOAD=" + kReferenceBlas + " '" + kCli + "' doctor --json");
  EXPECT_EQ(result.exit_code, 1) << result.out;
  const auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json.at("ok"), false);
  EXPECT_EQ(json.at("blas").at("is_reference"), true);
  EXPECT_EQ(json.at("blas").at("library").get<std::string>().rfind(
                "/usr/lib/x86_64-linux-gnu/blas/libblas.so.3", 0),
            0u);
  ASSERT_EQ(json.at("warnings").size(), 1u);
  EXPECT_NE(json.at("warnings")[0].get<std::string>().find("reference BLAS"), std::string::npos);
  // Everything else still works: only the BLAS check fails.
  EXPECT_EQ(json.at("onednn").at("ran"), true);
  EXPECT_EQ(json.at("autograd").at("da"), 18.0);
}

TEST(DoctorCli, ReferenceBlasThroughLibraryPathWarnsInText) {
  // The other way users end up there: a library path that shadows the system's libblas.so.3.
  const auto result =
      run_command("LD_LIBRARY_PATH=/usr/lib/x86_64-linux-gnu/blas '" + kCli + "' doctor");
  EXPECT_EQ(result.exit_code, 1) << result.out;
  EXPECT_NE(result.out.find("WARNING: BLAS is the unoptimised reference BLAS"), std::string::npos)
      << result.out;
  EXPECT_NE(result.out.find("FAILED: 1 check(s) did not pass."), std::string::npos);
}

TEST(DoctorCli, HelpTeachesWithExamples) {
  const auto result = run_command("'" + kCli + "' doctor --help");
  EXPECT_EQ(result.exit_code, 0);
  EXPECT_NE(result.out.find("--json"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Examples:"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("Exit status"), std::string::npos) << result.out;
}

TEST(DoctorCli, UnknownFlagIsBadInput) {
  const auto result = run_command("'" + kCli + "' doctor --jsn 2>&1");
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.out.find("s2s: error:"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace s2s
