// A report is a list of blocks, rendered once as Markdown and once as HTML (REPORT.md and
// REPORT.html say the same thing).
#pragma once

#include <string>
#include <vector>

namespace s2s::report {

struct Block {
  enum Type { Heading, Paragraph, Code, List, Table, Image } type;
  int level = 0;                               // Heading
  std::string text;                            // Heading, Paragraph, Code; Image: caption
  std::vector<std::string> items;              // List; Table: header
  std::vector<std::vector<std::string>> rows;  // Table
  std::string src;                             // Image
};

std::string to_markdown(const std::vector<Block>& blocks);
std::string to_html(const std::vector<Block>& blocks, const std::string& title);

}  // namespace s2s::report
