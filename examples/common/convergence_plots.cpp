// gnuplot scripts for the convergence study's pictures: see convergence_plots.hpp.
#include "examples/common/convergence_plots.hpp"

#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <tuple>

#include "xgrad/core/error.hpp"
#include "xgrad/models/atomic_file.hpp"

namespace xgrad::examples {
namespace {

// Tableau 10: distinct in colour and still apart in grey.
const char* const kPalette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
const char* colour(std::size_t i) { return kPalette[i % std::size(kPalette)]; }

// A gnuplot double-quoted string: backslash, quote and newline escaped (a title may span lines).
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    out += c == '\n' ? std::string("\\n") : std::string(1, c);
  }
  return out + "\"";
}

// Pixels above the panels for a title of this many lines.
double title_pixels(const std::string& title) {
  return 28.0 + 18.0 * double(std::count(title.begin(), title.end(), '\n') + 1);
}

// A shell single-quoted word.
std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string number(double v) {
  if (std::isnan(v)) return "NaN";
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.9g", v);
  return buffer;
}

// Datablock $<prefix><i>: step, images, train loss, accuracy in %, p15, p50, p85. The row whose loss was
// non-finite (no accuracy) is left out: a log axis cannot show it, and the table reports it.
std::string datablock(const std::string& name, const std::vector<CurvePoint>& curve) {
  std::ostringstream out;
  out << "$" << name << " << EOD\n";
  for (const CurvePoint& p : curve) {
    if (std::isnan(p.test_accuracy)) continue;
    out << p.step << ' ' << p.images << ' ' << number(p.train_loss) << ' ' << number(100 * p.test_accuracy) << ' '
        << number(p.p15) << ' ' << number(p.p50) << ' ' << number(p.p85) << '\n';
  }
  out << "EOD\n";
  return out.str();
}

// The script around a multiplot body: the same body drawn once per terminal.
std::string both_terminals(const std::string& data, const std::string& body, const std::string& base, int width,
                           int height, const Gnuplot& g) {
  std::ostringstream out;
  out << "# Written by bn_vs_no_bn; rerun with: gnuplot " << base << ".gp\n" << data;
  if (!g.png_terminal.empty()) {
    out << "set terminal " << g.png_terminal << " size " << width << "," << height
        << " font 'Sans,10' noenhanced\nset output " << quoted(base + ".png") << "\n"
        << body;
  }
  if (g.svg) {
    out << "set terminal svg size " << width << "," << height << " font 'Sans,10' noenhanced background '#ffffff'\n"
        << "set output " << quoted(base + ".svg") << "\n"
        << body;
  }
  out << "unset output\n";
  return out.str();
}

// Where a cell of a grid of rows x cols goes, below the title strip and above the legend strip.
std::string place(std::size_t row, std::size_t col, std::size_t rows, std::size_t cols, double top, double bottom) {
  const double w = 1.0 / double(cols), h = (1.0 - top - bottom) / double(rows);
  std::ostringstream out;
  out << "set origin " << number(w * double(col)) << "," << number(bottom + h * double(rows - 1 - row))
      << "\nset size " << number(w) << "," << number(h) << "\n";
  return out.str();
}

}  // namespace

Gnuplot find_gnuplot() {
  Gnuplot g;
  FILE* pipe = popen("gnuplot -e 'set terminal' 2>&1", "r");
  if (!pipe) return g;
  std::string text;
  char buffer[512];
  while (std::fgets(buffer, sizeof buffer, pipe)) text += buffer;
  const int status = pclose(pipe);
  if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return g;
  // Each terminal is a line "   name  description": collect the first words.
  std::set<std::string> terminals;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::string first;
    if (words >> first) terminals.insert(first);
  }
  g.found = true;
  g.png_terminal = terminals.count("pngcairo") ? "pngcairo" : terminals.count("png") ? "png" : "";
  g.svg = terminals.count("svg") > 0;
  return g;
}

std::string curves_script(const CurvesPlot& plot, const std::string& base, const Gnuplot& gnuplot) {
  const std::size_t panels = std::max<std::size_t>(1, plot.panel_titles.size());
  std::string data;
  for (std::size_t i = 0; i < plot.lines.size(); ++i) data += datablock("c" + std::to_string(i), *plot.lines[i].curve);

  // The legend: each distinct (title, colour, dash) once, in order of first appearance.
  std::vector<std::tuple<std::string, std::size_t, std::size_t>> entries;
  for (const PlotLine& l : plot.lines) {
    const auto entry = std::make_tuple(l.title, l.color, l.dash);
    if (std::find(entries.begin(), entries.end(), entry) == entries.end()) entries.push_back(entry);
  }
  const std::size_t key_columns = std::min<std::size_t>(entries.size(), panels == 1 ? 5 : 4);
  const std::size_t key_rows = key_columns ? (entries.size() + key_columns - 1) / key_columns : 0;

  // One panel: loss, accuracy, zoom side by side. Several: a row per measure, a column per panel.
  const std::size_t rows = panels == 1 ? 1 : 3, cols = panels == 1 ? 3 : panels;
  const int width = panels == 1 ? 1650 : int(520 * panels), height = panels == 1 ? 560 : 1150;
  const double top = title_pixels(plot.title) / height, bottom = (28.0 + 20.0 * double(key_rows)) / height;
  const std::string x_label = plot.x_images ? "training images" : "step";
  const char* x_column = plot.x_images ? "2" : "1";
  const double zoom_low = std::max(0.0, 100 * plot.target - 7);

  std::ostringstream body;
  body << "reset\nset multiplot title " << quoted(plot.title) << " font ',13'\n"
       << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\nset key off\nset xlabel " << quoted(x_label) << "\n";
  const char* measures[] = {"training loss (mean since the previous point)", "test accuracy",
                            "test accuracy near the target"};
  for (std::size_t m = 0; m < 3; ++m) {
    for (std::size_t p = 0; p < panels; ++p) {
      body << (panels == 1 ? place(0, m, rows, cols, top, bottom) : place(m, p, rows, cols, top, bottom));
      const std::string prefix = panels == 1 || plot.panel_titles.empty() ? "" : plot.panel_titles[p] + ": ";
      body << "set title " << quoted(prefix + measures[m]) << "\n";
      if (m == 0) {
        // gnuplot refuses to autoscale a panel without one finite point (every run diverged at once).
        bool any = false;
        for (const PlotLine& l : plot.lines) {
          for (const CurvePoint& pt : *l.curve) {
            any |= l.panel == p && std::isfinite(pt.train_loss) && pt.train_loss > 0;
          }
        }
        body << "set logscale y\nset yrange " << (any ? "[*:*]" : "[0.1:10]") << "\nset xrange "
             << (any ? "[*:*]" : "[0:1]") << "\nset ylabel 'cross-entropy (log scale)'\n";
      } else {
        body << "unset logscale y\nset xrange [*:*]\nset yrange [" << (m == 1 ? 0.0 : zoom_low) << ":100]\nset ylabel "
             << quoted(plot.accuracy_label) << "\n";
      }
      std::vector<std::string> items;
      for (std::size_t i = 0; i < plot.lines.size(); ++i) {
        const PlotLine& l = plot.lines[i];
        if (l.panel != p) continue;
        items.push_back("$c" + std::to_string(i) + " using " + x_column + ":" + (m == 0 ? "3" : "4") +
                        " with lines lw 1.6 lc rgb '" + colour(l.color) + "' dt " + std::to_string(l.dash + 1) +
                        " notitle");
      }
      if (m == 2) items.push_back(number(100 * plot.target) + " with lines dt 3 lw 1.2 lc rgb '#555555' notitle");
      if (items.empty()) items.push_back("NaN notitle");
      body << "plot ";
      for (std::size_t k = 0; k < items.size(); ++k) body << (k ? ", \\\n     " : "") << items[k];
      body << "\n";
    }
  }
  // The legend strip: curves plotted out of range draw nothing but their key entries.
  body << "set origin 0,0\nset size 1," << number(bottom) << "\nunset title\nunset xlabel\nunset ylabel\n"
       << "unset logscale y\nset xrange [0:1]\nset yrange [0:1]\nunset border\nunset tics\nunset grid\n"
       << "set key on center center horizontal maxcols " << std::max<std::size_t>(1, key_columns)
       << " samplen 5 width 3\nplot ";
  for (std::size_t k = 0; k < entries.size(); ++k) {
    const auto& [title, color, dash] = entries[k];
    body << (k ? ", \\\n     " : "") << "2 with lines lw 2 lc rgb '" << colour(color) << "' dt " << dash + 1
         << " title " << quoted(title);
  }
  if (entries.empty()) body << "2 notitle";
  body << "\nunset multiplot\n";
  return both_terminals(data, body.str(), base, width, height, gnuplot);
}

std::string bands_script(const BandsPlot& plot, const std::string& base, const Gnuplot& gnuplot) {
  const std::size_t cols = std::max<std::size_t>(1, plot.columns);
  const std::size_t rows = std::max<std::size_t>(1, (plot.panels.size() + cols - 1) / cols);
  std::string data;
  for (std::size_t i = 0; i < plot.panels.size(); ++i) {
    data += datablock("b" + std::to_string(i), *plot.panels[i].curve);
  }
  const int width = int(620 * cols), height = int(330 * rows + title_pixels(plot.title));
  const double top = title_pixels(plot.title) / height;

  std::ostringstream body;
  body << "reset\nset multiplot title " << quoted(plot.title) << " font ',13'\n"
       << "set grid lc rgb '#dddddd'\nset border lc rgb '#444444'\nset xlabel 'step'\nset ylabel "
       << quoted(plot.y_label) << "\nset key off\n";
  for (std::size_t i = 0; i < plot.panels.size(); ++i) {
    const std::size_t row = i / cols, col = i % cols;
    // Panels of one row share the y range, so a band's spread compares across the row.
    double low = INFINITY, high = -INFINITY;
    for (std::size_t j = row * cols; j < std::min(plot.panels.size(), (row + 1) * cols); ++j) {
      for (const CurvePoint& p : *plot.panels[j].curve) {
        if (std::isfinite(p.p15)) low = std::min(low, p.p15);
        if (std::isfinite(p.p85)) high = std::max(high, p.p85);
      }
    }
    const BandPanel& panel = plot.panels[i];
    body << place(row, col, rows, cols, top, 0.0) << "set title " << quoted(panel.title) << "\n";
    if (low < high) {
      const double margin = 0.05 * (high - low);
      body << "set yrange [" << number(low - margin) << ":" << number(high + margin) << "]\n";
    } else {
      body << "set yrange [*:*]\n";
    }
    const std::string name = "$b" + std::to_string(i), c = colour(panel.color);
    body << "plot " << name << " using 1:5:7 with filledcurves lc rgb '" << c
         << "' fillstyle transparent solid 0.25 noborder notitle, \\\n     " << name
         << " using 1:6 with lines lw 2 lc rgb '" << c << "' notitle\n";
  }
  body << "unset multiplot\n";
  return both_terminals(data, body.str(), base, width, height, gnuplot);
}

std::vector<std::string> render(const std::string& dir, const std::string& base, const std::string& script,
                                const Gnuplot& gnuplot) {
  XGRAD_CHECK(gnuplot.found, "render: gnuplot was not found on the PATH");
  const std::filesystem::path folder(dir);
  write_file_atomically((folder / (base + ".gp")).string(), script);
  // Pictures of an earlier run must not pass for this run's.
  for (const char* ext : {".png", ".svg"}) std::filesystem::remove(folder / (base + ext));
  const std::string command = "cd " + shell_quoted(dir) + " && gnuplot " + shell_quoted(base + ".gp");
  const int status = std::system(command.c_str());
  XGRAD_CHECK(status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0, "render: gnuplot failed on ",
              (folder / (base + ".gp")).string(), " (exit status ", WIFEXITED(status) ? WEXITSTATUS(status) : -1,
              ")");
  std::vector<std::string> pictures;
  for (const char* ext : {".png", ".svg"}) {
    const auto path = folder / (base + ext);
    if (std::filesystem::exists(path)) pictures.push_back(path.string());
  }
  return pictures;
}

}  // namespace xgrad::examples
