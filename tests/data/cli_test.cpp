// `s2s gen` and `s2s data check` as processes: exact output, bytes, exit statuses, and
// interoperability with pandas (/usr/bin/python3).
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "s2s/csv.h"
#include "s2s/tasks.h"
#include "test_util.h"

namespace s2s {
namespace {

using test::run_command;
using test::shell_quote;

TEST(CliGen, SameSeedSameBytesOtherSeedOtherBytes) {
  test::TempDir dir;
  const std::string a = dir.file("a.csv"), c = dir.file("c.csv");
  const auto r = test::run_commands({
      test::cli() + " gen zero-shift --count 200 --length 10 --seed 7 -o " + shell_quote(a),
      test::cli() + " gen zero-shift --count 200 --seed 7 -o -",
      test::cli() + " gen zero-shift --count 200 --seed 8 -o " + shell_quote(c),
  });
  for (const auto& one : r) ASSERT_EQ(one.status, 0) << one.err;
  EXPECT_EQ(r[0].out, "wrote 200 zero-shift pairs to " + a + "\n");
  const std::string text = test::read_text(a);
  EXPECT_EQ(text, r[1].out);  // a second run, same seed: same bytes
  EXPECT_NE(text, test::read_text(c));
  EXPECT_EQ(text.size(), 14u + 200u * 40u);  // header + 200 rows of "10 digits,10 digits\n"
  EXPECT_EQ(text.substr(0, 14 + 3 * 40),
            "source,target\n"
            "0 0 0 0 8 9 9 8 1 1,8 9 9 8 0 0 0 0 1 1\n"
            "0 0 0 5 7 9 8 5 6 3,5 7 9 0 0 0 8 5 6 3\n"
            "0 0 0 2 2 6 7 3 7 2,2 2 6 0 0 0 7 3 7 2\n");
}

TEST(CliGen, CourseSplitWritesDisjointTrainAndValid) {
  test::TempDir dir;
  const std::string out = dir.file("data");
  auto r =
      run_command(test::cli() + " gen zero-shift --train 14000 --valid 2800 --seed 1 --out-dir " +
                  shell_quote(out));
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "wrote 14000 zero-shift pairs to " + out +
                       "/train.csv\nwrote 2800 zero-shift pairs to " + out +
                       "/valid.csv (no source also in training)\n");
  const Corpus train = read_pairs_csv(out + "/train.csv");
  const Corpus valid = read_pairs_csv(out + "/valid.csv");
  EXPECT_EQ(train.size(), 14000u);
  EXPECT_EQ(valid.size(), 2800u);
  std::set<std::vector<std::string>> sources;
  for (size_t i = 0; i < train.size(); ++i) sources.insert(train.source_tokens(i));
  for (size_t i = 0; i < valid.size(); ++i) EXPECT_EQ(sources.count(valid.source_tokens(i)), 0u);
}

TEST(CliGen, BadFlagsExitTwo) {
  const auto r = test::run_commands({
      test::cli() + " gen zero-shift --count 5 --length 7 -o -",
      test::cli() + " gen zero-shift --count 5",
      test::cli() + " gen zero-shift --count 5 -o x.csv --train 3",
      test::cli() + " gen nope --count 5 -o -",
  });
  for (const auto& one : r) EXPECT_EQ(one.status, 2) << one.err;
  EXPECT_EQ(
      r[0].err,
      "s2s: error: zero-shift needs --length >= 8 (a run of 4 zeros moves 4 places), got 7\n");
  EXPECT_EQ(r[1].err, "s2s: error: --count and -o go together\n");
  EXPECT_EQ(r[2].err,
            "s2s: error: give either --count N -o FILE, or --train N --valid M --out-dir DIR\n");
  EXPECT_NE(r[3].err.find("nope"), std::string::npos);
}

struct BadCase {
  const char* name;
  std::string contents;
  std::string message;  // after "s2s: error: <path>"
};

TEST(CliDataCheck, EveryBadInputGivesOneLineAndExitTwo) {
  test::TempDir dir;
  const std::vector<BadCase> cases = {
      {"empty.csv", "", ": file is empty; expected the header 'source,target'"},
      {"noheader.csv", "1 2,3\n",
       ":1: header has no column 'source' (found '1 2,3'); expected 'source,target'"},
      {"wrongheader.csv", "source,tgt\n1,2\n",
       ":1: header has no column 'target' (found 'source,tgt'); expected 'source,target'"},
      {"fields.csv", "source,target\n1,2\n1,2\n1,2,3\n", ":4: row has 3 fields, expected 2"},
      {"emptysrc.csv", "source,target\n,2\n", ":2: empty source"},
      {"emptytgt.csv", "source,target\n1,2\n3,\n", ":3: empty target"},
      {"quote.csv", "source,target\n1,2\n\"3,4\n5,6\n", ":3: unterminated quoted field"},
      {"utf8.csv", "source,target\n1,2\n3 \xc3\x28,4\n", ":3: invalid UTF-8 (byte 0xc3)"},
      {"binary.bin", std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8),
       ":1: control byte 0x1f; this looks like a binary file, not CSV"},
      {"headeronly.csv", "source,target\n", ": no data rows after the header"},
  };
  std::vector<std::string> commands;
  for (const BadCase& c : cases) {
    test::write_text(dir.file(c.name), c.contents);
    commands.push_back(test::cli() + " data check " + shell_quote(dir.file(c.name)));
  }
  const std::string long_path = dir.file("long.csv");
  test::write_text(long_path, "source,target\n1 2 3 4 5 6,1\n");
  commands.push_back(test::cli() + " data check " + shell_quote(dir.file("missing.csv")));
  commands.push_back(test::cli() + " data check --max-length 5 " + shell_quote(long_path));
  commands.push_back(test::cli() + " data check --max-line-bytes 10 " + shell_quote(long_path));
  const auto r = test::run_commands(commands);
  for (size_t i = 0; i < cases.size(); ++i) {
    const BadCase& c = cases[i];
    EXPECT_EQ(r[i].status, 2) << c.name;
    EXPECT_EQ(r[i].err, "s2s: error: " + dir.file(c.name) + c.message + "\n") << c.name;
    EXPECT_EQ(r[i].out, "") << c.name;
  }
  const size_t n = cases.size();
  for (size_t i = n; i < r.size(); ++i) EXPECT_EQ(r[i].status, 2) << commands[i];
  EXPECT_EQ(r[n].err, "s2s: error: " + dir.file("missing.csv") +
                          ": cannot open: No such file or directory\n");
  EXPECT_EQ(r[n + 1].err,
            "s2s: error: " + long_path + ":2: source has 6 tokens, more than the maximum 5\n");
  EXPECT_EQ(r[n + 2].err, "s2s: error: " + long_path + ":2: line is longer than 10 bytes\n");
}

TEST(CliDataCheck, ValidFileAndSkipBadRows) {
  test::TempDir dir;
  const std::string path = dir.file("d.csv"), none = dir.file("none.csv");
  const std::string good = dir.file("good.csv");
  test::write_text(path, "source,target\n1,2\n1,2,3\n,4\n5,6\n");
  test::write_text(none, "source,target\n1,2,3\n");
  test::write_text(good, "source,target\n1 2 3,3 2 1\n4 x,5\n");
  const auto r =
      test::run_commands({test::cli() + " data check --skip-bad-rows " + shell_quote(path),
                          test::cli() + " data check --skip-bad-rows " + shell_quote(none),
                          test::cli() + " data check " + shell_quote(good)});
  EXPECT_EQ(r[0].status, 0) << r[0].err;
  EXPECT_EQ(r[0].out, path + ": ok\nrows: 2\nskipped bad rows: 2\n  " + path +
                          ":3: row has 3 fields, expected 2\n  " + path +
                          ":4: empty source\n"
                          "vocabulary: 8 tokens (4 in the data + 4 special)\n"
                          "source length: min 1, max 1, mean 1.00\n"
                          "target length: min 1, max 1, mean 1.00\n");
  EXPECT_EQ(r[1].status, 2);
  EXPECT_EQ(r[1].err, "s2s: error: " + none + ": no valid rows (1 bad row skipped)\n");
  // A valid file: exit 0 and its statistics.
  EXPECT_EQ(r[2].status, 0) << r[2].err;
  EXPECT_EQ(r[2].out, good +
                          ": ok\n"
                          "rows: 2\n"
                          "vocabulary: 10 tokens (6 in the data + 4 special)\n"
                          "source length: min 2, max 3, mean 2.50\n"
                          "target length: min 1, max 3, mean 2.00\n");
  EXPECT_EQ(r[2].err, "");
}

// pandas interop, both directions. Python prints each row as JSON so the comparison is exact.
const char* kPandasDump =
    "import json, sys, pandas as pd\n"
    "df = pd.read_csv(sys.argv[1], dtype=str, keep_default_na=False)\n"
    "print(json.dumps([[s.split(), t.split()] for s, t in zip(df['source'], df['target'])], "
    "ensure_ascii=False))\n";

std::string cpp_dump(const Corpus& corpus) {
  std::string out = "[";
  auto list = [](const std::vector<std::string>& tokens) {
    std::string s = "[";
    for (size_t i = 0; i < tokens.size(); ++i) {
      s += (i ? ", \"" : "\"");
      for (char c : tokens[i]) {
        if (c == '"' || c == '\\') s.push_back('\\');
        s.push_back(c);
      }
      s += "\"";
    }
    return s + "]";
  };
  for (size_t i = 0; i < corpus.size(); ++i) {
    out += (i ? ", [" : "[") + list(corpus.source_tokens(i)) + ", " +
           list(corpus.target_tokens(i)) + "]";
  }
  return out + "]\n";
}

bool have_pandas() {
  static const bool have = run_command("/usr/bin/python3 -c 'import pandas'").status == 0;
  return have;
}

TEST(PandasInterop, GeneratedFileReadsBackIdentically) {
  if (!have_pandas()) GTEST_SKIP() << "/usr/bin/python3 has no pandas";
  test::TempDir dir;
  const std::string path = dir.file("zs.csv");
  write_pairs_csv(path, generate_task("zero-shift", 500, {}, 3));  // what `s2s gen` writes
  // Exactly the MISSION's reading: pd.read_csv(path, dtype=str).
  const auto py =
      run_command("/usr/bin/python3 -c " +
                  shell_quote("import sys, pandas as pd\n"
                              "df = pd.read_csv(sys.argv[1], dtype=str)\n"
                              "print(list(df.columns), len(df), df.isna().sum().sum())\n"
                              "for s, t in zip(df['source'], df['target']): print(s + '|' + t)\n") +
                  " " + shell_quote(path));
  ASSERT_EQ(py.status, 0) << py.err;
  const Corpus corpus = read_pairs_csv(path);
  std::string expected = "['source', 'target'] 500 0\n";
  for (size_t i = 0; i < corpus.size(); ++i) {
    auto join = [](const std::vector<std::string>& v) {
      std::string s;
      for (size_t j = 0; j < v.size(); ++j) s += (j ? " " : "") + v[j];
      return s;
    };
    expected += join(corpus.source_tokens(i)) + "|" + join(corpus.target_tokens(i)) + "\n";
  }
  EXPECT_EQ(py.out, expected);
}

TEST(PandasInterop, TrickyTokensBothDirections) {
  if (!have_pandas()) GTEST_SKIP() << "/usr/bin/python3 has no pandas";
  test::TempDir dir;
  const std::vector<Pair> pairs = {
      {{"a,b", "\"q\"", "é"}, {"世界", "x"}}, {{"1", "2"}, {"<eos>", "'"}}, {{"\"", ","}, {"ok"}}};
  // C++ writes, pandas reads.
  const std::string ours = dir.file("ours.csv");
  write_pairs_csv(ours, pairs);
  const auto read =
      run_command("/usr/bin/python3 -c " + shell_quote(kPandasDump) + " " + shell_quote(ours));
  ASSERT_EQ(read.status, 0) << read.err;
  EXPECT_EQ(read.out, cpp_dump(make_corpus(pairs)));
  // pandas writes (CRLF line ends, its index column, a BOM), C++ reads.
  const std::string theirs = dir.file("theirs.csv");
  const auto write = run_command(
      "/usr/bin/python3 -c " +
      shell_quote("import sys, pandas as pd\n"
                  "df = pd.DataFrame({'target': ['世界 x', '<eos> \\'', 'ok'],\n"
                  "                   'source': ['a,b \"q\" é', '1 2', '\" ,']})\n"
                  "df.to_csv(sys.argv[1], lineterminator='\\r\\n', encoding='utf-8-sig')\n") +
      " " + shell_quote(theirs));
  ASSERT_EQ(write.status, 0) << write.err;
  const std::string raw = test::read_text(theirs);
  ASSERT_EQ(raw.rfind("\xEF\xBB\xBF,target,source\r\n", 0), 0u) << raw;
  const Corpus back = read_pairs_csv(theirs);
  ASSERT_EQ(back.size(), pairs.size());
  for (size_t i = 0; i < pairs.size(); ++i) EXPECT_EQ(back.pair(i), pairs[i]) << "row " << i;
}

}  // namespace
}  // namespace s2s
