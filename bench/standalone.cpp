// A standalone run: see standalone.hpp.
#include "bench/standalone.hpp"

#include "bench/bench_util.hpp"

namespace xgrad::bench {

StandaloneResult run_standalone(Runner& runner, int batch, long images, double warmup_seconds) {
  const double w0 = now_seconds();
  for (int s = 0; s < 3 || now_seconds() - w0 < warmup_seconds; ++s) runner.step();
  const long steps = (images + batch - 1) / batch;
  const std::int64_t f0 = minor_faults(), n0 = new_calls();
  const double t0 = now_seconds();
  for (long s = 0; s < steps; ++s) runner.step();
  StandaloneResult r;
  r.seconds = now_seconds() - t0;
  r.images_per_second = double(steps) * batch / r.seconds;
  r.new_calls_per_step = double(new_calls() - n0) / double(steps);
  r.minor_faults_per_step = double(minor_faults() - f0) / double(steps);
  return r;
}

}  // namespace xgrad::bench
