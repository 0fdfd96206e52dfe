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
#include "support/run_command.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRuns = fs::path(S2S_FIXTURES_DIR) / "runs";

std::vector<s2s::PlotRun> fixture_runs(std::initializer_list<const char*> names) {
  std::vector<s2s::PlotRun> runs;
  for (const char* name : names) {
    s2s::PlotRun r{s2s::load_run(kRuns / name), {}};
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

TEST(Plot, RefusesUnknownFormatsAndEmptyInput) {
  EXPECT_THROW(s2s::plot_runs(fixture_runs({"gru_h256"}), out_dir() / "x.jpg"), s2s::Error);
  EXPECT_THROW(s2s::plot_runs({}, out_dir() / "x.png"), s2s::Error);
  EXPECT_FALSE(fs::exists(out_dir() / "x.jpg"));
}

TEST(PlotCli, WritesPngAndReportsBadInput) {
  const fs::path out = out_dir() / "plot_cli.png";
  fs::remove(out);
  auto r = s2s::test::run_cli("plot " + (kRuns / "gru_h256").string() + " " +
                              (kRuns / "lstm_h256").string() + " -o " + out.string() +
                              " --width 800 --height 400");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "wrote " + out.string() + " (2 runs, 800x400)\n");
  const Png png = decode(out);
  EXPECT_EQ(png.width, 800);
  EXPECT_EQ(png.height, 400);

  r = s2s::test::run_cli("plot " + (kRuns / "gru_h256").string() + " -o out.gif");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: out.gif: unknown image format (use .png or .svg)\n");
  r = s2s::test::run_cli("plot " + (kRuns / "missing").string() + " -o x.png");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: " + (kRuns / "missing").string() + ": not a run directory\n");
}
