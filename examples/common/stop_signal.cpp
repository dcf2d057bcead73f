// Stop requests by signal: see stop_signal.hpp.
#include "examples/common/stop_signal.hpp"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstring>

namespace xgrad::examples {
namespace {

std::atomic<int> received{0};  // lock-free on every platform we build for: safe in a handler
std::function<int(int)> agreement;

// Async-signal-safe: an atomic exchange, write(2) and _exit only.
void on_signal(int sig) {
  if (received.exchange(sig) != 0) {
    const char message[] = "\nsecond signal: exiting now, without saving\n";
    [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message, sizeof message - 1);
    ::_exit(128 + sig);
  }
  const char message[] = "\nsignal received: stopping after this step (send it again to exit now)\n";
  [[maybe_unused]] const ssize_t n = ::write(STDERR_FILENO, message, sizeof message - 1);
}

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = on_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // a read or write in progress goes on; the loop checks the flag between steps
  ::sigaction(SIGINT, &action, nullptr);
  ::sigaction(SIGTERM, &action, nullptr);
  ::sigaction(SIGUSR1, &action, nullptr);
}

int stop_requested() { return received.load(); }

void set_stop_agreement(std::function<int(int)> agree) { agreement = std::move(agree); }

int stop_agreed() { return agreement ? agreement(stop_requested()) : stop_requested(); }

const char* signal_name(int sig) {
  if (sig == SIGINT) return "SIGINT";
  if (sig == SIGTERM) return "SIGTERM";
  if (sig == SIGUSR1) return "SIGUSR1";
  return "a signal";
}

namespace testing {
void request_stop(int sig) { received.store(sig); }
}  // namespace testing

}  // namespace xgrad::examples
