// make_synthetic_data: writes a small learnable stand-in for MNIST or CIFAR-10 in the real files' exact
// formats, so train_mnist, train_cifar10 and the quickstart can be tried (and tested) without the real data.
// Not a benchmark: a network that learns these says nothing about how it does on the real sets.
//   mnist:   seven-segment digits (class k = the digit k) of random size, slant, place and ink, in pixel
//            noise; IDX files train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-..., t10k-labels-...
//   cifar10: one coloured shape on a noisy grey background; class k has hue 36k degrees (jittered) and
//            shape k mod 5 (disc, square, triangle, cross, ring), so neighbouring hues differ in shape;
//            data_batch_1.bin ... data_batch_5.bin and test_batch.bin, records of 1 label byte + R, G, B planes.
//   ./build/make_synthetic_data --format cifar10 --out /tmp/cifar-synth --train 5000 --test 1000
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "xgrad/core/generator.hpp"
#include "examples/common/cli.hpp"
#include "xgrad/models/atomic_file.hpp"

using xgrad::Generator;

namespace {

constexpr int kClasses = 10;

float uniform(Generator& g, float low, float high) { return low + (high - low) * g.uniform(); }

unsigned char to_byte(float v) { return static_cast<unsigned char>(std::lround(std::clamp(v, 0.0f, 1.0f) * 255)); }

void put_u32_big_endian(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xFF));
}

// Seven-segment patterns, bit 0 = segment a (top), then b (upper right), c (lower right), d (bottom),
// e (lower left), f (upper left), g (middle): the usual encoding of the digits 0-9.
constexpr unsigned kSegments[kClasses] = {0x3F, 0x06, 0x5B, 0x4F, 0x66, 0x6D, 0x7D, 0x07, 0x7F, 0x6F};

// image: (28, 28), values in [0, 1].
void draw_digit(float* image, int digit, Generator& g) {
  const int w = 8 + int(g.below(5)), h = 14 + int(g.below(5)), t = 2 + int(g.below(2));  // box and stroke
  const int left = 3 + int(g.below(std::uint64_t(22 - w))), top = 2 + int(g.below(std::uint64_t(25 - h)));
  const float slant = uniform(g, -0.2f, 0.2f), ink = uniform(g, 0.7f, 1.0f);
  const int right = left + w, bottom = top + h, mid = top + h / 2;
  // Segment rectangles [x0, x1) x [y0, y1), in the order a..g.
  const int rects[7][4] = {{left, right, top, top + t},          {right - t, right, top, mid + 1},
                           {right - t, right, mid, bottom},       {left, right, bottom - t, bottom},
                           {left, left + t, mid, bottom},         {left, left + t, top, mid + 1},
                           {left, right, mid - t / 2, mid - t / 2 + t}};
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 28; ++x) {
      // Undo the slant: the pixel (x, y) shows the upright digit's point (x - slant * (y - mid), y).
      const float u = float(x) - slant * float(y - mid);
      bool on = false;
      for (int s = 0; s < 7; ++s) {
        const int* r = rects[s];
        on |= (kSegments[digit] >> s & 1) && u >= float(r[0]) && u < float(r[1]) && y >= r[2] && y < r[3];
      }
      image[y * 28 + x] = (on ? ink : 0.0f) + 0.08f * g.normal();
    }
  }
}

// h in degrees, s and v in [0, 1] -> r, g, b in [0, 1].
void hsv_to_rgb(float h, float s, float v, float rgb[3]) {
  h = std::fmod(h + 360.0f, 360.0f) / 60.0f;
  const float c = v * s, x = c * (1 - std::fabs(std::fmod(h, 2.0f) - 1)), m = v - c;
  const int sector = std::min(int(h), 5);
  const float table[6][3] = {{c, x, 0}, {x, c, 0}, {0, c, x}, {0, x, c}, {x, 0, c}, {c, 0, x}};
  for (int k = 0; k < 3; ++k) rgb[k] = table[sector][k] + m;
}

// Whether (dx, dy), relative to the centre, lies in shape `kind` of radius r (y grows downwards).
bool inside(int kind, float dx, float dy, float r) {
  const float d2 = dx * dx + dy * dy;
  switch (kind) {
    case 0: return d2 <= r * r;                                                       // disc
    case 1: return std::fabs(dx) <= 0.85f * r && std::fabs(dy) <= 0.85f * r;         // square
    case 2: return dy >= -r && dy <= r && std::fabs(dx) <= (dy + r) / 2;              // triangle, apex up
    case 3: return (std::fabs(dx) <= r / 3 && std::fabs(dy) <= r) ||                  // cross
                   (std::fabs(dy) <= r / 3 && std::fabs(dx) <= r);
    default: return d2 <= r * r && d2 >= 0.3f * r * r;                               // ring
  }
}

// image: (3, 32, 32), the R, G and B planes, values in [0, 1].
void draw_shape(float* image, int label, Generator& g) {
  float rgb[3];
  hsv_to_rgb(36.0f * float(label) + uniform(g, -8, 8), uniform(g, 0.65f, 1), uniform(g, 0.65f, 1), rgb);
  const float r = uniform(g, 6, 11), cx = uniform(g, r - 2, 33 - r), cy = uniform(g, r - 2, 33 - r);
  const float grey = uniform(g, 0.25f, 0.75f);
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) {
      const bool on = inside(label % 5, float(x) - cx, float(y) - cy, r);
      for (int c = 0; c < 3; ++c) image[(c * 32 + y) * 32 + x] = (on ? rgb[c] : grey) + 0.1f * g.normal();
    }
  }
}

void write_mnist(const std::string& dir, const char* prefix, std::uint32_t n, Generator& g) {
  std::string images, labels;
  put_u32_big_endian(images, 2051);
  for (std::uint32_t v : {n, 28u, 28u}) put_u32_big_endian(images, v);
  put_u32_big_endian(labels, 2049);
  put_u32_big_endian(labels, n);
  std::vector<float> pixels(28 * 28);
  for (std::uint32_t i = 0; i < n; ++i) {
    const int label = int(g.below(kClasses));
    draw_digit(pixels.data(), label, g);
    labels.push_back(static_cast<char>(label));
    for (float v : pixels) images.push_back(static_cast<char>(to_byte(v)));
  }
  xgrad::write_file_atomically(dir + "/" + prefix + "-images-idx3-ubyte", images);
  xgrad::write_file_atomically(dir + "/" + prefix + "-labels-idx1-ubyte", labels);
}

void write_cifar_batch(const std::string& path, std::uint32_t n, Generator& g) {
  std::string records;
  std::vector<float> pixels(3 * 32 * 32);
  for (std::uint32_t i = 0; i < n; ++i) {
    const int label = int(g.below(kClasses));
    draw_shape(pixels.data(), label, g);
    records.push_back(static_cast<char>(label));
    for (float v : pixels) records.push_back(static_cast<char>(to_byte(v)));
  }
  xgrad::write_file_atomically(path, records);
}

}  // namespace

int main(int argc, char** argv) {
  std::string format, out;
  std::uint32_t train = 5000, test = 1000;
  std::uint64_t seed = 1;
  CLI::App app("Write a small synthetic data set with a learnable rule in MNIST's IDX or CIFAR-10's binary format.",
               "make_synthetic_data");
  app.add_option("--format", format, "mnist | cifar10")->required()->check(CLI::IsMember({"mnist", "cifar10"}));
  app.add_option("--out", out, "Folder to write the files to (created if missing)")->required();
  app.add_option("--train", train, "Training images (cifar10: split over the five batch files)")
      ->check(xgrad::examples::Whole(5, 1000000))
      ->capture_default_str();
  app.add_option("--test", test, "Test images")->check(xgrad::examples::Whole(1, 1000000))->capture_default_str();
  app.add_option("--seed", seed, "Seed of the drawings")->check(xgrad::examples::Whole(0, UINT64_MAX))->capture_default_str();
  if (int status = xgrad::examples::parse_command_line(app, argc, argv); status >= 0) return status;

  try {
    std::filesystem::create_directories(out);
    // Separate streams, so the test set does not change with the size of the training set.
    Generator train_gen(2 * seed), test_gen(2 * seed + 1);
    if (format == "mnist") {
      write_mnist(out, "train", train, train_gen);
      write_mnist(out, "t10k", test, test_gen);
    } else {
      for (std::uint32_t b = 0; b < 5; ++b) {
        write_cifar_batch(out + "/data_batch_" + std::to_string(b + 1) + ".bin",
                          (b + 1) * train / 5 - b * train / 5, train_gen);
      }
      write_cifar_batch(out + "/test_batch.bin", test, test_gen);
    }
    std::printf("make_synthetic_data: %u training and %u test images (%s) in %s\n", train, test, format.c_str(),
                out.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "make_synthetic_data: %s\n", e.what());
    return 1;
  }
}
