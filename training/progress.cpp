// ProgressLine and peak memory: see progress.hpp.
#include "xgrad/training/progress.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>

namespace xgrad {

ProgressLine::ProgressLine(std::string label, std::size_t total_steps)
    : label_(std::move(label)),
      total_(total_steps),
      tty_(isatty(fileno(stderr)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressLine::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressLine::update(std::size_t step, double loss, double accuracy, std::size_t images_done) {
  last_step_ = step;
  last_loss_ = loss;
  last_accuracy_ = accuracy;
  last_images_ = images_done;
  const auto now = std::chrono::steady_clock::now();
  if (tty_) {
    if (now - last_draw_ < std::chrono::milliseconds(200) && step < total_) return;
  } else {
    if (step < next_report_step_ || step == total_) return;
    next_report_step_ = step + std::max<std::size_t>(1, total_ / 10);
  }
  last_draw_ = now;
  draw(step, loss, accuracy, images_done, false);
}

void ProgressLine::draw(std::size_t step, double loss, double accuracy, std::size_t images_done,
                        bool final_line) {
  const double seconds = elapsed_seconds();
  const double rate = seconds > 0 ? images_done / seconds : 0.0;
  const double eta = step > 0 && step < total_ ? seconds * double(total_ - step) / double(step) : 0.0;
  char acc[32] = "";
  if (!std::isnan(accuracy)) std::snprintf(acc, sizeof acc, "  acc %.2f%%", 100.0 * accuracy);
  std::fprintf(stderr, "%s%s %zu/%zu  loss %.4f%s  %.0f img/s  %s %.0fs%s", tty_ ? "\r\033[K" : "",
               label_.c_str(), step, total_, loss, acc, rate, final_line ? "took" : "ETA",
               final_line ? seconds : eta, tty_ && !final_line ? "" : "\n");
  std::fflush(stderr);
}

double ProgressLine::finish() {
  draw(last_step_, last_loss_, last_accuracy_, last_images_, true);
  return elapsed_seconds();
}

double peak_rss_mb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;  // ru_maxrss is in KB on Linux
}

}  // namespace xgrad
