// SIGINT and SIGTERM as a request to stop: the first one is recorded and the training loop stops at the next
// step boundary (the trainer then saves a checkpoint and the report and exits 128 + signal: 130 / 143); a
// second one exits at once with that status. SIGUSR1 asks the same (exit 138): mpirun keeps SIGINT and
// SIGTERM for itself (it kills the job) but forwards SIGUSR1 to every rank. Not for library code: it installs process-wide handlers.
// Under mpirun every rank must stop at the same step (a rank that went on would wait in the next allreduce
// forever), so the ranks agree on the request at each step boundary (set_stop_agreement, stop_agreed).
#pragma once
#include <functional>

namespace xgrad::examples {

// Installs the handlers for SIGINT, SIGTERM and SIGUSR1 (idempotent).
void install_stop_handlers();

// The signal received (SIGINT, SIGTERM or SIGUSR1), or 0 while none has been.
int stop_requested();

// Data-parallel runs: `agree` returns the maximum over the ranks of each rank's stop_requested(); it is
// collective, so every rank calls it once per step (stop_agreed). An empty function: one process.
void set_stop_agreement(std::function<int(int)> agree);

// At a step boundary: stop_requested(), combined over the ranks when an agreement is set (the highest
// signal number wins when ranks received different ones).
int stop_agreed();

// "SIGINT", "SIGTERM", "SIGUSR1" or "a signal".
const char* signal_name(int sig);

namespace testing {
// Records `sig` as if it had been received (for tests of the training loop); 0 clears it.
void request_stop(int sig);
}  // namespace testing

}  // namespace xgrad::examples
