// One framework alone in its process, over an epoch-sized stretch: what a user's training run sees,
// without the interleaved windows' cache and allocator effects between frameworks.
#pragma once
#include "bench/runner.hpp"

namespace xgrad::bench {

struct StandaloneResult {
  double images_per_second = 0;
  double seconds = 0;
  double new_calls_per_step = 0;
  double minor_faults_per_step = 0;
};

// Warm-up (warmup_seconds, at least 3 steps), then steps covering `images` images in one timed stretch.
StandaloneResult run_standalone(Runner& runner, int batch, long images, double warmup_seconds);

}  // namespace xgrad::bench
