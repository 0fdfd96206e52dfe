// Grid parsing: what `--grid` accepts, how it names runs, and the errors for bad grids.
#include <gtest/gtest.h>

#include <algorithm>

#include "report/grid.h"
#include "s2s/error.h"
#include "s2s/run_record.h"

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
  std::string known;
  for (const std::string& key : grid_keys()) known += (known.empty() ? "" : ", ") + key;
  EXPECT_EQ(error_of("layers=1 depth=2"),
            "--grid 'depth=2': unknown key 'depth' (known: " + known + ")");
  EXPECT_EQ(error_of("threads=2"), "--grid 'threads=2': unknown key 'threads' (known: " + known +
                                       ")");  // the experiment shares the cores itself
  EXPECT_EQ(error_of("out=x"), "--grid 'out=x': unknown key 'out' (known: " + known + ")");
  EXPECT_EQ(error_of("ranks=2"), "--grid 'ranks=2': unknown key 'ranks' (known: " + known + ")");
  // The experiment's trainings are single processes: they send no gradients to compress.
  EXPECT_EQ(
      error_of("grad_compression=fp16"),
      "--grid 'grad_compression=fp16': unknown key 'grad_compression' (known: " + known + ")");
}

// The axes are the training configuration's settings (the one list in src/run/config_fields.h)
// but the paths, the threads and what is not a flag, then train_size and the decode axes.
TEST(Grid, KeysAreDerivedFromTheTrainingConfiguration) {
  std::vector<std::string> expected;
  for (const TrainSetting& s : train_settings())
    if (s.kind != TrainSetting::Kind::Path && !s.flag.empty() && s.key != "threads" &&
        s.key != "grad_compression")
      expected.push_back(s.key);
  expected.insert(expected.end(), {"train_size", "beam", "length_penalty"});
  EXPECT_EQ(grid_keys(), expected);
  for (const char* key :
       {"attention", "lr_schedule", "bidirectional", "precision", "cell", "hidden", "layers",
        "dropout", "lr", "batch", "epochs", "input_feeding", "teacher_forcing", "accumulate"})
    EXPECT_NE(std::find(expected.begin(), expected.end(), key), expected.end()) << key;
  EXPECT_EQ(axis_kind("beam"), AxisKind::Decode);
  EXPECT_EQ(axis_kind("length_penalty"), AxisKind::Decode);
  EXPECT_EQ(axis_kind("train_size"), AxisKind::TrainSize);
  EXPECT_EQ(axis_kind("attention"), AxisKind::Training);
}

TEST(Grid, AcceptsFlagSpellingsAndCanonicalizesEveryKind) {
  const Grid g = parse_grid(
      "rnn-impl=torch lr-schedule=constant,warmup-cosine bidirectional=true,false "
      "attention=general input_feeding=true beam=1,05 length_penalty=none,wu:1.0");
  ASSERT_EQ(g.axes.size(), 7u);
  EXPECT_EQ(g.axes[0].key, "impl");
  EXPECT_EQ(g.axes[1].key, "lr_schedule");
  EXPECT_EQ(g.axes[2].values, (std::vector<std::string>{"true", "false"}));
  EXPECT_EQ(g.axes[5].values, (std::vector<std::string>{"1", "5"}));
  EXPECT_EQ(g.axes[6].values, (std::vector<std::string>{"none", "wu:1"}));
  EXPECT_EQ(run_name(expand(g)[0]),
            "torch-constant-bidirectional-attgeneral-input_feeding-beam1-lpnone");
  EXPECT_EQ(run_name({{"bidirectional", "false"}, {"lr_patience", "3"}}),
            "no_bidirectional-lr_patience3");
}

// A name past 200 bytes (a grid over every axis) keeps its first 183 and ends in a hash of the
// whole name, so that DIR/logs/NAME.log fits a file name and each run keeps its own name.
TEST(Grid, OverlongRunNamesEndInAHashOfTheWholeName) {
  RunParams params, other;
  for (int i = 0; i < 30; ++i) {
    params.push_back({"label_smoothing", "0.0" + std::to_string(i)});
    other.push_back({"label_smoothing", "0.0" + std::to_string(i == 29 ? 30 : i)});
  }
  const std::string full = [&] {
    std::string n;
    for (const auto& [k, v] : params) n += (n.empty() ? "" : "-") + k + v;
    return n;
  }();
  const std::string name = run_name(params);
  ASSERT_GT(full.size(), 200u);
  EXPECT_EQ(name.size(), 200u);
  EXPECT_EQ(name.substr(0, 183), full.substr(0, 183));
  EXPECT_EQ(name[183], '-');
  EXPECT_EQ(name.find_first_not_of("0123456789abcdef", 184), std::string::npos) << name;
  EXPECT_EQ(run_name(params), name);  // the same every time
  EXPECT_NE(run_name(other), name);   // the hash covers the parts past the cut
  EXPECT_EQ(run_name(other).substr(0, 183), name.substr(0, 183));
  EXPECT_EQ(run_name({{"time_budget", "55"}}), "tb55");
}

TEST(Grid, RejectsValuesAndCombinationsTrainOrTheSearchWouldRefuse) {
  EXPECT_EQ(error_of("bidirectional=yes"),
            "--grid 'bidirectional=yes': bidirectional must be true or false, got 'yes'");
  EXPECT_EQ(error_of("attention=soft"),
            "--grid 'attention=soft': unknown attention 'soft': expected none, dot, general or "
            "concat");
  EXPECT_EQ(error_of("lr_schedule=linear")
                .rfind("--grid 'lr_schedule=linear': unknown learning-rate schedule 'linear'", 0),
            0u);
  EXPECT_EQ(error_of("beam=0"), "--grid 'beam=0': --beam must be in 1..1024, got 0");
  EXPECT_EQ(error_of("beam=2000"), "--grid 'beam=2000': --beam must be in 1..1024, got 2000");
  EXPECT_EQ(error_of("beam=two"), "--grid 'beam=two': beam must be a whole number, got 'two'");
  EXPECT_EQ(error_of("length_penalty=wu:x").rfind("--grid 'length_penalty=wu:x': ", 0), 0u);
  EXPECT_EQ(error_of("teacher_forcing=1.5"),
            "--grid 'teacher_forcing=1.5': --teacher-forcing must be in [0, 1]");
  // Each value is fine alone; the combination is what `s2s train` refuses.
  EXPECT_EQ(error_of("impl=onednn,torch precision=bf16"),
            "--grid: the run impl=torch precision=bf16: --precision bf16 needs --rnn-impl onednn "
            "or gemm (the stock torch RNNs run in f32 only)");
  EXPECT_NO_THROW(parse_grid("attention=general,dot input_feeding=true,false"));
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
  // Ranges are s2s train's own (TrainConfig::validate_settings), in its words.
  EXPECT_EQ(error_of("layers=0"), "--grid 'layers=0': --layers must be between 1 and 64");
  EXPECT_EQ(error_of("hidden=-8"), "--grid 'hidden=-8': --hidden must be between 1 and 16384");
  EXPECT_EQ(error_of("dropout=abc"), "--grid 'dropout=abc': dropout must be a number, got 'abc'");
  EXPECT_EQ(error_of("dropout=0.5x"),
            "--grid 'dropout=0.5x': dropout must be a number, got '0.5x'");
  EXPECT_EQ(error_of("dropout=1"), "--grid 'dropout=1': --dropout must be in [0, 1)");
  EXPECT_EQ(error_of("dropout=nan"), "--grid 'dropout=nan': dropout must be a number, got 'nan'");
  EXPECT_EQ(error_of("lr=0"), "--grid 'lr=0': --lr must be in (0, 10)");
  EXPECT_EQ(error_of("train_size=4"),
            "--grid 'train_size=4': train_size must be between 5 and 1000000000, got 4");
  EXPECT_EQ(error_of("cell=transformer"),
            "--grid 'cell=transformer': unknown cell 'transformer': expected gru, lstm or rnn");
  EXPECT_EQ(error_of("precision=f16"),
            "--grid 'precision=f16': unknown precision 'f16': expected f32 or bf16");
}

}  // namespace
}  // namespace s2s::report
