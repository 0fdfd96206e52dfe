// `s2s plot` as a process: the image it writes and its one-line errors.
#include <cairo.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "support/run_command.h"

namespace fs = std::filesystem;

namespace {

const fs::path kRuns = fs::path(S2S_FIXTURES_DIR) / "runs";

fs::path out_dir() {
  const fs::path dir = fs::path(S2S_BINARY_DIR) / "test-artifacts";
  fs::create_directories(dir);
  return dir;
}

// The size of a PNG, decoded by cairo.
std::pair<int, int> png_size(const fs::path& path) {
  cairo_surface_t* s = cairo_image_surface_create_from_png(path.c_str());
  EXPECT_EQ(cairo_surface_status(s), CAIRO_STATUS_SUCCESS) << path;
  const std::pair<int, int> size{cairo_image_surface_get_width(s),
                                 cairo_image_surface_get_height(s)};
  cairo_surface_destroy(s);
  return size;
}

}  // namespace

TEST(PlotCli, WritesPngAndReportsBadInput) {
  const fs::path out = out_dir() / "plot_cli.png";
  fs::remove(out);
  auto r = s2s::test::run_cli("plot " + (kRuns / "gru_h256").string() + " " +
                              (kRuns / "lstm_h256").string() + " -o " + out.string() +
                              " --width 800 --height 400");
  EXPECT_EQ(r.exit_code, 0) << r.out;
  EXPECT_EQ(r.out, "wrote " + out.string() + " (2 runs, 800x400)\n");
  EXPECT_EQ(png_size(out), std::make_pair(800, 400));

  r = s2s::test::run_cli("plot " + (kRuns / "gru_h256").string() + " -o out.gif");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: out.gif: unknown image format (use .png or .svg)\n");
  r = s2s::test::run_cli("plot " + (kRuns / "missing").string() + " -o x.png");
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "s2s: error: " + (kRuns / "missing").string() + ": not a run directory\n");
}
