#include "report/document.h"

#include <fmt/core.h>

namespace s2s::report {
namespace {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

std::string md_cell(std::string s) {
  std::string out;
  for (char c : s) out += c == '|' ? std::string("\\|") : std::string(1, c);
  return out;
}

}  // namespace

std::string to_markdown(const std::vector<Block>& blocks) {
  std::string md;
  for (const Block& b : blocks) {
    switch (b.type) {
      case Block::Heading:
        md += std::string(b.level, '#') + " " + b.text + "\n\n";
        break;
      case Block::Paragraph:
        md += b.text + "\n\n";
        break;
      case Block::Code:
        md += "```\n" + b.text + "\n```\n\n";
        break;
      case Block::List:
        for (const std::string& item : b.items) md += "- " + item + "\n";
        md += "\n";
        break;
      case Block::Table: {
        std::string line = "|", rule = "|";
        for (const std::string& h : b.items) {
          line += " " + md_cell(h) + " |";
          rule += "---|";
        }
        md += line + "\n" + rule + "\n";
        for (const auto& row : b.rows) {
          line = "|";
          for (const std::string& cell : row) line += " " + md_cell(cell) + " |";
          md += line + "\n";
        }
        md += "\n";
        break;
      }
      case Block::Image:
        md += "![" + b.text + "](" + b.src + ")\n\n" + b.text + "\n\n";
        break;
    }
  }
  return md;
}

std::string to_html(const std::vector<Block>& blocks, const std::string& title) {
  std::string h = fmt::format(
      "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em}}"
      "table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;"
      "text-align:right}}td:first-child,th:first-child{{text-align:left}}"
      "pre{{background:#f4f4f4;padding:8px;overflow-x:auto}}img{{max-width:100%}}"
      "figure{{margin:1em 0}}</style></head><body>\n",
      html_escape(title));
  for (const Block& b : blocks) {
    switch (b.type) {
      case Block::Heading:
        h += fmt::format("<h{0}>{1}</h{0}>\n", b.level, html_escape(b.text));
        break;
      case Block::Paragraph:
        h += "<p>" + html_escape(b.text) + "</p>\n";
        break;
      case Block::Code:
        h += "<pre>" + html_escape(b.text) + "</pre>\n";
        break;
      case Block::List:
        h += "<ul>\n";
        for (const std::string& item : b.items) h += "<li>" + html_escape(item) + "</li>\n";
        h += "</ul>\n";
        break;
      case Block::Table:
        h += "<table>\n<tr>";
        for (const std::string& c : b.items) h += "<th>" + html_escape(c) + "</th>";
        h += "</tr>\n";
        for (const auto& row : b.rows) {
          h += "<tr>";
          for (const std::string& c : row) h += "<td>" + html_escape(c) + "</td>";
          h += "</tr>\n";
        }
        h += "</table>\n";
        break;
      case Block::Image:
        h +=
            fmt::format("<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>\n",
                        html_escape(b.src), html_escape(b.text), html_escape(b.text));
        break;
    }
  }
  return h + "</body></html>\n";
}

}  // namespace s2s::report
