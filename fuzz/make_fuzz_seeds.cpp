// make_fuzz_seeds DIR: writes the fuzzers' seed corpora, small valid files, into DIR/idx, DIR/cifar10 and
// DIR/checkpoint (fuzz/corpus holds its output). Deterministic: run again, same bytes.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>

#include "fuzz/checkpoint_fixture.hpp"
#include "xgrad/models/atomic_file.hpp"
#include "xgrad/models/checkpoint.hpp"

using namespace xgrad;

namespace {

void put_u32_big_endian(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// An IDX image file of n images of rows x cols with pixel bytes i * 37 (mod 256), and its label file.
void write_idx(const std::string& dir, std::uint32_t n, std::uint32_t rows, std::uint32_t cols) {
  std::string images, labels;
  put_u32_big_endian(images, 2051);
  for (std::uint32_t v : {n, rows, cols}) put_u32_big_endian(images, v);
  for (std::uint32_t i = 0; i < n * rows * cols; ++i) images.push_back(static_cast<char>(i * 37));
  put_u32_big_endian(labels, 2049);
  put_u32_big_endian(labels, n);
  for (std::uint32_t i = 0; i < n; ++i) labels.push_back(static_cast<char>(i % 10));
  const std::string name = std::to_string(n) + "x" + std::to_string(rows) + "x" + std::to_string(cols);
  write_file_atomically(dir + "/images_" + name, images);
  write_file_atomically(dir + "/labels_" + std::to_string(n), labels);
}

// `n` CIFAR-10 records; the first label is 1, so the fuzzer's two-file split cuts after one record.
void write_cifar(const std::string& path, int n) {
  std::string records;
  for (int r = 0; r < n; ++r) {
    records.push_back(static_cast<char>((r + 1) % 10));
    for (int i = 0; i < 3 * 32 * 32; ++i) records.push_back(static_cast<char>(i * 7 + r));
  }
  write_file_atomically(path, records);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_fuzz_seeds DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  for (const char* sub : {"idx", "cifar10", "checkpoint"}) std::filesystem::create_directories(dir + "/" + sub);
  write_idx(dir + "/idx", 3, 4, 5);
  write_idx(dir + "/idx", 1, 2, 2);
  write_cifar(dir + "/cifar10/one_record.bin", 1);
  write_cifar(dir + "/cifar10/two_records.bin", 2);

  fuzz::CheckpointFixture f;
  save_weights(dir + "/checkpoint/weights.json", f.model, {{"architecture", "Dense(3, 2), BatchNorm1d(2)"}});
  save_checkpoint(dir + "/checkpoint/fresh_adam.json", f.model, &f.adam, &f.schedule, {&f.gen});
  f.step(f.adam);
  f.schedule.step();
  f.step(f.sgd);
  save_checkpoint(dir + "/checkpoint/adam.json", f.model, &f.adam, &f.schedule, {&f.gen},
                  {1, 2, {{"note", "after two steps"}, {"losses", {2.5, 1.25}}}});
  save_checkpoint(dir + "/checkpoint/sgd.json", f.model, &f.sgd, nullptr, {}, {1, 1, {}});
  return 0;
}
