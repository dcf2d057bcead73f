// A live progress line for long work: step/total, loss, accuracy, images/s and ETA.
// On a terminal it redraws one line in place (at most 5 times a second); elsewhere (CI logs, pipes) it
// prints a plain line every tenth of the way, so logs stay short.
#pragma once
#include <chrono>
#include <cstddef>
#include <string>

namespace xgrad {

class ProgressLine {
 public:
  ProgressLine(std::string label, std::size_t total_steps);
  // Call after each step with running averages over the epoch so far; accuracy NaN (regression): not shown.
  void update(std::size_t step, double loss, double accuracy, std::size_t images_done);
  // Ends the line; returns the elapsed seconds.
  double finish();
  double elapsed_seconds() const;

 private:
  void draw(std::size_t step, double loss, double accuracy, std::size_t images_done, bool final_line);

  std::string label_;
  std::size_t total_;
  bool tty_;
  std::chrono::steady_clock::time_point start_, last_draw_;
  std::size_t next_report_step_ = 0;
  std::size_t last_step_ = 0;
  double last_loss_ = 0, last_accuracy_ = 0;
  std::size_t last_images_ = 0;
};

// Peak resident memory of this process so far, in MB (getrusage).
double peak_rss_mb();

}  // namespace xgrad
