// Runs every command block of the course walkthrough (docs/course/README.md; the Chinese file
// holds the same blocks, walkthrough_test.cpp checks that) in document order, as a learner
// would: from the repository root with the binaries in build/. Each block must exit 0 and print
// the lines of the output block that follows it, in order.
//
// The "repository root" is a scratch directory of symlinks to the source tree's top-level
// entries, with build/ pointing at this build and runs/ fresh and empty, so the walkthrough's
// files land there and not in the source tree.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <fmt/core.h>

#include "docs/walkthrough.h"
#include "support/run_command.h"

namespace s2s::walkthrough {
namespace {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// A stand-in for the repository root: the source tree's entries, this build as build/.
fs::path make_root(const fs::path& base) {
  const fs::path source = S2S_SOURCE_DIR;
  const fs::path root = base / "repo";
  fs::create_directories(root);
  for (const auto& entry : fs::directory_iterator(source)) {
    const std::string name = entry.path().filename().string();
    if (name.rfind("build", 0) == 0 || name == "runs" || name == ".git") continue;
    fs::create_symlink(entry.path(), root / name);
  }
  fs::create_directory_symlink(fs::path(S2S_BINARY_DIR), root / "build");
  return root;
}

TEST(WalkthroughRun, EveryCommandBlockRunsAndPrintsWhatTheTextPromises) {
  const ParsedDoc doc = parse(read_text(fs::path(S2S_SOURCE_DIR) / "docs/course/README.md"));
  ASSERT_TRUE(doc.problems.empty()) << doc.problems.front();

  const fs::path base = fs::temp_directory_path() / fmt::format("s2s-walkthrough-{}", getpid());
  fs::remove_all(base);
  const fs::path root = make_root(base);

  int ran = 0;
  for (size_t i = 0; i < doc.blocks.size(); ++i) {
    const Block& block = doc.blocks[i];
    if (block.kind != BlockKind::Run) continue;
    const fs::path script = base / fmt::format("block-{}.sh", block.line);
    std::ofstream(script) << block.text;
    const auto start = std::chrono::steady_clock::now();
    const test::CommandResult result =
        test::run_command("cd " + quote(root.string()) + " && bash -e -o pipefail " +
                          quote(script.string()) + " 2>&1");
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << fmt::format("README.md line {}: exit {} after {:.1f} s\n", block.line,
                             result.exit_code, seconds);
    ++ran;
    // Later blocks use what earlier ones made: stop at the first command that fails.
    ASSERT_EQ(result.exit_code, 0) << "docs/course/README.md line " << block.line << ":\n"
                                   << block.text << "--- printed:\n"
                                   << result.out;
    if (i + 1 < doc.blocks.size() && doc.blocks[i + 1].kind == BlockKind::Output) {
      const Block& promised = doc.blocks[i + 1];
      const auto missing = first_unmatched(promised.text, result.out);
      EXPECT_EQ(missing, std::nullopt)
          << "docs/course/README.md line " << promised.line << " promises the line\n  "
          << missing.value_or("") << "\n(in this order) from\n"
          << block.text << "--- which printed:\n"
          << result.out;
    }
  }
  EXPECT_GE(ran, 10);
  if (!HasFailure()) fs::remove_all(base);  // keep the files of a failed run to look at
}

// The commands shown but not run (installing, servers, hour-long runs) cannot be run here, but
// they must still name a program that exists, and an s2s subcommand that exists with flags it
// accepts: `--help` appended makes s2s parse the line and print the subcommand's usage.
TEST(WalkthroughRun, CommandsNotRunStillNameRealProgramsSubcommandsAndFlags) {
  const fs::path source = S2S_SOURCE_DIR;
  const ParsedDoc doc = parse(read_text(source / "docs/course/README.md"));
  int checked = 0;
  for (const Block& block : doc.blocks) {
    if (block.kind != BlockKind::NotRun) continue;
    std::istringstream lines(block.text);
    for (std::string line; std::getline(lines, line);) {
      if (line.empty() || line[0] == '#') continue;
      ASSERT_NE(line.back(), '\\') << "README.md line " << block.line << ": keep not-run commands "
                                   << "on one line each, so this test can check them";
      std::istringstream words(line);
      std::string program, subcommand;
      words >> program >> subcommand;
      ++checked;
      if (program != "build/s2s") {
        EXPECT_EQ(access((source / program).c_str(), X_OK), 0)
            << "README.md line " << block.line << ": " << program << " is not an executable file";
        continue;
      }
      const test::CommandResult help =
          test::run_command("cd " + quote(source.string()) + " && " + std::string(S2S_CLI_PATH) +
                            line.substr(program.size()) + " --help 2>&1");
      EXPECT_EQ(help.exit_code, 0) << "README.md line " << block.line << ": " << help.out;
      EXPECT_NE(help.out.find("Usage: s2s " + subcommand + " "), std::string::npos)
          << "README.md line " << block.line << ": no subcommand '" << subcommand << "'";
    }
  }
  EXPECT_GE(checked, 4);
}

}  // namespace
}  // namespace s2s::walkthrough
