// SIGTERM and SIGINT stop a trainer at the next step boundary: it saves a checkpoint of that point and the
// report and exits 143 / 130; resuming from that checkpoint ends bit-identical to a run never stopped. A
// second signal exits at once.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "example_runner.hpp"
#include "examples/common/stop_signal.hpp"

using namespace example_runner;

namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

// Starts `program args` with its stderr in dir/name.err; returns the shell's pid (exec replaces it).
pid_t start(const TempDir& dir, const std::string& program, const std::string& args, const std::string& name) {
  const std::string command = "exec '" + std::string(XGRAD_BUILD_DIR) + "/" + program + "' " + args + " >'" +
                              (dir / (name + ".out")) + "' 2>'" + (dir / (name + ".err")) + "'";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return pid;
}

// The model and optimizer sections of a checkpoint: what must match bit for bit (metadata holds timings).
json trained_state(const std::string& path) {
  json doc = read_json(path);
  return {{"model", doc["model"]}, {"optimizer", doc["optimizer"]}, {"scheduler", doc["scheduler"]},
          {"generators", doc["generators"]}, {"epoch", doc["epoch"]}};
}

}  // namespace

TEST_CASE("signals: SIGTERM saves the step in progress, exits 143, and the resume is bit-identical",
          "[reliability][signals]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 1200, 16);
  const std::string common = "--data " + quoted(data) + " --epochs 2 --batch-size 4 --seed 5 --threads 1";
  Run full = run(dir, "train_mnist", common + " --checkpoint " + quoted(dir / "full.ckpt"));
  INFO(full.err);
  REQUIRE(full.status == 0);

  const std::string ckpt = dir / "stopped.ckpt", report = dir / "stopped.json";
  const pid_t pid = start(dir, "train_mnist", common + " --checkpoint " + quoted(ckpt) + " --report " + quoted(report),
                          "stopped");
  REQUIRE(pid > 0);
  // Once training has begun (the trainer says how many images it read), stop it.
  for (int i = 0; i < 600 && read_text(dir / "stopped.err").find(" training and ") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ::kill(pid, SIGTERM);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  const std::string err = read_text(dir / "stopped.err");
  INFO(err);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 143);
  CHECK(err.find("SIGTERM: stopped ") != std::string::npos);
  const json stopped = read_json(report);
  CHECK(stopped["stopped"]["signal"] == "SIGTERM");
  // Mid-epoch, almost always; at the end of epoch 1 if the signal came during its evaluation.
  const json saved = read_json(ckpt);
  const bool mid_epoch = saved["metadata"].contains("steps_in_epoch");
  CHECK((mid_epoch || saved["epoch"] == 1));

  const Run resumed = run(dir, "train_mnist", common + " --resume " + quoted(ckpt) + " --checkpoint " + quoted(ckpt));
  INFO(resumed.err);
  REQUIRE(resumed.status == 0);
  if (mid_epoch) CHECK(resumed.err.find("resumed from " + ckpt + " after step") != std::string::npos);
  CHECK(trained_state(ckpt) == trained_state(dir / "full.ckpt"));
}

TEST_CASE("signals: the first SIGINT is recorded, the second exits at once with 130", "[reliability][signals]") {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    xgrad::examples::install_stop_handlers();
    ::raise(SIGINT);
    if (xgrad::examples::stop_requested() != SIGINT) ::_exit(3);
    ::raise(SIGINT);  // exits in the handler
    ::_exit(4);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 130);
}
