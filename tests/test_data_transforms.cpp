// Transforms: crop and flip kernels against hand-worked images, the random transforms against their
// documented draws, Normalize and channel_mean_std by hand, and seeded determinism through the loader.
#include <catch2/catch.hpp>
#include <vector>

#include "xgrad/data/data_loader.hpp"
#include "xgrad/data/transforms.hpp"
#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Matchers::Contains;

namespace {

// One 1-channel 3x3 image holding 1..9.
const std::vector<float> kNine{1, 2, 3, 4, 5, 6, 7, 8, 9};

std::vector<float> crop(const std::vector<float>& in, std::size_t C, std::size_t H, std::size_t W,
                        std::size_t OH, std::size_t OW, std::size_t top, std::size_t left,
                        std::size_t padding) {
  std::vector<float> out(C * OH * OW, -1.0f);
  crop_padded(out.data(), in.data(), C, H, W, OH, OW, top, left, padding);
  return out;
}

}  // namespace

TEST_CASE("crop_padded: windows over a zero-padded image", "[data][transforms]") {
  // Padded by 1, the 5x5 image has 1..9 in its centre; the window's origin is (top, left) in it.
  CHECK(crop(kNine, 1, 3, 3, 3, 3, 1, 1, 1) == kNine);
  CHECK(crop(kNine, 1, 3, 3, 3, 3, 0, 0, 1) == std::vector<float>{0, 0, 0, 0, 1, 2, 0, 4, 5});
  CHECK(crop(kNine, 1, 3, 3, 3, 3, 2, 2, 1) == std::vector<float>{5, 6, 0, 8, 9, 0, 0, 0, 0});
  CHECK(crop(kNine, 1, 3, 3, 3, 3, 0, 2, 1) == std::vector<float>{0, 0, 0, 2, 3, 0, 5, 6, 0});
  // Smaller window without padding, and a window entirely in the padding.
  CHECK(crop(kNine, 1, 3, 3, 2, 2, 1, 0, 0) == std::vector<float>{4, 5, 7, 8});
  CHECK(crop(kNine, 1, 3, 3, 2, 2, 0, 0, 4) == std::vector<float>{0, 0, 0, 0});
  // Two channels move together.
  std::vector<float> two = kNine;
  for (float v : kNine) two.push_back(10 * v);
  CHECK(crop(two, 2, 3, 3, 2, 2, 2, 1, 1) == std::vector<float>{4, 5, 7, 8, 40, 50, 70, 80});
}

TEST_CASE("flip_horizontal mirrors every row of every channel", "[data][transforms]") {
  std::vector<float> img{1, 2, 3, 4, 5, 6, /**/ 7, 8, 9, 10, 11, 12};  // (2, 2, 3)
  flip_horizontal(img.data(), 2, 2, 3);
  CHECK(img == std::vector<float>{3, 2, 1, 6, 5, 4, 9, 8, 7, 12, 11, 10});
}

TEST_CASE("RandomCrop draws top then left per image from the generator", "[data][transforms]") {
  Generator data_gen(1);
  Tensor batch = rand({6, 3, 8, 8}, data_gen);
  const auto input = batch.to_vector();
  Generator gen(9), replay(9);
  RandomCrop random_crop(8, 2);
  random_crop(batch, gen);
  REQUIRE(batch.shape() == Shape{6, 3, 8, 8});
  const auto got = batch.to_vector();
  std::size_t shifted = 0;
  for (std::size_t n = 0; n < 6; ++n) {
    const std::size_t top = replay.below(5), left = replay.below(5);  // 8 + 2 * 2 - 8 + 1 offsets
    shifted += (top != 2 || left != 2);
    std::vector<float> image(input.begin() + n * 192, input.begin() + (n + 1) * 192);
    CHECK(std::vector<float>(got.begin() + n * 192, got.begin() + (n + 1) * 192) ==
          crop(image, 3, 8, 8, 8, 8, top, left, 2));
  }
  CHECK(shifted > 0);  // the draws did move some window off centre
  CHECK(gen.state() == replay.state());

  // A smaller output size, twice in a row (the buffers swap between calls).
  RandomCrop small(5, 0);
  for (int k = 0; k < 2; ++k) {
    Tensor b = from_vector(input, {6, 3, 8, 8});
    small(b, gen);
    CHECK(b.shape() == Shape{6, 3, 5, 5});
  }
  Tensor b = from_vector(input, {6, 3, 8, 8});
  CHECK_THROWS_WITH(RandomCrop(13, 2)(b, gen),
                    "RandomCrop: a 13x13 window does not fit images of 8x8 padded by 2");
  Tensor flat = zeros({2, 3});
  CHECK_THROWS_WITH(small(flat, gen), "RandomCrop: expected a batch of images (N, C, H, W), got (2, 3)");
}

TEST_CASE("RandomHorizontalFlip: p = 0 never, p = 1 always, else one uniform() < p per image",
          "[data][transforms]") {
  Generator data_gen(2);
  const Tensor original = rand({40, 2, 3, 5}, data_gen);
  Generator gen(4);
  Tensor never = original.clone();
  RandomHorizontalFlip(0.0f)(never, gen);
  CHECK(never.to_vector() == original.to_vector());

  Tensor always = original.clone(), half = original.clone();
  RandomHorizontalFlip(1.0f)(always, gen);
  Generator replay = gen;
  RandomHorizontalFlip(0.5f)(half, gen);
  std::size_t flips = 0;
  for (std::size_t n = 0; n < 40; ++n) {
    const bool flip = replay.uniform() < 0.5f;
    flips += flip;
    for (std::size_t c = 0; c < 2; ++c)
      for (std::size_t y = 0; y < 3; ++y)
        for (std::size_t x = 0; x < 5; ++x) {
          CHECK(always.at({n, c, y, x}) == original.at({n, c, y, 4 - x}));
          CHECK(half.at({n, c, y, x}) == original.at({n, c, y, flip ? 4 - x : x}));
        }
  }
  CHECK(flips > 0);
  CHECK(flips < 40);
  CHECK_THROWS_WITH(RandomHorizontalFlip(1.5f), "RandomHorizontalFlip: p 1.5 is not in [0, 1]");
}

TEST_CASE("Normalize and channel_mean_std by hand", "[data][transforms]") {
  // (2, 2, 1, 2): channel 0 holds 1, 2, 3, 4; channel 1 holds 10, 10, 30, 30.
  Tensor batch = from_vector({1, 2, 10, 10, 3, 4, 30, 30}, {2, 2, 1, 2});
  const ChannelStats stats = channel_mean_std(batch);
  CHECK(stats.mean == std::vector<float>{2.5f, 20.0f});
  CHECK(stats.std[0] == Approx(1.118033988749895).epsilon(1e-7));  // sqrt(1.25)
  CHECK(stats.std[1] == 10.0f);

  Generator gen(0);
  Normalize({2.5f, 20.0f}, {0.5f, 10.0f})(batch, gen);
  CHECK(batch.to_vector() == std::vector<float>{-3, -1, -1, -1, 1, 3, 1, 1});

  CHECK_THROWS_WITH(Normalize({0.5f}, {0.5f})(batch, gen),
                    "Normalize: batch of shape (2, 2, 1, 2) does not have 1 channels on axis 1");
  CHECK_THROWS_WITH(Normalize({0.5f, 0.5f}, {0.5f}),
                    "Normalize: 2 means and 1 standard deviations: need one of each per channel");
  CHECK_THROWS_WITH(Normalize({0.5f}, {0.0f}), Contains("Normalize: channel 0 has mean 0.5 and std 0"));
  CHECK_THROWS_WITH(channel_mean_std(zeros({0, 3})),
                    "channel_mean_std: expected a non-empty (N, C, ...), got (0, 3)");
}

TEST_CASE("compose applies in order, loader augmentation is seeded and leaves the order alone",
          "[data][transforms][loader]") {
  Generator data_gen(5);
  TensorDataset data(rand({20, 3, 6, 6}, data_gen), Labels(20, 0));
  auto augment = [] {
    return compose(
        {RandomCrop(6, 2), RandomHorizontalFlip(), Normalize({0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f})});
  };
  // By hand: the same three steps on the same generator.
  {
    Tensor a = data.inputs().clone(), b = data.inputs().clone();
    Generator g1(3), g2(3);
    augment()(a, g1);
    RandomCrop crop_step(6, 2);
    crop_step(b, g2);
    RandomHorizontalFlip()(b, g2);
    Normalize({0.5f, 0.5f, 0.5f}, {0.25f, 0.25f, 0.25f})(b, g2);
    CHECK(a.to_vector() == b.to_vector());
  }
  auto run = [&](std::uint64_t seed, bool with_transform) {
    DataLoader loader(data, {.batch_size = 8, .shuffle = true, .seed = seed},
                      with_transform ? augment() : Transform(nullptr));
    std::vector<float> values;
    std::vector<std::size_t> order;
    for (int e = 0; e < 2; ++e) {
      for (const auto& batch : loader) {
        const auto v = batch.inputs.to_vector();
        values.insert(values.end(), v.begin(), v.end());
      }
      order.insert(order.end(), loader.order().begin(), loader.order().end());
    }
    return std::make_pair(values, order);
  };
  const auto a = run(11, true), b = run(11, true), c = run(12, true), plain = run(11, false);
  CHECK(a.first == b.first);
  CHECK(a.first != c.first);
  CHECK(a.first != plain.first);
  CHECK(a.second == plain.second);  // augmentation draws from its own generator
  CHECK_THROWS_WITH(compose({Transform(nullptr)}), "compose: transform 0 is empty");
}
