// IDX readers and load_mnist: see idx.hpp. The file's size must equal header + payload exactly, so a
// truncated or padded download is caught before anything is read.
#include "xgrad/data/idx.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <new>
#include <vector>

#include "xgrad/data/binary_file.hpp"

namespace xgrad {
namespace {

using data_detail::big_endian_u32;
using data_detail::BinaryFile;

constexpr std::uint32_t kImageMagic = 2051;  // 0x00000803: unsigned byte, 3 dimensions
constexpr std::uint32_t kLabelMagic = 2049;  // 0x00000801: unsigned byte, 1 dimension
constexpr std::uint64_t kChunkBytes = 1 << 20;  // pixels read per fread

// Reads the header's `words` big-endian u32 (the magic first), checking size and magic on the way.
std::vector<std::uint32_t> read_header(BinaryFile& file, std::size_t words, std::uint32_t magic,
                                       const char* kind) {
  const std::size_t bytes = 4 * words;
  if (file.size() < bytes)
    file.fail("truncated: ", file.size(), " bytes, shorter than the ", bytes, "-byte IDX ", kind, " header");
  std::vector<unsigned char> raw(bytes);
  file.read(raw.data(), bytes);
  if (raw[0] == 0x1f && raw[1] == 0x8b) file.fail("is gzip-compressed: decompress it first (gunzip)");
  std::vector<std::uint32_t> header(words);
  for (std::size_t i = 0; i < words; ++i) header[i] = big_endian_u32(raw.data() + 4 * i);
  if (header[0] != magic)
    file.fail("bad magic number ", header[0], " (expected ", magic, " for an IDX ", kind, " file)");
  return header;
}

// Opens an IDX image file and checks its header against its size; returns (N, 1, rows, cols). The file is
// then positioned at the first pixel, and exactly N * rows * cols bytes remain.
Shape open_idx_images(BinaryFile& file) {
  const auto header = read_header(file, 4, kImageMagic, "image");
  const std::uint64_t n = header[1], rows = header[2], cols = header[3];
  if (rows == 0 || cols == 0) file.fail("images of ", rows, "x", cols, " pixels are empty");
  // rows * cols < 2^64; only n * (rows * cols) can overflow.
  const std::uint64_t pixels = rows * cols;
  if (n > (std::numeric_limits<std::uint64_t>::max() - 16) / pixels)
    file.fail("header claims ", n, " images of ", rows, "x", cols, ": too large");
  const std::uint64_t expected = 16 + n * pixels;
  if (file.size() != expected)
    file.fail("expected ", expected, " bytes (16-byte header + ", n, " images of ", rows, "x", cols,
              "), found ", file.size());
  return {n, 1, rows, cols};
}

}  // namespace

Tensor read_idx_images(const std::string& path) {
  BinaryFile file(path, "read_idx_images");
  const Shape shape = open_idx_images(file);
  Tensor images;
  try {
    images = empty(shape);
  } catch (const std::exception&) {  // the allocation's own error names the shape, not the file
    file.fail("not enough memory for ", numel(shape) * sizeof(float), " bytes of images");
  }
  // Read in chunks no larger than the payload: a header may claim 0 images of 2^25 x 2^25 pixels, and a
  // buffer of one image would then be a huge allocation for a 16-byte file (found by fuzz_idx).
  const std::uint64_t total = images.numel();
  std::vector<unsigned char> chunk(std::min<std::uint64_t>(total, kChunkBytes));
  for (std::uint64_t done = 0; done < total; done += chunk.size()) {
    chunk.resize(std::min<std::uint64_t>(total - done, kChunkBytes));
    file.read(chunk.data(), chunk.size());
    data_detail::bytes_to_unit_floats(images.data() + done, chunk.data(), chunk.size());
  }
  return images;
}

Labels read_idx_labels(const std::string& path, int num_classes) {
  XGRAD_CHECK(num_classes > 0 && num_classes <= 256, "read_idx_labels: num_classes ", num_classes,
              " is not in [1, 256]");
  BinaryFile file(path, "read_idx_labels");
  const auto header = read_header(file, 2, kLabelMagic, "label");
  const std::uint64_t n = header[1];
  if (file.size() != 8 + n)
    file.fail("expected ", 8 + n, " bytes (8-byte header + ", n, " labels), found ", file.size());

  std::vector<unsigned char> raw = file.buffer<unsigned char>(n);
  file.read(raw.data(), n);
  Labels labels(n);
  for (std::uint64_t i = 0; i < n; ++i) {
    if (raw[i] >= num_classes)
      file.fail("label ", int{raw[i]}, " at index ", i, " is outside [0, ", num_classes, ")");
    labels[i] = raw[i];
  }
  return labels;
}

TensorDataset load_mnist(const std::string& dir, bool train, std::size_t limit) {
  const std::string prefix = dir + "/" + (train ? "train" : "t10k");
  const std::string images_path = prefix + "-images-idx3-ubyte";
  const std::string labels_path = prefix + "-labels-idx1-ubyte";
  // The pixels stay bytes (the size check bounds them by the file): the loader converts them per batch.
  BinaryFile file(images_path, "read_idx_images");
  Shape shape = open_idx_images(file);
  if (shape[0] == 0) file.fail("holds no images (the header says 0)");
  Labels labels = read_idx_labels(labels_path);
  XGRAD_CHECK(shape[0] == labels.size(), "load_mnist: ", shape[0], " images in ", images_path, " but ",
              labels.size(), " labels in ", labels_path);
  if (limit > 0 && limit < shape[0]) {  // only the first `limit` images are read
    shape[0] = limit;
    labels.resize(limit);
  }
  std::vector<std::uint8_t> pixels = file.buffer<std::uint8_t>(numel(shape));
  file.read(pixels.data(), pixels.size());
  return TensorDataset(std::move(shape), std::move(pixels), std::move(labels));
}

}  // namespace xgrad
