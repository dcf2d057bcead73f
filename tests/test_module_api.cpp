// Module API of issue 12 item 5: the default describe(), in-memory state_dict()/load_state_dict() with the
// checkpoint loader's checks, named_modules(), apply(), and Conv2d's short constructor with stride and
// padding.
#include <catch2/catch.hpp>

#include "xgrad/xgrad.hpp"

using namespace xgrad;

namespace {

// A user module that writes no describe().
class Block : public Module {
 public:
  explicit Block(Generator& gen) {
    conv = register_module("conv", std::make_shared<Conv2d>(2, 2, 3, 1, 1, gen));
    bn = register_module("bn", std::make_shared<BatchNorm2d>(2));
  }
  Tensor forward(const Tensor& x) override { return relu(bn->forward(conv->forward(x))) + x; }
  std::shared_ptr<Conv2d> conv;
  std::shared_ptr<BatchNorm2d> bn;
};

std::shared_ptr<Sequential> make_net(std::uint64_t seed) {
  Generator gen(seed);
  auto net = std::make_shared<Sequential>();
  net->add("block", std::make_shared<Block>(gen));
  net->add("flat", std::make_shared<Flatten>());
  net->add("head", std::make_shared<Dense>(2 * 4 * 4, 3, gen));
  return net;
}

std::vector<std::string> names_of(const StateDict& state) {
  std::vector<std::string> out;
  for (const auto& [name, t] : state) out.push_back(name);
  return out;
}

}  // namespace

TEST_CASE("a user module without describe() is named by its class", "[module_api]") {
  Generator gen(1);
  Block block(gen);
  CHECK(block.describe() == "Block()");
  // Errors from its layers still name them.
  CHECK_THROWS_WITH(block.conv->forward(zeros({1, 3, 4, 4})), Catch::Contains("Conv2d(2, 2, kernel_size=3"));
}

TEST_CASE("state_dict copies every parameter and buffer under its checkpoint name", "[module_api]") {
  auto net = make_net(2);
  const StateDict state = net->state_dict();
  CHECK(names_of(state) == std::vector<std::string>{"block.conv.weight", "block.conv.bias", "block.bn.weight",
                                                    "block.bn.bias", "head.weight", "head.bias",
                                                    "block.bn.running_mean", "block.bn.running_var",
                                                    "block.bn.num_batches_tracked"});
  // Copies: training the model afterwards leaves them alone.
  const std::vector<float> before = state[0].second.to_vector();
  {
    NoGradGuard no_grad;
    net->named_parameters()[0].second.add_(1.0f);
  }
  CHECK(state[0].second.to_vector() == before);

  // Loaded into a model with other weights, it gives the same outputs to the bit.
  Generator gen(3);
  const Tensor x = randn({2, 2, 4, 4}, gen);
  auto other = make_net(4);
  net->load_state_dict(state);
  other->load_state_dict(state);
  net->eval();
  other->eval();
  CHECK(net->forward(x).to_vector() == other->forward(x).to_vector());
  CHECK(other->named_parameters()[0].second.to_vector() == before);
}

TEST_CASE("load_state_dict: missing and unexpected keys, shapes, and nothing changes on error", "[module_api]") {
  auto net = make_net(5);
  const StateDict good = make_net(6)->state_dict();
  const std::vector<float> kept = net->state_dict()[0].second.to_vector();

  StateDict missing(good.begin() + 1, good.end());  // no block.conv.weight
  CHECK_THROWS_WITH(net->load_state_dict(missing),
                    Catch::Contains("load_state_dict: 'block.conv.weight' is missing; the model has it among its "
                                    "parameters"));
  StateDict extra = good;
  extra.emplace_back("head.scale", ones({3}));
  CHECK_THROWS_WITH(net->load_state_dict(extra),
                    Catch::Contains("'head.scale' is not one of the model's parameters or buffers"));
  StateDict wrong = good;
  wrong[4].second = zeros({3, 4});
  CHECK_THROWS_WITH(net->load_state_dict(wrong),
                    Catch::Contains("'head.weight' has shape (3, 4), the model's is (3, 32)"));
  StateDict negative = good;
  negative[7].second = full({2}, -1.0f);
  CHECK_THROWS_WITH(net->load_state_dict(negative), Catch::Contains("a running variance is >= 0"));
  StateDict twice = good;
  twice.push_back(good[0]);
  CHECK_THROWS_WITH(net->load_state_dict(twice), Catch::Contains("'block.conv.weight' appears twice"));
  CHECK(net->state_dict()[0].second.to_vector() == kept);  // every failure left the model alone

  // Not strict: the matching names load, the others are reported.
  const IncompatibleKeys keys = net->load_state_dict(StateDict(extra.begin() + 1, extra.end()), false);
  CHECK(keys.missing_keys == std::vector<std::string>{"block.conv.weight"});
  CHECK(keys.unexpected_keys == std::vector<std::string>{"head.scale"});
  CHECK(net->state_dict()[0].second.to_vector() == kept);
  CHECK(net->state_dict()[1].second.to_vector() == good[1].second.to_vector());
}

TEST_CASE("named_modules lists the tree depth first, apply visits children first", "[module_api]") {
  auto net = make_net(7);
  std::vector<std::string> names;
  for (const auto& [name, m] : net->named_modules()) names.push_back(name + "=" + m->describe().substr(0, 5));
  CHECK(names == std::vector<std::string>{"=Seque", "block=Block", "block.conv=Conv2", "block.bn=Batch",
                                          "flat=Flatt", "head=Dense"});
  std::vector<std::string> order;
  net->apply([&order](Module& m) { order.push_back(m.describe().substr(0, 5)); });
  CHECK(order == std::vector<std::string>{"Conv2", "Batch", "Block", "Flatt", "Dense", "Seque"});
  // The usual use: re-initialize every layer of a kind.
  net->apply([](Module& m) {
    if (auto* dense = dynamic_cast<Dense*>(&m)) std::fill_n(dense->weight().data(), dense->weight().numel(), 0.5f);
  });
  CHECK(net->state_dict()[4].second.to_vector() == std::vector<float>(3 * 32, 0.5f));
}

TEST_CASE("Conv2d's short constructor takes stride and padding in PyTorch's order", "[module_api]") {
  Generator gen(8);
  Conv2d down(3, 4, 3, 2, 1, gen);
  CHECK(down.options().stride == Size2(2));
  CHECK(down.padding() == Size2(1));
  CHECK(down.forward(zeros({1, 3, 8, 8})).shape() == Shape{1, 4, 4, 4});
  CHECK(down.describe() == "Conv2d(3, 4, kernel_size=3, stride=2, padding=1)");
  Conv2d strided(3, 4, {3, 1}, {2, 1}, gen);
  CHECK(strided.forward(zeros({1, 3, 9, 5})).shape() == Shape{1, 4, 4, 5});
  Conv2d same(3, 4, 5, 1, "same", gen);
  CHECK(same.forward(zeros({1, 3, 7, 6})).shape() == Shape{1, 4, 7, 6});
  CHECK_THROWS_WITH(Conv2d(3, 4, 3, 2, "same", gen), Catch::Contains("padding=\"same\" needs stride 1"));
}
