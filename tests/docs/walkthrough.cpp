#include "docs/walkthrough.h"

#include <fmt/core.h>

#include <fstream>
#include <set>
#include <sstream>

namespace s2s::walkthrough {
namespace {

std::string trim_right(const std::string& s) {
  const size_t end = s.find_last_not_of(" \t\r");
  return end == std::string::npos ? std::string() : s.substr(0, end + 1);
}

std::string trim(const std::string& s) {
  const std::string right = trim_right(s);
  const size_t begin = right.find_first_not_of(" \t");
  return begin == std::string::npos ? std::string() : right.substr(begin);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// "<!-- walkthrough: run -->" -> "run"; not a marker -> nothing.
std::optional<std::string> marker_of(const std::string& line) {
  const std::string t = trim(line);
  const std::string open = "<!-- walkthrough:", close = "-->";
  if (!starts_with(t, open) || t.size() < open.size() + close.size() ||
      t.compare(t.size() - close.size(), close.size(), close) != 0) {
    return std::nullopt;
  }
  return trim(t.substr(open.size(), t.size() - open.size() - close.size()));
}

bool is_fence(const std::string& line) {
  return starts_with(trim(line), "```");
}

// The language of an opening fence: "```sh" -> "sh"; "```" -> "".
std::string language_of(const std::string& fence) {
  const std::string info = trim(trim(fence).substr(3));
  return info.substr(0, info.find(' '));
}

bool is_shell(const std::string& language) {
  static const std::set<std::string> shells{"sh", "bash", "shell", "console", "zsh"};
  return shells.count(language) > 0;
}

}  // namespace

std::string to_string(BlockKind kind) {
  switch (kind) {
    case BlockKind::Run:
      return "run";
    case BlockKind::Output:
      return "output";
    case BlockKind::NotRun:
      return "not run";
    case BlockKind::Source:
      return "source";
  }
  return "?";
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

ParsedDoc parse(const std::string& markdown) {
  ParsedDoc doc;
  const std::vector<std::string> lines = lines_of(markdown);
  std::optional<std::string> marker;  // the marker on the line before, if any
  int marker_line = 0;
  for (size_t i = 0; i < lines.size(); ++i) {
    const int number = static_cast<int>(i) + 1;
    if (!is_fence(lines[i])) {
      if (marker) {
        doc.problems.push_back(fmt::format(
            "line {}: the walkthrough marker is not followed by a fenced block", marker_line));
      }
      marker = marker_of(lines[i]);
      marker_line = number;
      continue;
    }
    // A fenced block: collect it up to the closing fence.
    const size_t indent = lines[i].find_first_not_of(' ');
    const std::string language = language_of(lines[i]);
    std::string text;
    size_t end = i + 1;
    for (; end < lines.size() && !is_fence(lines[end]); ++end) {
      const std::string& l = lines[end];
      text += (l.find_first_not_of(' ') >= indent ? l.substr(std::min(indent, l.size())) : l);
      text += "\n";
    }
    if (end == lines.size()) {
      doc.problems.push_back(fmt::format("line {}: the fenced block is never closed", number));
      break;
    }
    i = end;
    if (!marker) {
      if (is_shell(language)) {
        doc.problems.push_back(fmt::format(
            "line {}: a {} block without a walkthrough marker (run or not run)", number, language));
      }
      continue;
    }
    Block block;
    block.text = text;
    block.line = number;
    const std::string& m = *marker;
    if (m == "run" || m == "not run") {
      block.kind = m == "run" ? BlockKind::Run : BlockKind::NotRun;
      if (!is_shell(language)) {
        doc.problems.push_back(fmt::format("line {}: a '{}' block must be a shell block, not '{}'",
                                           number, m, language));
      }
    } else if (m == "output") {
      block.kind = BlockKind::Output;
      if (doc.blocks.empty() || doc.blocks.back().kind != BlockKind::Run) {
        doc.problems.push_back(
            fmt::format("line {}: an output block must follow a run block", number));
      }
    } else if (starts_with(m, "source ") && !trim(m.substr(7)).empty()) {
      block.kind = BlockKind::Source;
      block.path = trim(m.substr(7));
    } else {
      doc.problems.push_back(
          fmt::format("line {}: unknown walkthrough marker '{}'", marker_line, m));
      marker.reset();
      continue;
    }
    doc.blocks.push_back(block);
    marker.reset();
  }
  if (marker) {
    doc.problems.push_back(fmt::format(
        "line {}: the walkthrough marker is not followed by a fenced block", marker_line));
  }
  return doc;
}

bool line_matches(const std::string& pattern, const std::string& line) {
  const std::string p = trim_right(pattern), s = trim_right(line);
  // Split the pattern at each "..."; the pieces must appear in order, the first at the start
  // and the last at the end of the line.
  std::vector<std::string> pieces;
  for (size_t from = 0;;) {
    const size_t at = p.find("...", from);
    pieces.push_back(p.substr(from, at == std::string::npos ? std::string::npos : at - from));
    if (at == std::string::npos) break;
    from = at + 3;
  }
  if (pieces.size() == 1) return s == p;
  if (!starts_with(s, pieces.front())) return false;
  size_t pos = pieces.front().size();
  for (size_t k = 1; k + 1 < pieces.size(); ++k) {
    const size_t at = s.find(pieces[k], pos);
    if (at == std::string::npos) return false;
    pos = at + pieces[k].size();
  }
  const std::string& last = pieces.back();
  return s.size() >= pos + last.size() && s.compare(s.size() - last.size(), last.size(), last) == 0;
}

std::optional<std::string> first_unmatched(const std::string& pattern, const std::string& actual) {
  std::vector<std::string> output;
  for (const std::string& line : lines_of(actual)) {
    const size_t cr = trim_right(line).find_last_of('\r');
    output.push_back(cr == std::string::npos ? line : line.substr(cr + 1));
  }
  size_t next = 0;  // the first output line not yet used
  for (const std::string& want : lines_of(pattern)) {
    if (trim(want) == "...") continue;
    while (next < output.size() && !line_matches(want, output[next])) ++next;
    if (next == output.size()) return want;
    ++next;
  }
  return std::nullopt;
}

}  // namespace s2s::walkthrough
