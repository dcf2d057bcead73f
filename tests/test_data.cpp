// Data readers (IDX, CIFAR-10 binary) and TensorDataset: files the test writes into a temporary directory, each
// kind of defect with its message, and values checked byte for byte.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "xgrad/data/cifar.hpp"
#include "xgrad/data/tensor_dataset.hpp"
#include "xgrad/data/idx.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;
using Bytes = std::vector<unsigned char>;

namespace {

// A fresh directory under the system's temp dir, removed with everything in it at scope exit.
struct DataTempDir {
  std::string path;
  DataTempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "xgrad_data_XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    path = pattern;
  }
  ~DataTempDir() { std::filesystem::remove_all(path); }
  std::string operator/(const std::string& name) const { return path + "/" + name; }
};

void put_u32(Bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<unsigned char>(v >> shift));
}

void write_file(const std::string& path, const Bytes& bytes) {
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

// IDX images: header (2051, n, rows, cols) then the given pixels.
Bytes idx_images(std::uint32_t n, std::uint32_t rows, std::uint32_t cols, const Bytes& pixels) {
  Bytes out;
  for (auto v : {2051u, n, rows, cols}) put_u32(out, v);
  out.insert(out.end(), pixels.begin(), pixels.end());
  return out;
}

Bytes idx_labels(const Bytes& labels) {
  Bytes out;
  put_u32(out, 2049);
  put_u32(out, static_cast<std::uint32_t>(labels.size()));
  out.insert(out.end(), labels.begin(), labels.end());
  return out;
}

// n images of rows x cols, pixel i of the file = (i * 7) mod 256.
Bytes pattern_pixels(std::size_t count) {
  Bytes p(count);
  for (std::size_t i = 0; i < count; ++i) p[i] = static_cast<unsigned char>(i * 7 % 256);
  return p;
}

// CIFAR records: label, then 3072 pixels whose value is (record + c + y + x) mod 256.
Bytes cifar_records(const Bytes& labels, int first_record = 0) {
  Bytes out;
  for (std::size_t r = 0; r < labels.size(); ++r) {
    out.push_back(labels[r]);
    for (int c = 0; c < 3; ++c)
      for (int y = 0; y < 32; ++y)
        for (int x = 0; x < 32; ++x)
          out.push_back(static_cast<unsigned char>((first_record + r + c + y + x) % 256));
  }
  return out;
}

}  // namespace

TEST_CASE("read_idx_images: shape (N, 1, rows, cols), pixels / 255", "[data][idx]") {
  DataTempDir dir;
  // Two images of 2x3; 51 / 255 is exactly 0.2 in real arithmetic, so it must round to 0.2f.
  write_file(dir / "img", idx_images(2, 2, 3, {0, 255, 51, 1, 2, 3, /**/ 10, 20, 30, 40, 50, 60}));
  Tensor images = read_idx_images(dir / "img");
  REQUIRE(images.shape() == Shape{2, 1, 2, 3});
  CHECK(images.at({0, 0, 0, 0}) == 0.0f);
  CHECK(images.at({0, 0, 0, 1}) == 1.0f);
  CHECK(images.at({0, 0, 0, 2}) == 0.2f);
  CHECK(images.at({0, 0, 1, 0}) == 1.0f / 255.0f);
  CHECK(images.at({1, 0, 1, 2}) == 60.0f / 255.0f);
  CHECK(images.at({1, 0, 0, 1}) == 20.0f / 255.0f);
  CHECK_FALSE(images.requires_grad());
}

TEST_CASE("read_idx_labels and load_mnist read train and test pairs", "[data][idx]") {
  DataTempDir dir;
  write_file(dir / "train-images-idx3-ubyte", idx_images(3, 4, 5, pattern_pixels(3 * 20)));
  write_file(dir / "train-labels-idx1-ubyte", idx_labels({7, 0, 9}));
  write_file(dir / "t10k-images-idx3-ubyte", idx_images(1, 4, 5, pattern_pixels(20)));
  write_file(dir / "t10k-labels-idx1-ubyte", idx_labels({4}));
  CHECK(read_idx_labels(dir / "train-labels-idx1-ubyte") == Labels{7, 0, 9});

  TensorDataset train = load_mnist(dir.path, true);
  REQUIRE(train.size() == 3);
  CHECK(train.labels() == Labels{7, 0, 9});
  CHECK(train.sample_shape() == Shape{1, 4, 5});
  // Pixel 25 of the file = image 1, row 1, column 0: value 25 * 7 = 175.
  CHECK(train.inputs().at({1, 0, 1, 0}) == 175.0f / 255.0f);
  // load_mnist keeps the bytes; converted, they are exactly what read_idx_images gives.
  CHECK(train.stores_bytes());
  CHECK(train.shape() == Shape{3, 1, 4, 5});
  CHECK(train.inputs().to_vector() == read_idx_images(dir / "train-images-idx3-ubyte").to_vector());
  TensorDataset test = load_mnist(dir.path, false);
  CHECK(test.size() == 1);
  CHECK(test.labels() == Labels{4});
}

TEST_CASE("IDX readers: each defect is an Error naming the file and the problem", "[data][idx][errors]") {
  DataTempDir dir;
  const std::string path = dir / "f";

  SECTION("missing file") {
    CHECK_THROWS_WITH(read_idx_images(path), "read_idx_images: " + path + ": file not found");
  }
  SECTION("only a gzipped copy is there") {
    write_file(path + ".gz", {0x1f, 0x8b, 8, 0});
    CHECK_THROWS_WITH(read_idx_labels(path), Contains("file not found (a gzip-compressed copy " + path +
                                                      ".gz is there: decompress it with gunzip)"));
  }
  SECTION("gzip-compressed content") {
    write_file(path, {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    CHECK_THROWS_WITH(read_idx_images(path), Contains("is gzip-compressed: decompress it first"));
  }
  SECTION("bad magic: a label file read as images") {
    write_file(path, idx_images(1, 2, 2, {1, 2, 3, 4}));
    CHECK_THROWS_WITH(
        read_idx_labels(path),
        "read_idx_labels: " + path + ": bad magic number 2051 (expected 2049 for an IDX label file)");
    write_file(path, idx_labels({1, 2, 3, 4, 5, 6, 7, 8, 9}));
    CHECK_THROWS_WITH(read_idx_images(path),
                      Contains("bad magic number 2049 (expected 2051 for an IDX image file)"));
  }
  SECTION("header cut short") {
    Bytes bytes = idx_images(1, 2, 2, {});
    bytes.resize(10);
    write_file(path, bytes);
    CHECK_THROWS_WITH(read_idx_images(path),
                      Contains("truncated: 10 bytes, shorter than the 16-byte IDX image header"));
  }
  SECTION("pixels truncated or padded") {
    write_file(path, idx_images(2, 2, 3, pattern_pixels(11)));
    CHECK_THROWS_WITH(
        read_idx_images(path),
        "read_idx_images: " + path + ": expected 28 bytes (16-byte header + 2 images of 2x3), found 27");
    write_file(path, idx_images(2, 2, 3, pattern_pixels(13)));
    CHECK_THROWS_WITH(read_idx_images(path),
                      Contains("expected 28 bytes (16-byte header + 2 images of 2x3), found 29"));
    write_file(path, idx_labels({1, 2}));
    std::filesystem::resize_file(path, 9);
    CHECK_THROWS_WITH(read_idx_labels(path),
                      Contains("expected 10 bytes (8-byte header + 2 labels), found 9"));
  }
  SECTION("empty images and absurd counts") {
    write_file(path, idx_images(1, 0, 28, {}));
    CHECK_THROWS_WITH(read_idx_images(path), Contains("images of 0x28 pixels are empty"));
    write_file(path, idx_images(0xffffffffu, 0xffffffffu, 0xffffffffu, {}));
    CHECK_THROWS_WITH(read_idx_images(path), Contains(": too large"));
  }
  SECTION("label 10 and beyond") {
    write_file(path, idx_labels({3, 9, 10}));
    CHECK_THROWS_WITH(read_idx_labels(path),
                      "read_idx_labels: " + path + ": label 10 at index 2 is outside [0, 10)");
    write_file(path, idx_labels({255}));
    CHECK_THROWS_WITH(read_idx_labels(path), Contains("label 255 at index 0 is outside [0, 10)"));
    CHECK(read_idx_labels(path, 256) == Labels{255});
    CHECK_THROWS_WITH(read_idx_labels(path, 0), "read_idx_labels: num_classes 0 is not in [1, 256]");
  }
  SECTION("a directory") {
    std::filesystem::create_directory(path);
    CHECK_THROWS_WITH(read_idx_images(path), Contains(path + ": not a regular file"));
  }
}

TEST_CASE("load_mnist: image and label counts must agree", "[data][idx][errors]") {
  DataTempDir dir;
  write_file(dir / "train-images-idx3-ubyte", idx_images(3, 2, 2, pattern_pixels(12)));
  write_file(dir / "train-labels-idx1-ubyte", idx_labels({1, 2}));
  CHECK_THROWS_WITH(load_mnist(dir.path), "load_mnist: 3 images in " + (dir / "train-images-idx3-ubyte") +
                                              " but 2 labels in " + (dir / "train-labels-idx1-ubyte"));
  CHECK_THROWS_WITH(load_mnist(dir.path, false), Contains("t10k-images-idx3-ubyte: file not found"));
}

TEST_CASE("read_cifar10: label byte then R, G, B planes of 32x32", "[data][cifar]") {
  DataTempDir dir;
  write_file(dir / "b.bin", cifar_records({6, 0, 9}));
  TensorDataset d = read_cifar10(dir / "b.bin");
  REQUIRE(d.inputs().shape() == Shape{3, 3, 32, 32});
  CHECK(d.labels() == Labels{6, 0, 9});
  // Pixel (r, c, y, x) was written as (r + c + y + x) mod 256.
  CHECK(d.inputs().at({0, 0, 0, 0}) == 0.0f);
  CHECK(d.inputs().at({0, 2, 5, 7}) == 14.0f / 255.0f);
  CHECK(d.inputs().at({2, 1, 31, 30}) == 64.0f / 255.0f);
  CHECK(d.inputs().at({1, 2, 31, 31}) == 65.0f / 255.0f);
}

TEST_CASE("load_cifar10 concatenates data_batch_1..5 in order, test_batch alone", "[data][cifar]") {
  DataTempDir dir;
  int record = 0;
  for (int b = 1; b <= 5; ++b) {
    // Batch b holds b records labelled b - 1, numbered on from the previous batch.
    write_file(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_records(Bytes(b, b - 1), record));
    record += b;
  }
  write_file(dir / "test_batch.bin", cifar_records({3, 1}));
  TensorDataset train = load_cifar10(dir.path);
  REQUIRE(train.size() == 15);
  CHECK(train.labels() == Labels{0, 1, 1, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4});
  for (std::size_t r = 0; r < 15; ++r)
    CHECK(train.inputs().at({r, 0, 0, 0}) == static_cast<float>(r) / 255.0f);
  TensorDataset test = load_cifar10(dir.path, false);
  CHECK(test.labels() == Labels{3, 1});
}

TEST_CASE("CIFAR-10 reader: each defect is an Error naming the file and the problem",
          "[data][cifar][errors]") {
  DataTempDir dir;
  const std::string path = dir / "b.bin";
  SECTION("missing batch file") {
    for (int b : {1, 2, 4, 5})
      write_file(dir / ("data_batch_" + std::to_string(b) + ".bin"), cifar_records({1}));
    CHECK_THROWS_WITH(load_cifar10(dir.path),
                      "read_cifar10: " + (dir / "data_batch_3.bin") + ": file not found");
  }
  SECTION("truncated record") {
    Bytes bytes = cifar_records({1, 2});
    bytes.pop_back();
    write_file(path, bytes);
    CHECK_THROWS_WITH(read_cifar10(path),
                      "read_cifar10: " + path +
                          ": size 6145 is not a positive multiple of "
                          "the 3073-byte record (1 label byte + 3x32x32 pixels): expected 6146 "
                          "bytes for 2 records");
  }
  SECTION("empty file") {
    write_file(path, {});
    CHECK_THROWS_WITH(read_cifar10(path),
                      Contains("size 0 is not a positive multiple of the 3073-byte record"));
  }
  SECTION("label 10 and beyond") {
    write_file(path, cifar_records({9, 10}));
    CHECK_THROWS_WITH(read_cifar10(path),
                      "read_cifar10: " + path + ": label 10 of record 1 is outside [0, 10)");
    write_file(path, cifar_records({200}));
    CHECK_THROWS_WITH(read_cifar10(path), Contains("label 200 of record 0 is outside [0, 10)"));
  }
  SECTION("no files") {
    CHECK_THROWS_WITH(read_cifar10(std::vector<std::string>{}), "read_cifar10: no files given");
  }
}

TEST_CASE("TensorDataset: checks, subset and bincount", "[data][dataset]") {
  Tensor x = arange(12.0f);
  TensorDataset d(from_vector(x.to_vector(), {4, 3}), {2, 0, 2, 1});
  CHECK(d.size() == 4);
  CHECK(d.sample_shape() == Shape{3});
  TensorDataset s = d.subset(1, 3);
  CHECK(s.inputs().shape() == Shape{2, 3});
  CHECK(s.inputs().to_vector() == std::vector<float>{3, 4, 5, 6, 7, 8});
  CHECK(s.labels() == Labels{0, 2});
  CHECK(bincount(d.labels()) == std::vector<std::size_t>{1, 1, 2});
  CHECK(bincount(d.labels(), 5) == std::vector<std::size_t>{1, 1, 2, 0, 0});

  CHECK_THROWS_WITH(TensorDataset(zeros({4, 3}), {1, 2, 3}),
                    "TensorDataset: inputs of shape (4, 3) hold 4 samples but there are 3 labels");
  CHECK_THROWS_WITH(TensorDataset(zeros({2}), {1, -1}), "TensorDataset: label -1 at index 1 is negative");
  CHECK_THROWS_WITH(TensorDataset(scalar_tensor(1), {}),
                    "TensorDataset: inputs must have a sample axis first, got shape ()");
  CHECK_THROWS_WITH(TensorDataset(zeros({2}).set_requires_grad(), {0, 0}), "TensorDataset: inputs must not require grad");
  CHECK_THROWS_WITH(d.subset(3, 5), "TensorDataset::subset: range [3, 5) is not within the 4 samples");
  CHECK_THROWS_WITH(bincount({0, -2}), "bincount: label -2 at index 1 is negative");
}

TEST_CASE("TensorDataset of bytes: reads v / 255, gathers, subsets and checks like a float one", "[data][dataset]") {
  std::vector<std::uint8_t> bytes(4 * 2 * 3);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(i * 11);  // up to 253
  TensorDataset d({4, 2, 3}, bytes, {3, 1, 0, 2});
  CHECK(d.stores_bytes());
  CHECK(d.size() == 4);
  CHECK(d.shape() == Shape{4, 2, 3});
  CHECK(d.sample_shape() == Shape{2, 3});
  std::vector<float> expected(bytes.size());
  for (std::size_t i = 0; i < bytes.size(); ++i) expected[i] = static_cast<float>(bytes[i]) / 255.0f;
  const Tensor all = d.inputs();
  CHECK(all.shape() == Shape{4, 2, 3});
  CHECK(all.to_vector() == expected);

  // The same samples stored as floats gather to the same bits.
  const TensorDataset f(all, d.labels());
  CHECK_FALSE(f.stores_bytes());
  const std::size_t order[] = {2, 0, 3};
  std::vector<float> from_bytes(3 * 6, -1.0f), from_floats(3 * 6, -2.0f);
  d.gather(order, 3, from_bytes.data());
  f.gather(order, 3, from_floats.data());
  CHECK(from_bytes == from_floats);
  CHECK(std::vector<float>(from_bytes.begin(), from_bytes.begin() + 6) ==
        std::vector<float>(expected.begin() + 12, expected.begin() + 18));
  const std::size_t bad[] = {1, 4};
  CHECK_THROWS_WITH(d.gather(bad, 2, from_bytes.data()), "TensorDataset::gather: index 4 is not below the 4 samples");

  const TensorDataset s = d.subset(1, 3);
  CHECK(s.stores_bytes());
  CHECK(s.labels() == Labels{1, 0});
  CHECK(s.inputs().to_vector() == std::vector<float>(expected.begin() + 6, expected.begin() + 18));

  CHECK_THROWS_WITH(TensorDataset({4, 2, 3}, std::vector<std::uint8_t>(23), {0, 0, 0, 0}),
                    "TensorDataset: 23 bytes given for samples of shape (4, 2, 3) (24 values)");
  CHECK_THROWS_WITH(TensorDataset({4, 2, 3}, bytes, {0, 0, 0}),
                    "TensorDataset: inputs of shape (4, 2, 3) hold 4 samples but there are 3 labels");
  CHECK_THROWS_WITH(TensorDataset({}, std::vector<std::uint8_t>{}, {}),
                    "TensorDataset: inputs must have a sample axis first, got shape ()");
}
