// Pictures of a convergence study through gnuplot: a self-contained gnuplot script per picture (the data
// inlined as datablocks, so the script can be edited and rerun by hand) that writes a PNG and an SVG.
// Not a plotting library: two fixed layouts, curves and percentile bands.
#pragma once
#include <string>
#include <vector>

#include "examples/common/convergence_run.hpp"

namespace xgrad::examples {

// What this machine's gnuplot can do; found == false when there is no gnuplot on the PATH.
struct Gnuplot {
  bool found = false;
  std::string png_terminal;  // "pngcairo", else "png"; empty when neither exists
  bool svg = false;
};
Gnuplot find_gnuplot();

// One curve: drawn in `panel` (a column of the picture) with palette colour `color` and dash type `dash`
// (0 solid, 1 dashed, ...). The legend shows each distinct (title, color, dash) once.
struct PlotLine {
  std::string title;
  std::size_t panel = 0;
  std::size_t color = 0;
  std::size_t dash = 0;
  const std::vector<CurvePoint>* curve = nullptr;
};

// Training loss (log scale), test accuracy, and test accuracy zoomed near `target`, against step (or
// training images), for every line. One panel: the three side by side; several: one column per panel.
struct CurvesPlot {
  std::string title;
  std::string accuracy_label;  // e.g. "test accuracy, first 2000 test images (%)"
  bool x_images = false;       // x axis: training images instead of steps
  double target = 0.97;
  std::vector<std::string> panel_titles;  // one per panel
  std::vector<PlotLine> lines;
};

// The 15th-85th percentile band and the median (line) of each curve's probe, one panel per curve, in a
// grid of `columns` columns; panels of one row share their y range. No legend: the title says it.
struct BandPanel {
  std::string title;
  std::size_t color = 0;
  const std::vector<CurvePoint>* curve = nullptr;
};
struct BandsPlot {
  std::string title;
  std::string y_label;
  std::size_t columns = 2;
  std::vector<BandPanel> panels;  // row-major
};

// gnuplot script text that draws the picture into "<base>.png" and "<base>.svg" (names relative to the
// directory gnuplot runs in), using the terminals `gnuplot` has.
std::string curves_script(const CurvesPlot& plot, const std::string& base, const Gnuplot& gnuplot);
std::string bands_script(const BandsPlot& plot, const std::string& base, const Gnuplot& gnuplot);

// Writes `script` to dir/<base>.gp and runs gnuplot on it in `dir`. Returns the pictures written
// (dir/<base>.png, dir/<base>.svg), or throws xgrad::Error with gnuplot's exit status.
std::vector<std::string> render(const std::string& dir, const std::string& base, const std::string& script,
                                const Gnuplot& gnuplot);

}  // namespace xgrad::examples
