// The dispatcher (src/cli/main.cpp) as a user meets it: which words it accepts, what it prints
// for each kind of mistake, and the exit codes it promises (0 success, 2 bad input). The
// commands themselves are tested beside their library area (tests/<area>/cli_test.cpp).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/run_command.h"

namespace {

using s2s::test::run_cli;

// Every command registered in src/cli/main.cpp (kCommands). A command added there and not
// here, or the reverse, fails EveryCommandIsListedInTheHelp.
const std::vector<std::string> kCommands = {"dashboard", "data",  "doctor", "eval",  "experiment",
                                            "export",    "gen",   "import", "infer", "launch",
                                            "plot",      "serve", "train"};

TEST(CliMain, NoCommandIsBadInput) {
  const auto r = run_cli("");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: A subcommand is required\nRun with --help for usage.\n");
}

TEST(CliMain, UnknownCommandIsNamedWithTheCommandsThereAre) {
  const auto r = run_cli("trian --epochs 3");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out,
            "s2s: error: unknown command 'trian' (commands: dashboard, data, doctor, eval, "
            "experiment, export, gen, import, infer, launch, plot, serve, train)\nRun with --help "
            "for usage.\n");
}

TEST(CliMain, AFlagValueThatDoesNotParseNamesTheFlag) {
  const auto r = run_cli("train --layers abc");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: Could not convert: --layers = abc\nRun with --help for usage.\n");
}

TEST(CliMain, AMisspeltFlagIsNamedRatherThanTheRequiredOneItMissed) {
  const auto r = run_cli("eval --modle x.pt --data y.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: unknown flag or argument: --modle\nRun with --help for usage.\n");
}

TEST(CliMain, AnUnknownFlagAfterTheRequiredOnesIsNamed) {
  const auto r = run_cli("data check /nonexistent.csv --frobnicate");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.out.find("s2s: error: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("--frobnicate"), std::string::npos) << r.out;
}

TEST(CliMain, LibraryErrorsAreOneLineWithTheirExitCode) {
  const auto r = run_cli("eval --model /nonexistent/best.pt --data /nonexistent/valid.csv");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: /nonexistent/best.pt: cannot open checkpoint\n");
}

TEST(CliMain, VersionNamesTheLibrariesItRunsOn) {
  const auto r = run_cli("--version");
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("s2s ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("LibTorch "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("oneDNN "), std::string::npos) << r.out;
}

TEST(CliMain, EveryCommandIsListedInTheHelp) {
  const auto r = run_cli("--help");
  EXPECT_EQ(r.exit_code, 0);
  const size_t start = r.out.find("Subcommands:");
  ASSERT_NE(start, std::string::npos) << r.out;
  std::vector<std::string> listed;
  size_t line = r.out.find('\n', start);
  while (line != std::string::npos && line + 1 < r.out.size() &&
         r.out.compare(line + 1, 2, "  ") == 0) {
    const size_t name = r.out.find_first_not_of(' ', line + 1);
    listed.push_back(r.out.substr(name, r.out.find(' ', name) - name));
    line = r.out.find('\n', line + 1);
  }
  EXPECT_EQ(listed, kCommands);
}

TEST(CliMain, EveryCommandHelpTeachesWithExamples) {
  for (const std::string& command : kCommands) {
    const auto r = run_cli(command + " --help");
    EXPECT_EQ(r.exit_code, 0) << command;
    EXPECT_NE(r.out.find("\nExamples:\n"), std::string::npos)
        << command << " --help has no examples";
    EXPECT_NE(r.out.find("  s2s " + command), std::string::npos)
        << command << " --help has no example of itself";
  }
}

}  // namespace
