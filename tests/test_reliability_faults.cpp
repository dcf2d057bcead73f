// Fault injection on checkpoint saving: a process killed (SIGKILL) at many random moments of a save loop
// always leaves a file at the path that loads and is exactly the last completed save or the one in
// progress; a write that fails (file-size limit, unwritable directory) throws an error naming the path and
// the reason, and leaves the previous checkpoint intact with no temporary file behind.
// Not about durability across power loss: a killed process's writes stay in the page cache.
#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <random>
#include <thread>

#include "checkpoint_fixtures.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/models/checkpoint.hpp"

using namespace xgrad;
using namespace xgrad::testing;

namespace {

// One parameter of n floats, all equal: a checkpoint of "version v" holds v in every one, so a file mixing
// two saves would show.
class Blob : public Module {
 public:
  explicit Blob(std::size_t n) { weight_ = register_parameter("weight", zeros({n})); }
  void fill(float v) { std::fill(weight_.data(), weight_.data() + weight_.numel(), v); }
  // The version the values say, or -1 if they are not all equal.
  double version() const {
    const float* w = weight_.data();
    return std::all_of(w, w + weight_.numel(), [&](float x) { return x == w[0]; }) ? w[0] : -1;
  }
  Tensor forward(const Tensor& x) override { return x; }
  std::string describe() const override { return "Blob"; }

 private:
  Tensor weight_;
};

// Versions the saving child has started and completed, in memory shared with the parent.
struct Progress {
  std::atomic<std::int64_t> started{0}, done{0};
};

// Removes the temporary files that kills left in `dir` ("<name>.tmp.XXXXXX"); returns how many.
int remove_leftovers(const std::filesystem::path& dir) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().find(".tmp.") != std::string::npos) {
      std::filesystem::remove(entry.path());
      ++count;
    }
  }
  return count;
}

// How many temporary files ("<name>.tmp.XXXXXX") are in `dir`.
int count_leftovers(const std::filesystem::path& dir) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    count += entry.path().filename().string().find(".tmp.") != std::string::npos;
  }
  return count;
}

// Removes what clang's OpenMP runtime (libomp) registered for process `pid` and, being killed, could not
// remove itself: /dev/shm/__KMP_REGISTERED_LIB_<pid>_<uid>. GCC's runtime registers nothing.
void remove_openmp_registration(pid_t pid) {
  std::error_code ec;
  const std::string prefix = "__KMP_REGISTERED_LIB_" + std::to_string(pid) + "_";
  for (const auto& entry : std::filesystem::directory_iterator("/dev/shm", ec)) {
    if (entry.path().filename().string().rfind(prefix, 0) == 0) std::filesystem::remove(entry.path(), ec);
  }
}

// Sets a soft file-size limit, with SIGXFSZ ignored so that write() fails with EFBIG instead of killing
// the process; restores both on destruction.
struct FileSizeLimit {
  rlimit old{};
  void (*old_handler)(int) = nullptr;
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old);
    old_handler = ::signal(SIGXFSZ, SIG_IGN);
    rlimit limited = old;
    limited.rlim_cur = bytes;
    REQUIRE(::setrlimit(RLIMIT_FSIZE, &limited) == 0);
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old);
    ::signal(SIGXFSZ, old_handler);
  }
};

}  // namespace

TEST_CASE("fault injection: 200 kills at random moments of saving never lose the checkpoint",
          "[reliability][checkpoint][atomic]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  // 20,000 floats: a 0.2 MB file whose save takes a few milliseconds, so kills land in every phase
  // (encoding, writing, fsync, rename) as well as between saves.
  Blob model(20000);
  save_checkpoint(path, model, nullptr, nullptr, {}, {0, 0, {}});
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 5; ++i) save_checkpoint(path, model, nullptr, nullptr, {}, {0, 0, {}});
  const auto save_time = (std::chrono::steady_clock::now() - start) / 5;

  auto* progress = static_cast<Progress*>(
      ::mmap(nullptr, sizeof(Progress), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  REQUIRE(progress != MAP_FAILED);
  new (progress) Progress;
  std::mt19937 rng(12345);
  // Kill anywhere in the first 3 saves after the child starts (fork and start-up included).
  std::uniform_int_distribution<std::int64_t> delay_us(
      0, 3 * std::chrono::duration_cast<std::chrono::microseconds>(save_time).count() + 1000);
  const int kills = 200;
  int during_save = 0, temp_seen = 0, lost = 0;
  std::int64_t version = 0;  // the file's version so far
  for (int k = 0; k < kills; ++k) {
    progress->started = version;
    progress->done = version;
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      for (std::int64_t v = version + 1;; ++v) {  // save versions v, v + 1, ... until killed
        model.fill(static_cast<float>(v));
        progress->started = v;
        save_checkpoint(path, model, nullptr, nullptr, {}, {v, v, {}});
        progress->done = v;
      }
    }
    std::this_thread::sleep_for(std::chrono::microseconds(delay_us(rng)));
    ::kill(child, SIGKILL);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    remove_openmp_registration(child);
    REQUIRE(WIFSIGNALED(status));

    const std::int64_t started = progress->started, done = progress->done;
    during_save += started != done;
    temp_seen += count_leftovers(dir.path());  // the next save (the next child's) removes them
    Blob loaded(20000);
    try {
      const std::int64_t epoch = load_checkpoint(path, loaded).epoch;
      // The old file (the last completed save) or the new one (the save in progress), never a mix.
      const bool old_or_new = (epoch == done || epoch == started) && loaded.version() == double(epoch);
      if (!old_or_new) {
        ++lost;
        FAIL_CHECK("kill " << k << ": file holds version " << epoch << " (values " << loaded.version()
                           << "), the child had completed " << done << " and started " << started);
      }
      version = epoch;
    } catch (const Error& e) {
      ++lost;
      FAIL_CHECK("kill " << k << ": the checkpoint no longer loads: " << e.what());
    }
  }
  ::munmap(progress, sizeof(Progress));
  // One more save removes what the last kill left.
  save_checkpoint(path, model, nullptr, nullptr, {}, {version, version, {}});
  const int temp_left = count_leftovers(dir.path());
  INFO(kills << " kills, " << during_save << " inside save_checkpoint, " << temp_seen
             << " times a temporary file was there after a kill, " << temp_left << " left at the end, " << lost
             << " checkpoints lost");
  CHECK(lost == 0);
  // The kills must have hit saves in progress, or the test proves little.
  CHECK(during_save >= kills / 4);
  CHECK(temp_seen > 0);
  CHECK(temp_left == 0);
  CHECK(version > 0);
}

TEST_CASE("fault injection: a file-size limit makes saving fail clearly and keeps the old checkpoint",
          "[reliability][checkpoint][atomic]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  Blob model(10);
  model.fill(1);
  save_checkpoint(path, model, nullptr, nullptr, {}, {1, 1, {}});
  const std::string old_text = read_text(path);
  REQUIRE(old_text.size() < 4096);

  Blob bigger(10000);  // about 60 KB of JSON: over the limit
  bigger.fill(2.5f);
  {
    FileSizeLimit limit(4096);
    CHECK_THROWS_WITH(save_checkpoint(path, bigger, nullptr, nullptr, {}, {2, 2, {}}),
                      Catch::Contains("save_checkpoint: write_file_atomically: cannot write the temporary file "
                                      "for '" + path + "': File too large"));
  }
  CHECK(read_text(path) == old_text);
  CHECK(remove_leftovers(dir.path()) == 0);
  Blob loaded(10);
  CHECK(load_checkpoint(path, loaded).epoch == 1);
  CHECK(loaded.version() == 1);
}

TEST_CASE("fault injection: an unwritable directory makes saving fail clearly and keeps the old checkpoint",
          "[reliability][checkpoint][atomic]") {
  TempDir dir;
  const std::filesystem::path folder = dir.path() / "ro";
  std::filesystem::create_directory(folder);
  const std::string path = (folder / "ckpt.json").string();
  Blob model(10);
  model.fill(1);
  save_checkpoint(path, model, nullptr, nullptr, {}, {1, 1, {}});
  const std::string old_text = read_text(path);
  // Readable and searchable by anyone, writable by no one; root ignores modes, so the saving child
  // becomes the unprivileged user "nobody" first (when it can).
  REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
  REQUIRE(::chmod(folder.c_str(), 0555) == 0);

  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0)) ::_exit(3);
    std::string message = "no error";
    model.fill(2);
    try {
      save_checkpoint(path, model, nullptr, nullptr, {}, {2, 2, {}});
    } catch (const Error& e) {
      message = e.what();
    }
    const bool sent = ::write(pipe_fds[1], message.data(), message.size()) == ssize_t(message.size());
    ::_exit(sent ? 0 : 4);
  }
  ::close(pipe_fds[1]);
  std::string message;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) message.append(buffer, std::size_t(n));
  ::close(pipe_fds[0]);
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  remove_openmp_registration(child);  // _exit skips the runtime's own clean-up
  ::chmod(folder.c_str(), 0755);  // so that TempDir can clear it
  REQUIRE(WIFEXITED(status));
  REQUIRE(WEXITSTATUS(status) == 0);

  CHECK(message == "save_checkpoint: write_file_atomically: cannot create a temporary file for '" + path +
                       "': Permission denied");
  CHECK(read_text(path) == old_text);
  CHECK(remove_leftovers(folder) == 0);
  Blob loaded(10);
  CHECK(load_checkpoint(path, loaded).epoch == 1);
  CHECK(loaded.version() == 1);
}

TEST_CASE("fault injection: over the file-size limit with SIGXFSZ at its default, saving is an error, not a kill",
          "[reliability][checkpoint][atomic]") {
  TempDir dir;
  const std::string path = dir.file("ckpt.json");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_DFL);  // as a fresh process has it: the default kills
    rlimit limited{};
    ::getrlimit(RLIMIT_FSIZE, &limited);
    limited.rlim_cur = 4096;
    if (::setrlimit(RLIMIT_FSIZE, &limited) != 0) ::_exit(3);
    Blob bigger(10000);
    try {
      save_checkpoint(path, bigger, nullptr, nullptr, {}, {1, 1, {}});
    } catch (const Error& e) {
      ::_exit(std::string(e.what()).find("File too large") != std::string::npos ? 0 : 4);
    }
    ::_exit(5);
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  remove_openmp_registration(child);
  REQUIRE(WIFEXITED(status));  // not killed by SIGXFSZ
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(count_leftovers(dir.path()) == 0);
  CHECK(!std::filesystem::exists(path));
}
