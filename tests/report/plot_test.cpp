// `s2s plot` output: real PNG/SVG files of the right size with the curves drawn.
#include "s2s/plot.h"

#include <cairo.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "s2s/error.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRuns = fs::path(S2S_FIXTURES_DIR) / "runs";

std::vector<s2s::PlotRun> fixture_runs(std::initializer_list<const char*> names) {
  std::vector<s2s::PlotRun> runs;
  for (const char* name : names) {
    s2s::PlotRun r{s2s::load_run(kRuns / name), {}, {}};
    r.epochs = s2s::read_metrics(r.info.metrics_path());
    runs.push_back(r);
  }
  return runs;
}

fs::path out_dir() {
  const fs::path dir = fs::path(S2S_BINARY_DIR) / "test-artifacts";
  fs::create_directories(dir);
  return dir;
}

// Pixel counts per colour of a PNG, decoded by cairo.
struct Png {
  int width = 0, height = 0;
  std::map<uint32_t, long> colours;
};

Png decode(const fs::path& path) {
  Png png;
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  EXPECT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS) << path;
  png.width = cairo_image_surface_get_width(s);
  png.height = cairo_image_surface_get_height(s);
  const int stride = cairo_image_surface_get_stride(s);
  const unsigned char* data = cairo_image_surface_get_data(s);
  for (int y = 0; data && y < png.height; ++y) {
    const auto* row = reinterpret_cast<const uint32_t*>(data + y * stride);
    for (int x = 0; x < png.width; ++x) ++png.colours[row[x] & 0xffffff];
  }
  cairo_surface_destroy(s);
  return png;
}

}  // namespace

TEST(Plot, PngHasTheSizeAndTheRunColours) {
  const fs::path out = out_dir() / "plot_three_runs.png";
  fs::remove(out);
  s2s::plot_runs(fixture_runs({"gru_h256", "lstm_h256", "rnn_h128"}), out);
  const Png png = decode(out);
  EXPECT_EQ(png.width, 1500);
  EXPECT_EQ(png.height, 520);
  const long total = 1500L * 520L;
  // Mostly white background, but not blank.
  EXPECT_GT(png.colours.at(0xffffff), total / 2);
  EXPECT_LT(png.colours.at(0xffffff), total * 98 / 100);
  // Each run's colour (the palette's first three) covers a curve's worth of pixels.
  for (uint32_t colour : {0x1f77b4u, 0xff7f0eu, 0x2ca02cu}) {
    auto it = png.colours.find(colour);
    ASSERT_NE(it, png.colours.end()) << std::hex << colour;
    EXPECT_GT(it->second, 500) << std::hex << colour;
  }
  EXPECT_EQ(png.colours.count(0xd62728u), 0u) << "a fourth run's colour with three runs";
}

TEST(Plot, SvgHasSizeCurvesAndLabels) {
  const fs::path out = out_dir() / "plot_gru.svg";
  s2s::PlotOptions o;
  o.width = 1200;
  o.height = 480;
  s2s::plot_runs(fixture_runs({"gru_h256"}), out, o);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  const std::string svg = text.str();
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("width=\"1200pt\" height=\"480pt\""), std::string::npos);
  // Curves are stroked paths in the run's colour: 3 panels x (train, valid).
  const std::string stroke = "stroke:rgb(12.2%,46.7%,70.6%)";  // #1f77b4
  int n = 0;
  for (auto at = svg.find(stroke); at != std::string::npos; at = svg.find(stroke, at + 1)) ++n;
  EXPECT_GE(n, 6);
}

int strokes_of_first_colour(const fs::path& svg_path) {
  std::ifstream in(svg_path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string svg = text.str();
  const std::string stroke = "stroke:rgb(12.2%,46.7%,70.6%)";  // #1f77b4
  int n = 0;
  for (auto at = svg.find(stroke); at != std::string::npos; at = svg.find(stroke, at + 1)) ++n;
  return n;
}

// A run with steps.jsonl gets one more curve (the step panel); the image keeps its size.
TEST(Plot, DrawsTheStepLogUnderTheEpochPanels) {
  auto runs = fixture_runs({"gru_h256"});
  const fs::path without = out_dir() / "plot_no_steps.svg";
  s2s::plot_runs(runs, without);
  for (int64_t step = 10; step <= 300; step += 10) {
    s2s::StepRecord r;
    r.step = step;
    r.epoch = 1 + (step - 1) / 100;
    r.epoch_fraction = step / 100.0;
    r.train_loss = 2.0 / static_cast<double>(step);
    runs[0].steps.push_back(r);
  }
  const fs::path with = out_dir() / "plot_steps.svg";
  s2s::plot_runs(runs, with);
  EXPECT_EQ(strokes_of_first_colour(with), strokes_of_first_colour(without) + 1);
  const fs::path png = out_dir() / "plot_steps.png";
  s2s::plot_runs(runs, png);
  EXPECT_EQ(decode(png).height, 520);
}

TEST(Plot, RefusesUnknownFormatsAndEmptyInput) {
  EXPECT_THROW(s2s::plot_runs(fixture_runs({"gru_h256"}), out_dir() / "x.jpg"), s2s::Error);
  EXPECT_THROW(s2s::plot_runs({}, out_dir() / "x.png"), s2s::Error);
  EXPECT_FALSE(fs::exists(out_dir() / "x.jpg"));
}
