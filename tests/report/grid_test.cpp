// Grid parsing: what `--grid` accepts, how it names runs, and the errors for bad grids.
#include <gtest/gtest.h>

#include "report/grid.h"
#include "s2s/error.h"

namespace s2s::report {
namespace {

std::string error_of(const std::string& grid) {
  try {
    parse_grid(grid);
  } catch (const Error& e) {
    EXPECT_EQ(e.exit_code(), 2);
    return e.what();
  }
  return "no error";
}

TEST(Grid, ParsesAxesInOrderWithCanonicalValues) {
  const Grid g = parse_grid("  layers=1,4   dropout=0,0.80 train-size=2800,14000 lr=1e-3 ");
  ASSERT_EQ(g.axes.size(), 4u);
  EXPECT_EQ(g.axes[0].key, "layers");
  EXPECT_EQ(g.axes[0].values, (std::vector<std::string>{"1", "4"}));
  EXPECT_EQ(g.axes[1].values, (std::vector<std::string>{"0", "0.8"}));
  EXPECT_EQ(g.axes[2].key, "train_size");  // the flag spelling maps to the key
  EXPECT_EQ(g.axes[2].values, (std::vector<std::string>{"2800", "14000"}));
  EXPECT_EQ(g.axes[3].values, (std::vector<std::string>{"0.001"}));
}

TEST(Grid, ExpandsTheCartesianProductFirstAxisOutermost) {
  const auto runs = expand(parse_grid("layers=1,4 dropout=0,0.8 cell=gru,lstm"));
  ASSERT_EQ(runs.size(), 8u);
  EXPECT_EQ(run_name(runs[0]), "l1-d0-gru");
  EXPECT_EQ(run_name(runs[1]), "l1-d0-lstm");
  EXPECT_EQ(run_name(runs[2]), "l1-d0.8-gru");
  EXPECT_EQ(run_name(runs[7]), "l4-d0.8-lstm");
  EXPECT_EQ(param_or(runs[7], "cell", "?"), "lstm");
  EXPECT_EQ(param_or(runs[7], "hidden", "256"), "256");
}

TEST(Grid, RejectsUnknownKeysNamingTheKnownOnes) {
  EXPECT_EQ(error_of("layers=1 depth=2"),
            "--grid 'depth=2': unknown key 'depth' (known: cell, layers, hidden, dropout, epochs, "
            "batch, lr, patience, seed, lr_decay, impl, precision, train_size)");
}

TEST(Grid, RejectsEmptyGridsAndEmptyValues) {
  EXPECT_NE(error_of("").find("--grid: empty grid"), std::string::npos);
  EXPECT_NE(error_of("   ").find("--grid: empty grid"), std::string::npos);
  EXPECT_EQ(error_of("layers="), "--grid 'layers=': no values for 'layers'");
  EXPECT_EQ(error_of("layers=1,,4"), "--grid 'layers=1,,4': empty value for 'layers'");
  EXPECT_EQ(error_of("layers=1,4,"), "--grid 'layers=1,4,': empty value for 'layers'");
  EXPECT_EQ(error_of("dropout=,0.5"), "--grid 'dropout=,0.5': empty value for 'dropout'");
}

TEST(Grid, RejectsMalformedTokens) {
  EXPECT_EQ(error_of("layers"), "--grid 'layers': expected key=value,value,... (e.g. layers=1,4)");
  EXPECT_EQ(error_of("=4"), "--grid '=4': expected key=value,value,... (e.g. layers=1,4)");
  EXPECT_EQ(error_of("layers=1 layers=4"), "--grid 'layers=4': 'layers' given twice");
  EXPECT_EQ(error_of("layers=4,4"), "--grid 'layers=4,4': value 4 given twice");
  EXPECT_EQ(error_of("dropout=0.5,0.50"), "--grid 'dropout=0.5,0.50': value 0.5 given twice");
}

TEST(Grid, RejectsBadNumbers) {
  EXPECT_EQ(error_of("layers=1.5"),
            "--grid 'layers=1.5': layers must be a whole number, got '1.5'");
  EXPECT_EQ(error_of("layers=four"),
            "--grid 'layers=four': layers must be a whole number, got 'four'");
  EXPECT_EQ(error_of("layers=0"), "--grid 'layers=0': layers must be between 1 and 64, got 0");
  EXPECT_EQ(error_of("hidden=-8"),
            "--grid 'hidden=-8': hidden must be between 1 and 65536, got -8");
  EXPECT_EQ(error_of("dropout=abc"), "--grid 'dropout=abc': dropout must be a number, got 'abc'");
  EXPECT_EQ(error_of("dropout=0.5x"),
            "--grid 'dropout=0.5x': dropout must be a number, got '0.5x'");
  EXPECT_EQ(error_of("dropout=1"),
            "--grid 'dropout=1': dropout must be at least 0 and below 1, got 1");
  EXPECT_EQ(error_of("dropout=nan"), "--grid 'dropout=nan': dropout must be a number, got 'nan'");
  EXPECT_EQ(error_of("lr=0"), "--grid 'lr=0': lr must be above 0, got 0");
  EXPECT_EQ(error_of("train_size=4"),
            "--grid 'train_size=4': train_size must be between 5 and 1000000000, got 4");
  EXPECT_EQ(error_of("cell=transformer"),
            "--grid 'cell=transformer': 'transformer' is not a valid cell (one of: gru lstm rnn)");
  EXPECT_EQ(error_of("precision=f16"),
            "--grid 'precision=f16': 'f16' is not a valid precision (one of: f32 bf16)");
}

}  // namespace
}  // namespace s2s::report
