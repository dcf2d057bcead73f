// The trainers' outputs (--checkpoint, --report) replace only what is theirs: a regular file or a new one.
// Devices, FIFOs, directories, the run's own inputs, two outputs on one path, empty paths, missing folders
// and an existing checkpoint without --resume are usage errors (exit 2) before any data is read, and leave
// every file as it was. A symlink is written through: the link stays, its target gets the new contents.
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "example_runner.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/models/atomic_file.hpp"

using namespace example_runner;

namespace {

const std::string kTiny = " --epochs 1 --limit 64 --batch-size 32 --seed 3 --schedule none";

std::string quoted(const std::string& path) { return "'" + path + "'"; }

}  // namespace

TEST_CASE("trainer outputs: what is not a regular file, an input, or free is refused with exit 2",
          "[reliability][outputs]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 64, 16);
  const std::string images = data + "/train-images-idx3-ubyte";
  const std::string images_before = read_text(images);
  const std::string fifo = dir / "fifo", folder = dir / "folder", existing = dir / "old.ckpt";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_directory(folder);
  { std::ofstream(existing) << "precious"; }
  const std::string base = "--data " + quoted(data) + kTiny;
  struct Case {
    std::string args, message;
  };
  std::vector<Case> cases = {
      {"--checkpoint " + quoted(fifo), "--checkpoint: write_file_atomically: '" + fifo + "' is a FIFO"},
      {"--report " + quoted(fifo), "--report: write_file_atomically: '" + fifo + "' is a FIFO"},
      {"--report " + quoted(folder), "is a directory"},
      {"--checkpoint " + quoted(folder), "is a directory"},
      {"--checkpoint " + quoted(images), "is the input file"},
      {"--report " + quoted(images), "is the input file"},
      {"--checkpoint " + quoted(dir / "x") + " --report " + quoted(dir / "x"),
       "--report: '" + (dir / "x") + "' is also the path of --checkpoint"},
      {"--checkpoint " + quoted(existing), "--checkpoint: '" + existing + "' exists: add --resume"},
      {"--checkpoint " + quoted(existing) + " --on-nan rollback", "exists: add --resume"},
      {"--report " + quoted(dir / "missing/r.json"), "does not exist (create it first)"},
      {"--checkpoint " + quoted(dir / "missing/c.ckpt"), "does not exist (create it first)"},
      {"--report ''", "--report: the path is empty"},
      {"--checkpoint ''", "--checkpoint: the path is empty"},
      {"--resume ''", "--resume: the path is empty"},
      {"--resume " + quoted(existing) + " --report " + quoted(existing), "is the input file"},
  };
  if (::geteuid() == 0) {  // a character device of our own (a copy of /dev/null's node), only root can make one
    const std::string device = dir / "null";
    REQUIRE(::mknod(device.c_str(), S_IFCHR | 0666, ::makedev(1, 3)) == 0);
    cases.push_back({"--checkpoint " + quoted(device), "is a character device"});
    cases.push_back({"--report " + quoted(device), "is a character device"});
  }
  for (const Case& c : cases) {
    INFO(c.args);
    const Run r = run(dir, "train_mnist", base + " " + c.args);
    INFO(r.err);
    CHECK(r.status == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK(r.err.find(" training and ") == std::string::npos);  // refused before reading the data
  }
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));
  CHECK(fs::is_directory(folder));
  CHECK(fs::is_empty(folder));
  CHECK(read_text(existing) == "precious");
  CHECK(read_text(images) == images_before);
  CHECK(!fs::exists(dir / "x"));
  CHECK(!fs::exists(dir / "missing"));
}

TEST_CASE("trainer outputs: --overwrite replaces a checkpoint, and symlinks are written through",
          "[reliability][outputs]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 64, 16);
  const std::string existing = dir / "old.ckpt", target = dir / "target.json", link = dir / "link.json";
  { std::ofstream(existing) << "old"; }
  { std::ofstream(target) << "old"; }
  fs::create_symlink(target, link);
  const Run r = run_ok(dir, "train_mnist",
                       "--data " + quoted(data) + kTiny + " --overwrite --checkpoint " + quoted(existing) +
                           " --report " + quoted(link));
  CHECK(read_json(existing)["epoch"] == 1);
  CHECK(fs::is_symlink(link));
  CHECK(read_json(target)["epochs"].size() == 1);

  // A dangling symlink has no file to write through to.
  fs::create_symlink(dir / "nowhere/r.json", dir / "dangling.json");
  const Run d = run(dir, "train_mnist", "--data " + quoted(data) + kTiny + " --report " + quoted(dir / "dangling.json"));
  CHECK(d.status == 2);
  CHECK(d.err.find("is a symlink that cannot be followed") != std::string::npos);
}

TEST_CASE("write_file_atomically replaces only regular files and removes temporary files of killed saves",
          "[reliability][outputs][atomic]") {
  TempDir dir;
  const std::string fifo = dir / "fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_THROWS_WITH(xgrad::write_file_atomically(fifo, "x"), Catch::Contains("is a FIFO"));
  CHECK_THROWS_WITH(xgrad::write_file_atomically(dir.path.string(), "x"), Catch::Contains("is a directory"));
  CHECK_THROWS_WITH(xgrad::write_file_atomically("", "x"), Catch::Contains("the path is empty"));
  struct stat st {};
  REQUIRE(::stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));

  const std::string path = dir / "f.json";
  { std::ofstream(path + ".tmp.abc123") << "left by a kill"; }
  { std::ofstream(path + ".tmp.keep") << "not ours: the suffix is not 6 characters"; }
  { std::ofstream(dir / "other.json.tmp.abc123") << "another file's"; }
  xgrad::write_file_atomically(path, "new");
  CHECK(read_text(path) == "new");
  CHECK(!fs::exists(path + ".tmp.abc123"));
  CHECK(fs::exists(path + ".tmp.keep"));
  CHECK(fs::exists(dir / "other.json.tmp.abc123"));
}
