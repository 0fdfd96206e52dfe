// CSV reading and writing: RFC 4180 quoting, CRLF, BOM, free column order, every bad-input
// case with its exact message and line, skip-bad-rows, and the streaming file path.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "s2s/csv.h"
#include "s2s/error.h"
#include "test_util.h"

namespace s2s {
namespace {

std::vector<Pair> pairs_of(const Corpus& corpus) {
  std::vector<Pair> out;
  for (size_t i = 0; i < corpus.size(); ++i) out.push_back(corpus.pair(i));
  return out;
}

std::vector<Pair> parse(const std::string& text, const CsvReadOptions& options = {}) {
  return pairs_of(parse_pairs_csv(text, "t.csv", options));
}

// The message of the s2s::Error that parsing `text` throws ("" if none).
std::string error_of(const std::string& text, const CsvReadOptions& options = {}) {
  try {
    parse_pairs_csv(text, "t.csv", options);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "";
}

const std::vector<Pair> kTwo = {{{"1", "2", "3"}, {"3", "2", "1"}}, {{"4"}, {"5", "6"}}};

TEST(CsvRead, PlainFile) {
  EXPECT_EQ(parse("source,target\n1 2 3,3 2 1\n4,5 6\n"), kTwo);
}

TEST(CsvRead, CrlfBomAndMissingFinalNewline) {
  EXPECT_EQ(parse("source,target\r\n1 2 3,3 2 1\r\n4,5 6\r\n"), kTwo);
  EXPECT_EQ(parse("\xEF\xBB\xBFsource,target\n1 2 3,3 2 1\n4,5 6\n"), kTwo);
  EXPECT_EQ(parse("source,target\n1 2 3,3 2 1\n4,5 6"), kTwo);
  EXPECT_EQ(parse("\xEF\xBB\xBFsource,target\r\n1 2 3,3 2 1\r\n4,5 6"), kTwo);
  // Old Mac line ends (lone CR), as pandas reads them.
  EXPECT_EQ(parse("source,target\r1 2 3,3 2 1\r4,5 6\r"), kTwo);
}

TEST(CsvRead, ColumnOrderIsFreeAndExtraColumnsAreIgnored) {
  EXPECT_EQ(parse("target,source\n3 2 1,1 2 3\n5 6,4\n"), kTwo);
  EXPECT_EQ(parse("id,target,note,source\n0,3 2 1,x,1 2 3\n1,5 6,,4\n"), kTwo);
  // pandas' to_csv with its index: an unnamed first column.
  EXPECT_EQ(parse(",source,target\n0,1 2 3,3 2 1\n1,4,5 6\n"), kTwo);
}

TEST(CsvRead, QuotedFieldsFollowRfc4180) {
  const auto pairs = parse(
      "\"source\",\"target\"\n"
      "\"a,b \"\"c\"\"\",\"x\"\n"
      "\"multi\nline\",\"y\r\nz\"\n"
      "plain\"quote,w\n");
  const std::vector<Pair> expected = {
      {{"a,b", "\"c\""}, {"x"}}, {{"multi", "line"}, {"y", "z"}}, {{"plain\"quote"}, {"w"}}};
  EXPECT_EQ(pairs, expected);
}

TEST(CsvRead, TokensAreWhitespaceSeparatedUtf8OfAnyKind) {
  const auto pairs = parse("source,target\n  héllo\t 世界  😀 ,\"<unk> a,b\"\n");
  ASSERT_EQ(pairs.size(), 1u);
  EXPECT_EQ(pairs[0].source, (std::vector<std::string>{"héllo", "世界", "😀"}));
  EXPECT_EQ(pairs[0].target, (std::vector<std::string>{"<unk>", "a,b"}));
}

TEST(CsvRead, BlankLinesAreSkippedLikePandas) {
  EXPECT_EQ(parse("\nsource,target\n\n1 2 3,3 2 1\r\n\r\n4,5 6\n\n"), kTwo);
}

TEST(CsvRead, LineNumbersCountPhysicalLines) {
  // The bad row starts on line 5: line 3 holds a quoted newline.
  EXPECT_EQ(error_of("source,target\n1,2\n\"3\n4\",5\n6,7,8\n"),
            "t.csv:5: row has 3 fields, expected 2");
}

TEST(CsvRead, EmptyAndMissingHeader) {
  EXPECT_EQ(error_of(""), "t.csv: file is empty; expected the header 'source,target'");
  EXPECT_EQ(error_of("\xEF\xBB\xBF\n\r\n"),
            "t.csv: file is empty; expected the header 'source,target'");
  EXPECT_EQ(error_of("1 2,3 4\n"),
            "t.csv:1: header has no column 'source' (found '1 2,3 4'); expected 'source,target'");
  EXPECT_EQ(error_of("source,label\n1,2\n"),
            "t.csv:1: header has no column 'target' (found 'source,label'); expected "
            "'source,target'");
  EXPECT_EQ(error_of("Source,Target\n1,2\n"),
            "t.csv:1: header has no column 'source' (found 'Source,Target'); expected "
            "'source,target'");
  EXPECT_EQ(error_of("source,target,source\n1,2,3\n"),
            "t.csv:1: header names the column 'source' twice");
  EXPECT_EQ(error_of("source,target\n"), "t.csv: no data rows after the header");
  EXPECT_EQ(error_of("source,target"), "t.csv: no data rows after the header");
}

TEST(CsvRead, RowErrorsNameTheLine) {
  EXPECT_EQ(error_of("source,target\n1,2\n1,2,3\n"), "t.csv:3: row has 3 fields, expected 2");
  EXPECT_EQ(error_of("source,target\n1,2\n1\n"), "t.csv:3: row has 1 field, expected 2");
  EXPECT_EQ(error_of("source,target\n1,2\n,2\n"), "t.csv:3: empty source");
  EXPECT_EQ(error_of("source,target\n1,2\n1,  \n"), "t.csv:3: empty target");
  EXPECT_EQ(error_of("source,target\n1,2\n\"\",2\n"), "t.csv:3: empty source");
  EXPECT_EQ(error_of("source,target\n1,2\n\"1 2,3\n4,5\n"), "t.csv:3: unterminated quoted field");
  EXPECT_EQ(error_of("source,target\n\"1\"x,2\n"),
            "t.csv:2: unexpected character 'x' after a closing quote");
}

TEST(CsvRead, MaximumLengths) {
  CsvReadOptions o;
  o.max_length = 3;
  EXPECT_EQ(parse("source,target\n1 2 3,4 5 6\n", o).size(), 1u);
  EXPECT_EQ(error_of("source,target\n1 2 3,4\n1 2 3 4,5\n", o),
            "t.csv:3: source has 4 tokens, more than the maximum 3");
  EXPECT_EQ(error_of("source,target\n1,4 5 6 7 8\n", o),
            "t.csv:2: target has 5 tokens, more than the maximum 3");
  CsvReadOptions bytes;
  bytes.max_line_bytes = 16;
  EXPECT_EQ(parse("source,target\n1 2 3 4 5,6 7 8\n", bytes).size(), 1u);
  EXPECT_EQ(error_of("source,target\n1 2 3 4 5 6 7 8 9,1\n", bytes),
            "t.csv:2: line is longer than 16 bytes");
  EXPECT_EQ(error_of("source,target\n\"1 2 3 4 5 6 7 8 9,1\n2,3\n", bytes),
            "t.csv:2: unterminated quoted field (no closing quote within 16 bytes)");
}

TEST(CsvRead, InvalidUtf8AndBinaryGarbage) {
  EXPECT_EQ(error_of("source,target\n1,2\n1 \xff,2\n"), "t.csv:3: invalid UTF-8 (byte 0xff)");
  // Overlong encoding of '/', a UTF-16 surrogate, a truncated sequence at the end of the file.
  EXPECT_EQ(error_of("source,target\n\xC0\xAF,2\n"), "t.csv:2: invalid UTF-8 (byte 0xc0)");
  EXPECT_EQ(error_of("source,target\n\xED\xA0\x80,2\n"), "t.csv:2: invalid UTF-8 (byte 0xed)");
  EXPECT_EQ(error_of("source,target\n1,2 \xE4\xB8"), "t.csv:2: invalid UTF-8 (byte 0xe4)");
  EXPECT_EQ(error_of(std::string("source,target\n1,2\x00x\n", 20)),
            "t.csv:2: control byte 0x00; this looks like a binary file, not CSV");
  EXPECT_EQ(error_of(std::string("\x7f"
                                 "ELF\x02\x01\x01\x00\x00",
                                 9)),
            "t.csv:1: control byte 0x02; this looks like a binary file, not CSV");
  EXPECT_EQ(error_of("\x89PNG\r\n\x1a\n"), "t.csv:1: invalid UTF-8 (byte 0x89)");
}

TEST(CsvRead, SkipBadRowsCountsThem) {
  CsvReadOptions o;
  o.skip_bad_rows = true;
  o.max_length = 5;
  CsvReadReport report;
  const std::string text =
      "source,target\n"
      "1 2 3,3 2 1\n"    // 2 ok
      "1,2,3\n"          // 3 fields
      ",zz\n"            // empty source
      "1 2 3 4 5 6,1\n"  // too long
      "\xff,1\n"         // bad UTF-8
      "\"x\"y,1\n"       // text after a quote
      "4,5 6\n"          // 8 ok
      "\"open,1\n";      // unterminated, to the end of the file
  const Corpus corpus = parse_pairs_csv(text, "t.csv", o, &report);
  EXPECT_EQ(pairs_of(corpus), kTwo);
  EXPECT_EQ(corpus.num_tokens(), 6u);  // tokens of skipped rows ("zz") are not kept
  EXPECT_EQ(report.rows, 2);
  EXPECT_EQ(report.skipped_rows, 6);
  EXPECT_EQ(
      report.skipped_examples,
      (std::vector<std::string>{"t.csv:3: row has 3 fields, expected 2", "t.csv:4: empty source",
                                "t.csv:5: source has 6 tokens, more than the maximum 5",
                                "t.csv:6: invalid UTF-8 (byte 0xff)",
                                "t.csv:7: unexpected character 'y' after a closing quote",
                                "t.csv:9: unterminated quoted field"}));
}

TEST(CsvRead, SkipBadRowsResumesAfterAnUnterminatedQuoteLine) {
  CsvReadOptions o;
  o.skip_bad_rows = true;
  o.max_line_bytes = 64;
  CsvReadReport report;
  std::string text = "source,target\n\"1 2,3\n";
  for (int i = 0; i < 20; ++i) text += "7,8\n";  // more than 64 bytes after the open quote
  const Corpus corpus = parse_pairs_csv(text, "t.csv", o, &report);
  EXPECT_EQ(corpus.size(), 20u);
  EXPECT_EQ(report.skipped_rows, 1);
  EXPECT_EQ(report.skipped_examples.at(0),
            "t.csv:2: unterminated quoted field (no closing quote within 64 bytes)");
}

TEST(CsvRead, SkipBadRowsStillFailsWithoutAnyValidRow) {
  CsvReadOptions o;
  o.skip_bad_rows = true;
  EXPECT_EQ(error_of("source,target\n1,2,3\n,1\n", o), "t.csv: no valid rows (2 bad rows skipped)");
  EXPECT_EQ(error_of("nope\n1,2\n", o),
            "t.csv:1: header has no column 'source' (found 'nope'); expected 'source,target'");
}

TEST(CsvRead, MissingFileAndDirectory) {
  test::TempDir dir;
  try {
    read_pairs_csv(dir.file("missing.csv"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              dir.file("missing.csv") + ": cannot open: No such file or directory");
  }
  try {
    read_pairs_csv(dir.path());
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()), dir.path() + ": is a directory, not a CSV file");
  }
}

TEST(CsvWrite, QuotesOnlyWhenNeededAndRoundTrips) {
  const std::vector<Pair> pairs = {
      {{"1", "2"}, {"3"}}, {{"a,b", "c"}, {"say\"hi\""}}, {{"é", "世界"}, {"<eos>"}}};
  const std::string text = format_pairs_csv(pairs);
  EXPECT_EQ(text,
            "source,target\n"
            "1 2,3\n"
            "\"a,b c\",\"say\"\"hi\"\"\"\n"
            "é 世界,<eos>\n");
  EXPECT_EQ(parse(text), pairs);
}

TEST(CsvWrite, RejectsRowsThatCannotReadBack) {
  EXPECT_THROW(format_pairs_csv({{{}, {"1"}}}), Error);
  EXPECT_THROW(format_pairs_csv({{{"1"}, {"a b"}}}), Error);
  EXPECT_THROW(format_pairs_csv({{{""}, {"1"}}}), Error);
}

TEST(CsvWrite, AtomicWriteReplacesTheFile) {
  test::TempDir dir;
  const std::string path = dir.file("d.csv");
  write_pairs_csv(path, kTwo);
  write_pairs_csv(path, {{{"9"}, {"8"}}});
  EXPECT_EQ(test::read_text(path), "source,target\n9,8\n");
  EXPECT_EQ(pairs_of(read_pairs_csv(path)), (std::vector<Pair>{{{"9"}, {"8"}}}));
  // No temp files left behind.
  size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1u);
}

// A file larger than the reader's 4 MiB chunk, with CRLF, quotes and quoted newlines falling
// on chunk boundaries, reads exactly as the same text parsed in memory in one piece.
TEST(CsvRead, StreamingFileMatchesInMemoryParse) {
  std::string text =
      "\xEF\xBB\xBF"
      "target,source\r\n";
  for (int i = 0; text.size() < (size_t{5} << 20); ++i) {
    if (i % 7 == 0) {
      text += "\"q " + std::to_string(i) + "\r\nx,\"\"y\"\"\",tok" + std::to_string(i) + " é\r\n";
    } else {
      text +=
          std::to_string(i) + " " + std::to_string(i * 3) + ",a b c " + std::to_string(i) + "\r\n";
    }
  }
  test::TempDir dir;
  const std::string path = dir.file("big.csv");
  test::write_text(path, text);
  const Corpus from_file = read_pairs_csv(path);
  const Corpus from_text = parse_pairs_csv(text, path);
  ASSERT_EQ(from_file.size(), from_text.size());
  ASSERT_GT(from_file.size(), 100000u);
  EXPECT_EQ(from_file.total_tokens(), from_text.total_tokens());
  for (size_t i = 0; i < from_file.size(); i += 997) {
    ASSERT_EQ(from_file.pair(i), from_text.pair(i)) << "row " << i;
  }
  EXPECT_EQ(from_file.pair(7), (Pair{{"tok7", "é"}, {"q", "7", "x,\"y\""}}));
  EXPECT_EQ(from_file.pair(from_file.size() - 1), from_text.pair(from_text.size() - 1));
}

// One record larger than a chunk: read when the limit allows it, refused otherwise.
TEST(CsvRead, RecordLargerThanAChunk) {
  std::string source;
  for (int i = 0; i < 3000000; ++i) source += "1 ";
  test::TempDir dir;
  const std::string path = dir.file("wide.csv");
  test::write_text(path, "source,target\n\"" + source + "\",2\n3,4\n");
  CsvReadOptions big;
  big.max_line_bytes = 16 << 20;
  const Corpus corpus = read_pairs_csv(path, big);
  ASSERT_EQ(corpus.size(), 2u);
  EXPECT_EQ(corpus.source(0).size(), 3000000u);
  EXPECT_EQ(corpus.pair(1), (Pair{{"3"}, {"4"}}));
  try {
    read_pairs_csv(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              path + ":2: unterminated quoted field (no closing quote within 1048576 bytes)");
  }
}

}  // namespace
}  // namespace s2s
