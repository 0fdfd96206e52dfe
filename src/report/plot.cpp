// Static charts with cairo: one drawing routine, a PNG or an SVG surface underneath.
#include "s2s/plot.h"

#include <cairo-svg.h>
#include <cairo.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <string>
#include <tuple>
#include <utility>

#include "s2s/error.h"

namespace s2s {

namespace fs = std::filesystem;

namespace {

struct Rgb {
  double r, g, b;
};

// Same palette as the page (web/app.js), so an image and the dashboard read alike.
const Rgb kPalette[] = {{0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173},
                        {0.839, 0.153, 0.157}, {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294},
                        {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498}};

struct Panel {
  const char* title;
  double EpochRecord::*train;
  double EpochRecord::*valid;
  bool unit_range;  // accuracies: fixed 0..1 axis
};

const Panel kPanels[] = {
    {"Loss", &EpochRecord::train_loss, &EpochRecord::valid_loss, false},
    {"Token accuracy", &EpochRecord::train_token_acc, &EpochRecord::valid_token_acc, true},
    {"Sequence accuracy", &EpochRecord::train_seq_acc, &EpochRecord::valid_seq_acc, true},
};

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `count` ticks over span.
double nice_step(double span, int count) {
  if (!(span > 0)) return 1;
  const double raw = span / count;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double f = raw / mag;
  return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

std::string tick_label(double v, double step) {
  char buf[32];
  const int decimals = step >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(step)));
  std::snprintf(buf, sizeof buf, "%.*f", std::min(decimals, 6), v);
  return buf;
}

// A panel's place on the surface and the ranges it shows.
struct Frame {
  double x0, y0, w, h;
  double xmin, xmax;  // epochs
  double lo, hi;      // values
  double x(double epoch) const { return x0 + (epoch - xmin) / std::max(1e-9, xmax - xmin) * w; }
  double y(double v) const { return y0 + h - (v - lo) / (hi - lo) * h; }
};

// lo..hi of the finite values, padded by 5% and starting at 0 or above; 0..1 if none.
std::pair<double, double> padded_range(double lo, double hi) {
  if (!std::isfinite(lo)) return {0, 1};
  return {std::max(0.0, lo - 0.05 * (hi - lo)), hi + 0.05 * (hi - lo) + 1e-9};
}

class Painter {
 public:
  Painter(cairo_t* cr, const std::vector<PlotRun>& runs, const PlotOptions& o)
      : cr_(cr), runs_(runs), o_(o) {}

  void draw() {
    cairo_set_source_rgb(cr_, 1, 1, 1);
    cairo_paint(cr_);
    cairo_select_font_face(cr_, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    const double legend_h = 26.0 * ((runs_.size() + 2) / 3) + 30;
    const double margin = 16, label_w = 52, right = 14, top = 40;
    const double slot_w = (o_.width - 2 * margin) / 3.0;
    const double area_h = o_.height - top - legend_h - 40;
    // With step logs, the per-epoch panels take the upper part and the step curve runs under
    // them across the whole width.
    const bool steps =
        std::any_of(runs_.begin(), runs_.end(), [](const PlotRun& r) { return !r.steps.empty(); });
    const double gap = 70;  // the upper panels' axis labels and the lower title
    const double panel_h = steps ? (area_h - gap) * 0.6 : area_h;
    for (int p = 0; p < 3; ++p) {
      const double x0 = margin + p * slot_w + label_w;
      draw_panel(kPanels[p], x0, top, slot_w - label_w - right, panel_h);
    }
    if (steps) {
      draw_steps_panel(margin + label_w, top + panel_h + gap,
                       o_.width - 2 * margin - label_w - right, area_h - panel_h - gap);
    }
    draw_legend(margin + label_w, top + area_h + 44);
  }

 private:
  void text(double x, double y, const std::string& s, double size, double align_x = 0,
            double align_y = 0) {
    cairo_set_font_size(cr_, size);
    cairo_text_extents_t e;
    cairo_text_extents(cr_, s.c_str(), &e);
    // align_y < 0: y is the baseline (titles line up whatever their letters).
    const double ty = align_y < 0 ? y : y - e.height * align_y - e.y_bearing;
    cairo_move_to(cr_, x - e.width * align_x - e.x_bearing, ty);
    cairo_show_text(cr_, s.c_str());
  }

  // Title, grid, ticks and the frame of a panel.
  void draw_frame(const char* title, const Frame& f) {
    cairo_set_source_rgb(cr_, 0.15, 0.15, 0.15);
    text(f.x0 + f.w / 2, f.y0 - 12, title, 15, 0.5, -1);
    cairo_set_line_width(cr_, 1);
    const double ystep = nice_step(f.hi - f.lo, 5);
    for (double v = std::ceil(f.lo / ystep) * ystep; v <= f.hi + 1e-12; v += ystep) {
      cairo_set_source_rgb(cr_, 0.9, 0.9, 0.9);
      cairo_move_to(cr_, f.x0, std::round(f.y(v)) + 0.5);
      cairo_line_to(cr_, f.x0 + f.w, std::round(f.y(v)) + 0.5);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0.3, 0.3, 0.3);
      text(f.x0 - 6, f.y(v), tick_label(v, ystep), 11, 1, 0.5);
    }
    const double xstep = std::max(1.0, nice_step(f.xmax - f.xmin, 8));
    for (double ep = f.xmin; ep <= f.xmax + 1e-9; ep += xstep) {
      cairo_set_source_rgb(cr_, 0.9, 0.9, 0.9);
      cairo_move_to(cr_, std::round(f.x(ep)) + 0.5, f.y0);
      cairo_line_to(cr_, std::round(f.x(ep)) + 0.5, f.y0 + f.h);
      cairo_stroke(cr_);
      cairo_set_source_rgb(cr_, 0.3, 0.3, 0.3);
      text(f.x(ep), f.y0 + f.h + 6, tick_label(ep, xstep), 11, 0.5, 0);
    }
    text(f.x0 + f.w / 2, f.y0 + f.h + 22, "epoch", 12, 0.5, 0);
    cairo_set_source_rgb(cr_, 0.4, 0.4, 0.4);
    cairo_rectangle(cr_, f.x0 + 0.5, f.y0 + 0.5, f.w, f.h);
    cairo_stroke(cr_);
  }

  // The training loss every few steps (steps.jsonl), across the whole width, x in epochs
  // (0 to the last step's epoch position); one thin solid curve per run.
  void draw_steps_panel(double x0, double y0, double w, double h) {
    double xmax = 1, lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& run : runs_) {
      for (const auto& r : run.steps) {
        xmax = std::max(xmax, r.epoch_fraction);
        if (!std::isfinite(r.train_loss)) continue;
        lo = std::min(lo, r.train_loss);
        hi = std::max(hi, r.train_loss);
      }
    }
    std::tie(lo, hi) = padded_range(lo, hi);
    const Frame f{x0, y0, w, h, 0, std::ceil(xmax), lo, hi};
    draw_frame("Training loss every few steps", f);
    cairo_save(cr_);
    cairo_rectangle(cr_, x0, y0, w + 1, h + 1);
    cairo_clip(cr_);
    cairo_set_line_width(cr_, 1.4);
    for (size_t r = 0; r < runs_.size(); ++r) {
      const Rgb c = kPalette[r % std::size(kPalette)];
      cairo_set_source_rgb(cr_, c.r, c.g, c.b);
      bool pen_down = false;
      for (const auto& s : runs_[r].steps) {
        if (!std::isfinite(s.train_loss)) {
          pen_down = false;
          continue;
        }
        if (pen_down) {
          cairo_line_to(cr_, f.x(s.epoch_fraction), f.y(s.train_loss));
        } else {
          cairo_move_to(cr_, f.x(s.epoch_fraction), f.y(s.train_loss));
        }
        pen_down = true;
      }
      cairo_stroke(cr_);
    }
    cairo_restore(cr_);
  }

  void draw_panel(const Panel& panel, double x0, double y0, double w, double h) {
    // Ranges over every run and both splits.
    int max_epoch = 1;
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& run : runs_) {
      for (const auto& e : run.epochs) {
        max_epoch = std::max(max_epoch, e.epoch);
        for (double v : {e.*panel.train, e.*panel.valid}) {
          if (!std::isfinite(v)) continue;
          lo = std::min(lo, v);
          hi = std::max(hi, v);
        }
      }
    }
    if (panel.unit_range) {
      lo = 0;
      hi = 1;
    } else {
      std::tie(lo, hi) = padded_range(lo, hi);
    }
    const int min_epoch = runs_.empty() ? 0 : 1;
    const Frame f{x0, y0, w, h, static_cast<double>(min_epoch), static_cast<double>(max_epoch),
                  lo, hi};
    auto X = [&](double epoch) { return f.x(epoch); };
    auto Y = [&](double v) { return f.y(v); };
    draw_frame(panel.title, f);

    cairo_save(cr_);
    cairo_rectangle(cr_, x0, y0, w + 1, h + 1);
    cairo_clip(cr_);
    for (size_t r = 0; r < runs_.size(); ++r) {
      const Rgb c = kPalette[r % std::size(kPalette)];
      const auto& epochs = runs_[r].epochs;
      const RunMarkers markers = run_markers(runs_[r].info, epochs);
      // Markers first, so curves stay on top: best epoch dotted, overfitting dashed.
      auto vline = [&](std::optional<int> epoch, std::vector<double> dash, double alpha) {
        if (!epoch) return;
        cairo_set_source_rgba(cr_, c.r, c.g, c.b, alpha);
        cairo_set_dash(cr_, dash.data(), static_cast<int>(dash.size()), 0);
        cairo_set_line_width(cr_, 1.5);
        cairo_move_to(cr_, X(*epoch), y0);
        cairo_line_to(cr_, X(*epoch), y0 + h);
        cairo_stroke(cr_);
      };
      vline(markers.best_epoch, {2, 3}, 0.9);
      vline(markers.overfit_epoch, {8, 4}, 0.6);
      for (int split = 0; split < 2; ++split) {
        double EpochRecord::*field = split == 0 ? panel.train : panel.valid;
        const double dash[] = {6, 4};
        cairo_set_dash(cr_, dash, split == 0 ? 2 : 0, 0);
        cairo_set_line_width(cr_, split == 0 ? 1.6 : 2.2);
        cairo_set_source_rgb(cr_, c.r, c.g, c.b);
        bool pen_down = false;
        for (const auto& e : epochs) {
          const double v = e.*field;
          if (!std::isfinite(v)) {
            pen_down = false;
            continue;
          }
          if (pen_down) {
            cairo_line_to(cr_, X(e.epoch), Y(v));
          } else {
            cairo_move_to(cr_, X(e.epoch), Y(v));
          }
          pen_down = true;
        }
        cairo_stroke(cr_);
        cairo_set_dash(cr_, nullptr, 0, 0);
        // A dot on the best epoch of the validation curve.
        if (split == 1 && markers.best_epoch) {
          for (const auto& e : epochs) {
            if (e.epoch == *markers.best_epoch && std::isfinite(e.*field)) {
              cairo_arc(cr_, X(e.epoch), Y(e.*field), 4, 0, 2 * M_PI);
              cairo_fill(cr_);
            }
          }
        }
      }
    }
    cairo_restore(cr_);
  }

  void draw_legend(double x, double y) {
    cairo_set_source_rgb(cr_, 0.2, 0.2, 0.2);
    text(x, y,
         "solid: validation   dashed: train   dotted line and dot: best epoch   "
         "long dashes: overfitting epoch",
         12, 0, 0);
    const double col_w = (o_.width - 2 * x) / 3;
    for (size_t r = 0; r < runs_.size(); ++r) {
      const Rgb c = kPalette[r % std::size(kPalette)];
      const double cx = x + (r % 3) * col_w, cy = y + 24 + 26 * static_cast<double>(r / 3);
      cairo_set_source_rgb(cr_, c.r, c.g, c.b);
      cairo_rectangle(cr_, cx, cy, 18, 12);
      cairo_fill(cr_);
      const RunMarkers m = run_markers(runs_[r].info, runs_[r].epochs);
      std::string label = runs_[r].info.id + "  (" + std::to_string(runs_[r].epochs.size()) +
                          " epochs, " + display_name(runs_[r].info.status());
      if (m.best_epoch) label += ", best " + std::to_string(*m.best_epoch);
      if (m.overfit_epoch) label += ", overfit " + std::to_string(*m.overfit_epoch);
      label += ")";
      cairo_set_source_rgb(cr_, 0.15, 0.15, 0.15);
      text(cx + 26, cy + 6, label, 12, 0, 0.5);
    }
  }

  cairo_t* cr_;
  const std::vector<PlotRun>& runs_;
  const PlotOptions& o_;
};

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void plot_runs(const std::vector<PlotRun>& runs, const fs::path& out, const PlotOptions& options) {
  if (runs.empty()) throw Error("plot: no runs to draw");
  if (options.width < 400 || options.height < 300 || options.width > 10000 ||
      options.height > 10000)
    throw Error("plot: image size must be between 400x300 and 10000x10000");
  std::string ext = out.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), ::tolower);
  if (ext != ".png" && ext != ".svg")
    throw Error(out.string() + ": unknown image format (use .png or .svg)");
  const fs::path tmp = out.string() + ".tmp";

  cairo_surface_t* surface =
      ext == ".svg" ? cairo_svg_surface_create(tmp.c_str(), options.width, options.height)
                    : cairo_image_surface_create(CAIRO_FORMAT_RGB24, options.width, options.height);
  cairo_t* cr = cairo_create(surface);
  Painter(cr, runs, options).draw();
  cairo_destroy(cr);
  cairo_status_t status = CAIRO_STATUS_SUCCESS;
  if (ext == ".png") status = cairo_surface_write_to_png(surface, tmp.c_str());
  cairo_surface_finish(surface);  // SVG: writes and closes the file
  if (status == CAIRO_STATUS_SUCCESS) status = cairo_surface_status(surface);
  cairo_surface_destroy(surface);
  std::error_code ec;
  if (status != CAIRO_STATUS_SUCCESS) {
    fs::remove(tmp, ec);
    throw Error(out.string() + ": cannot write image: " + cairo_status_to_string(status));
  }
  fsync_path(tmp);
  fs::rename(tmp, out, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw Error(out.string() + ": cannot write image: " + ec.message());
  }
}

}  // namespace s2s
