// write_file_atomic's promise (file_io.h): a file is replaced whole, never rewritten in place,
// and a failed write leaves nothing behind. These tests fail for an in-place write (the mutant
// issue 16 found only a kill-at-random training test noticed) and for a leftover temp file.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include "s2s/error.h"
#include "s2s/file_io.h"
#include "test_util.h"

namespace s2s {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

// A second name for the old file (a hard link) keeps the old contents: the new contents went
// into a new file renamed over the path. An in-place write would change both names.
TEST(WriteFileAtomic, ReplacesTheFileInsteadOfWritingIntoIt) {
  TempDir dir;
  const std::string path = dir.file("data.csv");
  write_file_atomic(path, "old contents\n");
  ASSERT_EQ(::link(path.c_str(), dir.file("old-name").c_str()), 0);
  write_file_atomic(path, "new\n");
  EXPECT_EQ(read_file(path), "new\n");
  EXPECT_EQ(read_file(dir.file("old-name")), "old contents\n");
  // Nothing else is left in the directory (no temp file).
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

// A write that cannot complete (here: the path is a directory, so the rename fails) throws one
// line naming the path and removes its temp file.
TEST(WriteFileAtomic, AFailedWriteLeavesNoTempFileAndSaysWhy) {
  TempDir dir;
  const std::string path = dir.file("taken");
  fs::create_directory(path);
  fs::create_directory(dir.file("taken/inside"));  // non-empty: rename(2) cannot replace it
  try {
    write_file_atomic(path, "x");
    FAIL() << "writing over a directory succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ": cannot replace: ", 0), 0u) << e.what();
  }
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
  EXPECT_TRUE(fs::is_directory(dir.file("taken/inside")));
}

// Several names, one write: each name holds the contents, they share one file (the bytes went to
// disk once), and replacing one name later leaves the others as they were.
TEST(WriteFileAtomic, SeveralNamesShareOneWriteAndStayApart) {
  TempDir dir;
  const std::string best = dir.file("best.pt"), last = dir.file("last.pt");
  write_file_atomic(best, "older best\n");
  write_file_atomic(std::vector<std::string>{best, last}, "epoch 3\n");
  EXPECT_EQ(read_file(best), "epoch 3\n");
  EXPECT_EQ(read_file(last), "epoch 3\n");
  EXPECT_TRUE(fs::equivalent(best, last)) << "written twice instead of once";
  write_file_atomic(last, "epoch 4\n");
  EXPECT_EQ(read_file(best), "epoch 3\n");
  EXPECT_EQ(read_file(last), "epoch 4\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

// A failure on an earlier name throws naming it, leaves the later names untouched and no temp
// file behind.
TEST(WriteFileAtomic, SeveralNamesFailingEarlyLeaveTheLaterOnesAlone) {
  TempDir dir;
  const std::string taken = dir.file("taken"), last = dir.file("last.pt");
  fs::create_directory(taken);
  fs::create_directory(dir.file("taken/inside"));
  write_file_atomic(last, "before\n");
  try {
    write_file_atomic(std::vector<std::string>{taken, last}, "after\n");
    FAIL() << "writing over a directory succeeded";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind(taken + ": cannot replace: ", 0), 0u) << e.what();
  }
  EXPECT_EQ(read_file(last), "before\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 2);
}

// Contents produced piece by piece land in order, as one file under each name.
TEST(WriteFileAtomic, ProducedPiecesAreWrittenInOrder) {
  TempDir dir;
  const std::string best = dir.file("best.pt"), last = dir.file("last.pt");
  int calls = 0;
  write_file_atomic(std::vector<std::string>{best, last}, [&](const ByteSink& sink) {
    ++calls;
    sink("head,", 5);
    sink("", 0);
    sink("body\n", 5);
  });
  EXPECT_EQ(read_file(best), "head,body\n");
  EXPECT_EQ(read_file(last), "head,body\n");
  EXPECT_EQ(calls, 1) << "produced again although the names share one file";
}

// A producer that fails midway leaves the old file as it was and no temp file behind, and its
// error reaches the caller unchanged.
TEST(WriteFileAtomic, AFailingProducerLeavesTheOldFile) {
  TempDir dir;
  const std::string path = dir.file("last.pt");
  write_file_atomic(path, "epoch 1\n");
  try {
    write_file_atomic(std::vector<std::string>{path}, [](const ByteSink& sink) {
      sink("epoch", 5);
      throw Error("serializer gave up");
    });
    FAIL() << "a failing producer went unnoticed";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "serializer gave up");
  }
  EXPECT_EQ(read_file(path), "epoch 1\n");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir.path()), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace s2s
