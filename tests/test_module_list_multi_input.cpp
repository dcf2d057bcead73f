// ModuleList (torch.nn.ModuleList) and user modules whose forward takes several tensors (PyTorch's
// forward(self, x, y)): both keep parameters, state_dict, clone and train/eval; the one-tensor callers
// refuse them with a message naming the module.
#include <catch2/catch.hpp>

#include "xgrad/xgrad.hpp"

using namespace xgrad;
using Catch::Contains;

// Everything in a namespace of its own: the unit tests are compiled ten files to a translation unit.
namespace module_list_test {

// A stack of Dense layers held in a ModuleList, called in a loop with a skip every other layer.
class Tower : public Module {
 public:
  Tower(int width, int depth, Generator& gen) : width_(width), depth_(depth) {
    layers = register_module("layers", std::make_shared<ModuleList>());
    for (int i = 0; i < depth; ++i) layers->push_back(std::make_shared<Dense>(width, width, gen));
    norm = register_module("norm", std::make_shared<LayerNorm>(Shape{std::size_t(width)}));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = x;
    std::size_t i = 0;
    for (const auto& layer : *layers) y = (i++ % 2 == 1) ? y + tanh((*layer)(y)) : tanh((*layer)(y));
    return (*norm)(y);
  }
  std::shared_ptr<Module> clone() const override {
    Generator unused;  // the fresh tower's random values are overwritten by clone_into
    return clone_into(std::make_shared<Tower>(width_, depth_, unused));
  }
  std::shared_ptr<ModuleList> layers;
  std::shared_ptr<LayerNorm> norm;

 private:
  int width_, depth_;
};

// Two inputs: y = head(relu(a(x) + b(z))), a "forward(x, z)" the library's one-tensor callers cannot call.
class TwoInputs : public Module {
 public:
  explicit TwoInputs(std::uint64_t seed) : seed_(seed) {
    Generator gen(seed);
    a = register_module("a", std::make_shared<Dense>(3, 8, gen));
    b = register_module("b", std::make_shared<Dense>(2, 8, gen));
    bn = register_module("bn", std::make_shared<BatchNorm1d>(8));
    head = register_module("head", std::make_shared<Dense>(8, 1, gen));
  }
  Tensor forward(const Tensor& x, const Tensor& z) { return (*head)(relu((*bn)((*a)(x) + (*b)(z)))); }
  std::shared_ptr<Module> clone() const override { return clone_into(std::make_shared<TwoInputs>(seed_)); }
  std::shared_ptr<Dense> a, b, head;
  std::shared_ptr<BatchNorm1d> bn;

 private:
  std::uint64_t seed_;
};


TEST_CASE("ModuleList registers its entries by position, in order", "[module_api][module_list]") {
  Generator gen(1);
  Tower tower(4, 3, gen);
  std::vector<std::string> names;
  for (const auto& [name, t] : tower.named_parameters()) names.push_back(name);
  CHECK(names == std::vector<std::string>{"layers.0.weight", "layers.0.bias", "layers.1.weight", "layers.1.bias",
                                          "layers.2.weight", "layers.2.bias", "norm.weight", "norm.bias"});
  CHECK(tower.parameters().size() == 8);
  CHECK(tower.state_dict().size() == 8);
  CHECK(tower.layers->size() == 3);
  CHECK_FALSE(tower.layers->empty());
  CHECK(tower.layers->describe() == "ModuleList(3 modules)");
  // operator[] and at<M> give the registered modules themselves.
  CHECK((*tower.layers)[1]->named_parameters()[0].second.data() == tower.named_parameters()[2].second.data());
  CHECK(tower.layers->at<Dense>(2)->options().out_features == 4);
  CHECK_THROWS_WITH((*tower.layers)[3], Contains("ModuleList: index 3 is out of range for 3 modules"));
  CHECK_THROWS_WITH(tower.layers->at<Conv2d>(0), Contains("module 0 is Dense(in_features=4"));
  // Iteration visits the entries in order.
  std::size_t i = 0;
  for (const auto& m : *tower.layers) CHECK(m == (*tower.layers)[i++]);
  CHECK(i == 3);
  // train()/eval() reach the entries; the list itself is not called.
  tower.eval();
  for (const auto& m : *tower.layers) CHECK_FALSE(m->is_training());
  CHECK_THROWS_WITH((*tower.layers)(zeros({1, 4})), Contains("ModuleList(3 modules): a ModuleList has no forward"));

  // append / extend and the initializer-list constructor name by position too; types are kept.
  ModuleList list{std::make_shared<ReLU>()};
  std::shared_ptr<Dense> dense = list.append(std::make_shared<Dense>(2, 2, gen));
  list.extend({std::make_shared<Tanh>(), std::make_shared<Dense>(2, 1, gen)});
  CHECK(list.size() == 4);
  CHECK(list.children()[3].first == "3");
  CHECK(list.named_parameters()[0].first == "1.weight");
  CHECK(list.named_parameters()[2].first == "3.weight");
  CHECK(dense == list[1]);
}

TEST_CASE("A model holding a ModuleList trains, clones and reloads its state", "[module_api][module_list]") {
  Generator gen(2);
  Tower tower(4, 4, gen);
  const Tensor x = randn({6, 4}, gen), target = randn({6, 4}, gen);
  std::shared_ptr<Tower> copy = clone_module(tower);
  CHECK(copy->layers != tower.layers);
  CHECK(copy->layers->size() == 4);
  CHECK(copy->forward(x).to_vector() == tower.forward(x).to_vector());

  SGD opt(tower.parameters(), SGDOptions{.lr = 0.05});
  const double first = mse_loss(tower.forward(x), target).item();
  for (int step = 0; step < 20; ++step) {
    opt.zero_grad();
    mse_loss(tower.forward(x), target).backward();
    opt.step();
  }
  CHECK(mse_loss(tower.forward(x), target).item() < first);
  CHECK(copy->forward(x).to_vector() != tower.forward(x).to_vector());  // the copy did not train
  copy->load_state_dict(tower.state_dict());
  CHECK(copy->forward(x).to_vector() == tower.forward(x).to_vector());
}

TEST_CASE("A module with forward(x, z) trains, and keeps state_dict, clone and train/eval",
          "[module_api][multi_input]") {
  Generator gen(3);
  TwoInputs model(7);
  const Tensor x = randn({16, 3}, gen), z = randn({16, 2}, gen);
  // A target the model can fit: a fixed function of both inputs.
  const Tensor target = sum(x, {1}, true) * 0.5f - sum(z, {1}, true);
  auto copy = clone_module(model);
  Adam opt(model.parameters(), AdamOptions{.lr = 0.02});
  std::vector<double> losses;
  for (int step = 0; step < 30; ++step) {
    opt.zero_grad();
    Tensor loss = mse_loss(model.forward(x, z), target);
    loss.backward();
    opt.step();
    losses.push_back(loss.item());
  }
  CHECK(losses.back() < 0.5 * losses.front());
  // Every parameter of both branches received a gradient.
  for (const auto& [name, p] : model.named_parameters()) {
    INFO(name);
    CHECK(p.grad().defined());
  }
  // The copy, taken before training, is unchanged; the state of the trained model carries over exactly.
  copy->eval();
  model.eval();
  CHECK(copy->forward(x, z).to_vector() != model.forward(x, z).to_vector());
  copy->load_state_dict(model.state_dict());
  CHECK(copy->forward(x, z).to_vector() == model.forward(x, z).to_vector());
  CHECK_FALSE(copy->bn->is_training());

  // The one-tensor callers refuse it, naming the class.
  CHECK_THROWS_WITH(model(x), Contains("TwoInputs: forward(x) with one tensor is not defined"));
  Sequential seq;
  seq.add(clone_module(model));
  CHECK_THROWS_WITH(seq.forward(x), Contains("TwoInputs: forward(x)"));
}

}  // namespace module_list_test
