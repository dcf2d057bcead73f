// CIFAR-10 binary reader: see cifar.hpp. Every file is opened and size-checked before any is read, so a
// missing or truncated batch fails fast, and the images land in one tensor without a second copy.
#include "xgrad/data/cifar.hpp"

#include <algorithm>
#include <cstdint>

#include "xgrad/data/binary_file.hpp"

namespace xgrad {
namespace {

using data_detail::BinaryFile;

constexpr std::size_t kPixels = 3 * 32 * 32;  // one image: R, G, B planes of 32x32
constexpr std::size_t kRecord = 1 + kPixels;  // label byte + pixels
constexpr int kClasses = 10;

}  // namespace

TensorDataset read_cifar10(const std::vector<std::string>& paths, std::size_t limit) {
  XGRAD_CHECK(!paths.empty(), "read_cifar10: no files given");
  std::vector<BinaryFile> files;
  std::uint64_t total = 0;
  for (const auto& path : paths) {
    BinaryFile& file = files.emplace_back(path, "read_cifar10");
    file.refuse_gzip();
    if (file.size() == 0 || file.size() % kRecord != 0)
      file.fail("size ", file.size(), " is not a positive multiple of the ", kRecord,
                "-byte record (1 label byte + 3x32x32 pixels): expected ",
                (file.size() / kRecord + 1) * kRecord, " bytes for ", file.size() / kRecord + 1, " records");
    total += file.size() / kRecord;
  }

  if (limit > 0 && limit < total) total = limit;  // only the first `limit` records are read
  // Kept as bytes: the loader converts per batch.
  std::vector<std::uint8_t> images = files.front().buffer<std::uint8_t>(total * kPixels);
  Labels labels(total);
  std::vector<unsigned char> record(kRecord);
  std::uint64_t i = 0;
  for (auto& file : files) {
    const std::uint64_t n = std::min(file.size() / kRecord, total - i);
    for (std::uint64_t r = 0; r < n; ++r, ++i) {
      file.read(record.data(), kRecord);
      if (record[0] >= kClasses)
        file.fail("label ", int{record[0]}, " of record ", r, " is outside [0, ", kClasses, ")");
      labels[i] = record[0];
      std::copy(record.begin() + 1, record.end(), images.begin() + i * kPixels);
    }
  }
  return TensorDataset({total, 3, 32, 32}, std::move(images), std::move(labels));
}

TensorDataset read_cifar10(const std::string& path, std::size_t limit) {
  return read_cifar10(std::vector<std::string>{path}, limit);
}

TensorDataset load_cifar10(const std::string& dir, bool train, std::size_t limit) {
  if (!train) return read_cifar10(dir + "/test_batch.bin", limit);
  std::vector<std::string> paths;
  for (int b = 1; b <= 5; ++b) paths.push_back(dir + "/data_batch_" + std::to_string(b) + ".bin");
  return read_cifar10(paths, limit);
}

}  // namespace xgrad
