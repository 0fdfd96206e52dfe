// The course walkthrough's static checks: the marker parser and the output matcher, the English
// and Chinese files sharing the very same command, output and code blocks, every shell block
// marked, every code excerpt still found in the file it quotes, and the README linking to both.
// (walkthrough_run_test.cpp runs the commands.)
#include <gtest/gtest.h>

#include <filesystem>

#include "docs/walkthrough.h"

namespace s2s::walkthrough {
namespace {

namespace fs = std::filesystem;

const fs::path kRoot = S2S_SOURCE_DIR;
const fs::path kEnglish = kRoot / "docs/course/README.md";
const fs::path kChinese = kRoot / "docs/course/README.zh-CN.md";

TEST(WalkthroughParser, ReadsMarkedBlocksAndIgnoresOthers) {
  const ParsedDoc doc = parse(
      "Intro\n"
      "<!-- walkthrough: run -->\n"
      "```sh\n"
      "build/s2s --version\n"
      "```\n"
      "<!-- walkthrough: output -->\n"
      "```text\n"
      "s2s ...\n"
      "```\n"
      "```text\n"
      "an unmarked output illustration\n"
      "```\n"
      "<!-- walkthrough: source examples/autograd.cpp -->\n"
      "```cpp\n"
      "  y.backward();\n"
      "```\n"
      "<!-- walkthrough: not run -->\n"
      "```sh\n"
      "scripts/setup\n"
      "```\n");
  EXPECT_TRUE(doc.problems.empty()) << doc.problems.front();
  ASSERT_EQ(doc.blocks.size(), 4u);
  EXPECT_EQ(doc.blocks[0].kind, BlockKind::Run);
  EXPECT_EQ(doc.blocks[0].text, "build/s2s --version\n");
  EXPECT_EQ(doc.blocks[0].line, 3);
  EXPECT_EQ(doc.blocks[1].kind, BlockKind::Output);
  EXPECT_EQ(doc.blocks[1].text, "s2s ...\n");
  EXPECT_EQ(doc.blocks[2].kind, BlockKind::Source);
  EXPECT_EQ(doc.blocks[2].path, "examples/autograd.cpp");
  EXPECT_EQ(doc.blocks[2].text, "  y.backward();\n");
  EXPECT_EQ(doc.blocks[3].kind, BlockKind::NotRun);
  EXPECT_EQ(doc.blocks[3].text, "scripts/setup\n");
}

TEST(WalkthroughParser, FlagsUnmarkedShellBlocksAndMisplacedMarkers) {
  const ParsedDoc doc = parse(
      "```sh\n"  // 1: unmarked shell block
      "rm -rf runs\n"
      "```\n"
      "<!-- walkthrough: output -->\n"  // 4: output with no run block before it
      "```text\n"
      "x\n"
      "```\n"
      "<!-- walkthrough: run -->\n"  // 8: marker, then prose instead of a block
      "some prose\n"
      "<!-- walkthrough: maybe -->\n"  // 10: unknown marker
      "```sh\n"
      "true\n"
      "```\n"
      "<!-- walkthrough: run -->\n"  // 14: a run block that is not shell
      "```python\n"
      "print(1)\n"
      "```\n");
  EXPECT_EQ(doc.problems, (std::vector<std::string>{
                              "line 1: a sh block without a walkthrough marker (run or not run)",
                              "line 5: an output block must follow a run block",
                              "line 8: the walkthrough marker is not followed by a fenced block",
                              "line 10: unknown walkthrough marker 'maybe'",
                              "line 15: a 'run' block must be a shell block, not 'python'",
                          }));
}

TEST(WalkthroughMatcher, DotsStandForAnyText) {
  EXPECT_TRUE(line_matches("da=18 db=6", "da=18 db=6"));
  EXPECT_FALSE(line_matches("da=18 db=6", "da=18 db=7"));
  EXPECT_TRUE(line_matches("epoch 1/4 ... loss ... *best", "epoch 1/4  train loss 1.5 *best"));
  EXPECT_FALSE(line_matches("epoch 1/4 ... *best", "epoch 1/4  train loss 1.5"));
  EXPECT_FALSE(line_matches("epoch 1/4 ...", "epoch 2/4 loss"));
  EXPECT_TRUE(line_matches("Accuracy: ... (.../800)", "Accuracy: 0.5 (400/800)"));
  EXPECT_FALSE(line_matches("Accuracy: ... (.../800)", "Accuracy: 0.5 (400/801)"));
  EXPECT_TRUE(line_matches("a...a", "aa"));
  EXPECT_FALSE(line_matches("ab...ba", "aba"));  // the two ends may not overlap
  EXPECT_TRUE(line_matches("x  ", "x"));         // trailing blanks do not count
}

TEST(WalkthroughMatcher, LinesMustAppearInOrder) {
  const std::string out = "one\ntwo\nthree\nfour\n";
  EXPECT_EQ(first_unmatched("one\n...\nthree\n", out), std::nullopt);
  EXPECT_EQ(first_unmatched("two\nfour\n", out), std::nullopt);
  EXPECT_EQ(first_unmatched("three\ntwo\n", out), "two");
  EXPECT_EQ(first_unmatched("one\nfive\n", out), "five");
  EXPECT_EQ(first_unmatched("t...\nt...\nt...\n", out), "t...");  // only two lines start with t
  // A progress bar rewritten with '\r' counts as its last state.
  EXPECT_EQ(first_unmatched("epoch 1 done\n", "epoch 1 10%\repoch 1 done\n"), std::nullopt);
}

ParsedDoc parse_file(const fs::path& path) {
  EXPECT_TRUE(fs::exists(path)) << path;
  return parse(read_text(path));
}

TEST(Walkthrough, EveryShellBlockIsMarkedAndEveryMarkerWellFormed) {
  for (const fs::path& path : {kEnglish, kChinese}) {
    const ParsedDoc doc = parse_file(path);
    for (const std::string& problem : doc.problems)
      ADD_FAILURE() << path.string() << ":" << problem;
  }
}

TEST(Walkthrough, EnglishAndChineseShareTheSameBlocks) {
  const ParsedDoc english = parse_file(kEnglish), chinese = parse_file(kChinese);
  size_t runs = 0;
  for (const Block& block : english.blocks) runs += block.kind == BlockKind::Run;
  EXPECT_GE(runs, 10u) << "the walkthrough runs a command or more per chapter";
  ASSERT_EQ(english.blocks.size(), chinese.blocks.size())
      << "docs/course/README.md and README.zh-CN.md must hold the same marked blocks";
  for (size_t i = 0; i < english.blocks.size(); ++i) {
    const Block &en = english.blocks[i], &zh = chinese.blocks[i];
    EXPECT_EQ(to_string(en.kind), to_string(zh.kind))
        << "block " << i + 1 << ": README.md line " << en.line << ", README.zh-CN.md line "
        << zh.line;
    EXPECT_EQ(en.path, zh.path) << "block " << i + 1;
    EXPECT_EQ(en.text, zh.text) << "block " << i + 1 << ": README.md line " << en.line
                                << " and README.zh-CN.md line " << zh.line << " differ";
  }
}

TEST(Walkthrough, CodeExcerptsAreStillInTheFilesTheyQuote) {
  size_t excerpts = 0;
  for (const Block& block : parse_file(kEnglish).blocks) {
    if (block.kind != BlockKind::Source) continue;
    ++excerpts;
    const fs::path file = kRoot / block.path;
    ASSERT_TRUE(fs::exists(file)) << "README.md line " << block.line << ": " << block.path;
    const auto missing = first_unmatched(block.text, read_text(file));
    EXPECT_EQ(missing, std::nullopt) << "README.md line " << block.line << ": not in " << block.path
                                     << " (in this order): '" << missing.value_or("") << "'";
  }
  EXPECT_GE(excerpts, 4u);
}

TEST(Walkthrough, LinkedFromTheTopOfTheReadmeAndFromEachOther) {
  const std::string readme = read_text(kRoot / "README.md");
  const std::string top = readme.substr(0, readme.find("\n## "));  // before the first section
  EXPECT_NE(top.find("(docs/course/README.md)"), std::string::npos);
  EXPECT_NE(top.find("(docs/course/README.zh-CN.md)"), std::string::npos);
  EXPECT_NE(read_text(kEnglish).find("(README.zh-CN.md)"), std::string::npos);
  EXPECT_NE(read_text(kChinese).find("(README.md)"), std::string::npos);
}

}  // namespace
}  // namespace s2s::walkthrough
