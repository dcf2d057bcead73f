// Atomic saving: a failure or a kill between writing and renaming never damages the file already at the
// path, and a process killed at any moment of a save loop always leaves a complete checkpoint behind.
#include <catch2/catch.hpp>

#include <omp.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "checkpoint_fixtures.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint.hpp"
#include "xgrad/optim/sgd.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

// Clears the hook however the test ends.
struct HookGuard {
  ~HookGuard() { xgrad::testing::set_before_rename_hook(nullptr); }
};

std::size_t files_in(const TempDir& dir) {
  return static_cast<std::size_t>(std::distance(std::filesystem::directory_iterator(dir.path()), {}));
}

}  // namespace

TEST_CASE("a failure between writing and renaming keeps the old file", "[checkpoint][atomic]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  SGD opt(net.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9});
  Generator data(2);
  save_checkpoint(path, net, &opt, nullptr, {}, {1, 1, {}});
  const std::string old_text = read_text(path);

  train_step(net, opt, data);
  HookGuard guard;
  std::string temp_seen;
  xgrad::testing::set_before_rename_hook([&](const std::string& temp) {
    temp_seen = temp;
    CHECK(std::filesystem::exists(temp));  // written and synced, not yet renamed
    throw Error("injected failure before rename");
  });
  CHECK_THROWS_WITH(save_checkpoint(path, net, &opt, nullptr, {}, {2, 2, {}}),
                    Catch::Contains("injected failure before rename"));
  CHECK(read_text(path) == old_text);
  CHECK_FALSE(std::filesystem::exists(temp_seen));  // the temporary file was removed
  CHECK(files_in(dir) == 1);

  // The old checkpoint still loads; the hook removed, saving works again.
  xgrad::testing::set_before_rename_hook(nullptr);
  TinyNet other(3);
  SGD other_opt(other.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9});
  CHECK(load_checkpoint(path, other, &other_opt).epoch == 1);
  save_checkpoint(path, net, &opt, nullptr, {}, {2, 2, {}});
  CHECK(load_checkpoint(path, other, &other_opt).epoch == 2);
}

TEST_CASE("a process killed between writing and renaming leaves the old file intact", "[checkpoint][atomic]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  save_weights(path, net, {{"version", "old"}});
  const std::string old_text = read_text(path);

  const pid_t child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child changes the weights and is killed (SIGKILL: no handler, no cleanup) just before rename.
    net.named_parameters()[0].second.data()[0] += 1.0f;
    xgrad::testing::set_before_rename_hook([](const std::string&) { ::raise(SIGKILL); });
    try {
      save_weights(path, net, {{"version", "new"}});
    } catch (...) {
    }
    ::_exit(3);  // not reached if the kill happened
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  REQUIRE(WIFSIGNALED(status));
  CHECK(WTERMSIG(status) == SIGKILL);

  CHECK(read_text(path) == old_text);
  TinyNet loaded(7);
  load_weights(path, loaded);
  CHECK(snapshot(loaded) == snapshot(net));
  // The complete new file was written to a temporary name that a kill leaves behind, harmlessly.
  CHECK(files_in(dir) == 2);
}

TEST_CASE("a process killed at any moment of a save loop leaves a complete checkpoint", "[checkpoint][atomic]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  TinyNet net(1);
  SGD opt(net.named_parameters(), SGDOptions{.lr = 0.01, .momentum = 0.9});
  save_checkpoint(path, net, &opt, nullptr, {}, {0, 0, {}});
  for (int delay_ms : {3, 17, 40}) {
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      omp_set_num_threads(1);  // a forked child must not reuse the parent's OpenMP thread pool
      Generator data(5);
      for (std::int64_t step = 1;; ++step) {  // train and save until killed
        train_step(net, opt, data);
        save_checkpoint(path, net, &opt, nullptr, {}, {0, step, {}});
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    TinyNet loaded(9);
    SGD loaded_opt(loaded.named_parameters(), SGDOptions{.lr = 0.01, .momentum = 0.9});
    INFO("killed after " << delay_ms << " ms");
    CHECK_NOTHROW(load_checkpoint(path, loaded, &loaded_opt));
  }
}

TEST_CASE("saving into a missing directory fails with the reason", "[checkpoint][atomic][errors]") {
  TempDir dir;
  TinyNet net(1);
  const std::string path = dir.file("no/such/dir/ckpt.json");
  CHECK_THROWS_WITH(save_weights(path, net), Catch::Contains("save_weights: write_file_atomically") &&
                                                 Catch::Contains(path) &&
                                                 Catch::Contains("No such file or directory"));
  CHECK_THROWS_WITH(write_file_atomically(dir.path().string() + "/", "x"), Catch::Contains("does not name a file"));
}
