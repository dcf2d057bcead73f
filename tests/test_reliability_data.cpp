// Data problems end before training with the file named: samples of the wrong shape, an empty set, a
// gzip-compressed CIFAR batch, a symlink loop. A last batch of one image with BatchNorm is dropped with a log
// line instead of failing after an epoch. --limit reads only the images it uses. data_check never aborts.
// Running out of memory while reading, and a folder without permission, end with the file and the reason.
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "example_runner.hpp"
#include "skip.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/data/cifar.hpp"
#include "xgrad/data/idx.hpp"

using namespace example_runner;

namespace {

std::string quoted(const std::string& path) { return "'" + path + "'"; }

void put_u32(std::string& bytes, std::size_t at, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
}

void write_bytes(const std::string& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

}  // namespace

TEST_CASE("data: wrong sample shape and empty sets name the file before training", "[reliability][data]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 64, 16);
  const std::string images = data + "/train-images-idx3-ubyte", test_images = data + "/t10k-images-idx3-ubyte";
  const std::string good = read_text(images), good_test = read_text(test_images);
  std::string wrong = good;  // 28x28 -> 14x56: a valid header, the same byte count
  put_u32(wrong, 8, 14);
  put_u32(wrong, 12, 56);
  write_bytes(images, wrong);
  Run r = run(dir, "train_mnist", "--data " + quoted(data) + " --epochs 1 --batch-size 32");
  CHECK(r.status == 1);
  CHECK(r.err.find(images + ": samples of shape (1, 14, 56), the model takes (1, 28, 28)") != std::string::npos);
  CHECK(r.err.find("epoch 1") == std::string::npos);
  write_bytes(images, good);

  std::string empty = good_test.substr(0, 16);
  put_u32(empty, 4, 0);
  write_bytes(test_images, empty);
  std::string no_labels = read_text(data + "/t10k-labels-idx1-ubyte").substr(0, 8);
  put_u32(no_labels, 4, 0);
  write_bytes(data + "/t10k-labels-idx1-ubyte", no_labels);
  r = run(dir, "train_mnist", "--data " + quoted(data) + " --epochs 1 --batch-size 32");
  CHECK(r.status == 1);
  CHECK(r.err.find(test_images + ": holds no images") != std::string::npos);
}

TEST_CASE("data: a last batch of one image with BatchNorm is dropped, with a line saying so", "[reliability][data]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 65, 16);
  const Run r = run(dir, "train_mnist", "--data " + quoted(data) + " --epochs 1 --batch-size 32 --schedule none --report " +
                                            quoted(dir / "r.json"));
  INFO(r.err);
  CHECK(r.status == 0);
  CHECK(r.err.find("the last batch of each epoch would hold 1 image") != std::string::npos);
  CHECK(r.err.find("64 of 65 images trained per epoch") != std::string::npos);
}

TEST_CASE("data: --limit reads the first images only, gzip CIFAR and symlink loops are named",
          "[reliability][data]") {
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 64, 16);
  const xgrad::TensorDataset all = xgrad::load_mnist(data, true), first = xgrad::load_mnist(data, true, 10);
  REQUIRE(first.size() == 10);
  CHECK(first.labels() == xgrad::Labels(all.labels().begin(), all.labels().begin() + 10));
  CHECK(xgrad::load_mnist(data, true, 1000).size() == 64);

  const std::string gz = dir / "data_batch_1.bin";
  write_bytes(gz, std::string("\x1f\x8b\x08\x00", 4) + std::string(3069, 'x'));  // one record's size
  CHECK_THROWS_WITH(xgrad::read_cifar10(gz), Catch::Contains(gz + ": is gzip-compressed"));

  const std::string loop = dir / "loop";
  fs::create_symlink(loop, loop);
  CHECK_THROWS_WITH(xgrad::read_idx_images(loop), Catch::Contains("cannot open (Too many levels of symbolic links)"));
}

TEST_CASE("data_check reports a symlink loop and a huge header without aborting", "[reliability][data]") {
  TempDir dir;
  fs::create_symlink(dir / "loop", dir / "loop");
  Run r = run(dir, "data_check", quoted(dir / "loop"));
  CHECK(r.status == 1);
  CHECK(!r.err.empty());

  const std::string data = make_data(dir, "mnist", 8, 4);
  std::string huge = read_text(data + "/train-images-idx3-ubyte").substr(0, 16);
  put_u32(huge, 4, 1000000);  // 10^6 images of 10^7 pixels: 10^13
  put_u32(huge, 8, 10000);
  put_u32(huge, 12, 1000);
  write_bytes(data + "/train-images-idx3-ubyte", huge);
  r = run(dir, "data_check", quoted(data));
  CHECK(r.status == 1);
  CHECK(r.err.find("train-images-idx3-ubyte") != std::string::npos);
}

// AddressSanitizer reserves terabytes of address space: under `ulimit -v` its programs cannot start.
#if defined(__SANITIZE_ADDRESS__)
#define XGRAD_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define XGRAD_TEST_UNDER_ASAN 1
#endif
#endif

TEST_CASE("data: running out of memory while reading names the file and the bytes asked for",
          "[reliability][data]") {
#ifdef XGRAD_TEST_UNDER_ASAN
  XGRAD_SKIP("the sanitizer build cannot run under an address-space limit");
#endif
  TempDir dir;
  const std::string data = make_data(dir, "mnist", 64, 16);
  // A sparse file (no disk used) holding a valid IDX header for 1.9 million images: reading it needs 1.49 GB,
  // and the trainer runs with 600 MB of address space (OpenBLAS alone needs ~300 MB to start).
  const std::string images = data + "/train-images-idx3-ubyte", labels = data + "/train-labels-idx1-ubyte";
  const std::uint32_t count = 1900000;
  std::string header(16, '\0');
  put_u32(header, 0, 0x803);
  put_u32(header, 4, count);
  put_u32(header, 8, 28);
  put_u32(header, 12, 28);
  write_bytes(images, header);
  fs::resize_file(images, 16 + std::uintmax_t{count} * 784);
  std::string label_header(8, '\0');
  put_u32(label_header, 0, 0x801);
  put_u32(label_header, 4, count);
  write_bytes(labels, label_header);
  fs::resize_file(labels, 8 + std::uintmax_t{count});

  for (const std::string program : {"train_mnist", "data_check"}) {
    INFO(program);
    const std::string args = program == "data_check" ? quoted(data) : "--data " + quoted(data) + " --epochs 1";
    const Run r = run(dir, program, args, "ulimit -v 600000;");
    CHECK(r.status == 1);
    CHECK(r.err.find(images + ": not enough memory for 1489600000 bytes to read it into") != std::string::npos);
  }
}

TEST_CASE("data: a folder without permission is named with the system's reason, not as missing",
          "[reliability][data]") {
  // Root reads every folder: the programs then run as the unprivileged user 'nobody' (setpriv).
  std::string as_user;
  if (::geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null 2>&1") != 0) XGRAD_SKIP("running as root without setpriv");
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  }
  TempDir dir;
  fs::permissions(dir.path, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                fs::perms::others_read | fs::perms::others_exec);
  const std::string locked = dir / "locked";
  fs::create_directory(locked);
  const Run made = run(dir, "make_synthetic_data",
                       "--format mnist --out " + quoted(locked + "/mnist") + " --train 64 --test 16 --seed 7");
  REQUIRE(made.status == 0);
  fs::permissions(locked, fs::perms::none);

  Run r = run(dir, "train_mnist", "--data " + quoted(locked + "/mnist") + " --epochs 1", as_user);
  CHECK(r.status == 1);
  CHECK(r.err.find(locked + "/mnist/train-images-idx3-ubyte: cannot open (Permission denied)") != std::string::npos);
  r = run(dir, "data_check", quoted(locked + "/mnist"), as_user);
  CHECK(r.status == 1);
  CHECK(r.err.find(locked + "/mnist: cannot read the folder (Permission denied)") != std::string::npos);
  r = run(dir, "data_check", quoted(locked), as_user);
  CHECK(r.status == 1);
  CHECK(r.err.find(locked + ": cannot read the folder (Permission denied)") != std::string::npos);
  fs::permissions(locked, fs::perms::owner_all);  // so that TempDir can remove it
}
