// Data problems end before training with the file named: samples of the wrong shape, an empty set, a
// gzip-compressed CIFAR batch, a symlink loop. A last batch of one image with BatchNorm is dropped with a log
// line instead of failing after an epoch. --limit reads only the images it uses. data_check never aborts.
#include <catch2/catch.hpp>
#include <string>

#include "example_runner.hpp"
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

TEST_CASE("data: --limit reads the first images only; gzip CIFAR and symlink loops are named",
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
