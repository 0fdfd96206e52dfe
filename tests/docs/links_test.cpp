// Every relative link in README.md and docs/ points at a file or folder that exists: a newcomer
// who follows the documentation never lands on a missing page.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

struct Link {
  std::string target;
  int line = 0;
};

// Inline Markdown links and images, [text](target) and ![alt](target), and HTML src/href
// attributes. Fenced code blocks are skipped: what is inside them is code, not a link.
std::vector<Link> links_in(const fs::path& file) {
  static const std::regex markdown(R"re(\]\(([^)\s]+)(?:\s+"[^"]*")?\))re");
  static const std::regex html(R"re((?:src|href)="([^"]+)")re");
  std::vector<Link> found;
  std::ifstream in(file);
  std::string text;
  bool in_fence = false;
  for (int number = 1; std::getline(in, text); ++number) {
    const size_t indent = text.find_first_not_of(' ');
    if (indent != std::string::npos && text.compare(indent, 3, "```") == 0) {
      in_fence = !in_fence;
      continue;
    }
    if (in_fence) continue;
    for (const std::regex* pattern : {&markdown, &html}) {
      for (std::sregex_iterator it(text.begin(), text.end(), *pattern), end; it != end; ++it) {
        found.push_back({(*it)[1].str(), number});
      }
    }
  }
  return found;
}

bool is_relative(const std::string& target) {
  return !target.empty() && target[0] != '#' && target.find("://") == std::string::npos &&
         target.rfind("mailto:", 0) != 0;
}

// The Markdown files a reader is sent to: README.md and everything under docs/.
std::vector<fs::path> documentation() {
  const fs::path root = S2S_SOURCE_DIR;
  std::vector<fs::path> files{root / "README.md"};
  for (const auto& entry : fs::recursive_directory_iterator(root / "docs")) {
    if (entry.is_regular_file() && entry.path().extension() == ".md") {
      files.push_back(entry.path());
    }
  }
  return files;
}

TEST(DocLinks, FindsInlineLinksImagesAndHtmlOutsideCodeFences) {
  const fs::path file = fs::temp_directory_path() / "s2s_links_test.md";
  std::ofstream(file) << "See [a](docs/a.md#part) and ![b](img/b.png \"title\").\n"
                      << "```sh\n[not](a-link.md)\n```\n"
                      << "<img src=\"c.svg\"> [web](https://example.org) [top](#top)\n";
  std::vector<std::string> targets;
  for (const Link& link : links_in(file)) targets.push_back(link.target);
  fs::remove(file);
  // Per line: Markdown links first, then HTML attributes.
  EXPECT_EQ(targets, (std::vector<std::string>{"docs/a.md#part", "img/b.png", "https://example.org",
                                               "#top", "c.svg"}));
}

TEST(DocLinks, EveryRelativeLinkResolves) {
  int checked = 0;
  for (const fs::path& file : documentation()) {
    for (const Link& link : links_in(file)) {
      if (!is_relative(link.target)) continue;
      const std::string path = link.target.substr(0, link.target.find('#'));
      ++checked;
      EXPECT_TRUE(fs::exists(file.parent_path() / path))
          << file.string() << ":" << link.line << ": link to missing " << link.target;
    }
  }
  EXPECT_GT(checked, 10) << "the README and docs link to each other; did the parser break?";
}

}  // namespace
