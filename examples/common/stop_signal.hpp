// SIGINT and SIGTERM as a request to stop: the first one is recorded and the training loop stops at the next
// step boundary (the trainer then saves a checkpoint and the report and exits 128 + signal: 130 / 143); a
// second one exits at once with that status. Not for library code: it installs process-wide handlers.
#pragma once

namespace xgrad::examples {

// Installs the handlers for SIGINT and SIGTERM (idempotent).
void install_stop_handlers();

// The signal received (SIGINT or SIGTERM), or 0 while none has been.
int stop_requested();

// "SIGINT", "SIGTERM" or "signal N".
const char* signal_name(int sig);

namespace testing {
// Records `sig` as if it had been received (for tests of the training loop); 0 clears it.
void request_stop(int sig);
}  // namespace testing

}  // namespace xgrad::examples
