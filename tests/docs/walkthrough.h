// Reading the course walkthrough (docs/course/README*.md) the way its tests need it: the fenced
// blocks a marker comment placed right before them, and the "promised output" matcher.
//
// Markers are HTML comments, invisible on GitHub, on the line just before the opening fence:
//   <!-- walkthrough: run -->            a shell block the test runs, from the repository root
//   <!-- walkthrough: output -->         lines the run block before it must print, in order
//   <!-- walkthrough: not run -->        a shell block shown but not run (the text says why)
//   <!-- walkthrough: source PATH -->    an excerpt of PATH (relative to the repository root)
// A shell block (sh, bash, shell, console) without a marker is a problem: every command a
// learner reads is either run by the test or visibly excused.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace s2s::walkthrough {

enum class BlockKind { Run, Output, NotRun, Source };

struct Block {
  BlockKind kind = BlockKind::Run;
  std::string path;  // Source only: the file the excerpt comes from
  std::string text;  // the lines between the fences, each ending in '\n'
  int line = 0;      // 1-based line of the opening fence in the Markdown file
};

struct ParsedDoc {
  std::vector<Block> blocks;          // the marked blocks, in document order
  std::vector<std::string> problems;  // "line N: ..." for each malformed or unmarked block
};

ParsedDoc parse(const std::string& markdown);

// Whether one line matches one pattern line. In a pattern, "..." stands for any text
// (including none); everything else must match exactly. Trailing blanks are ignored on both.
bool line_matches(const std::string& pattern, const std::string& line);

// Checks that the pattern's lines occur in `actual` in this order, each matching a whole line
// (later lines may follow earlier ones with any lines between them). A pattern line that is
// just "..." marks lines left out and matches nothing by itself. In `actual`, a carriage return
// rewrites its line (progress bars): only the text after the last '\r' of a line counts.
// Returns the first pattern line with no match, or nothing when all matched.
std::optional<std::string> first_unmatched(const std::string& pattern, const std::string& actual);

std::string to_string(BlockKind kind);

// The whole file, or "" when it cannot be read.
std::string read_text(const std::string& path);

}  // namespace s2s::walkthrough
