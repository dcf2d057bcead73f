// RMSprop and Adagrad against steps worked out by hand (in double, from PyTorch's documented algorithms),
// optimizers built from model.parameters(), and their state through a checkpoint.
#include <catch2/catch.hpp>

#include "checkpoint_fixtures.hpp"
#include "xgrad/xgrad.hpp"
#include "xgrad/optim/adagrad.hpp"
#include "xgrad/optim/rmsprop.hpp"

using namespace xgrad;

namespace {

// Three steps of minimizing sum(p^2) (gradient 2p) from p = (1, -0.5); the values after each step.
std::vector<std::vector<float>> three_steps(Optimizer& opt, Tensor p) {
  std::vector<std::vector<float>> out;
  for (int t = 0; t < 3; ++t) {
    opt.zero_grad();
    sum(p * p).backward();
    opt.step();
    out.push_back(p.to_vector());
  }
  return out;
}

// float32 steps against the double reference: a few ulps of drift per step.
void check_steps(const std::vector<std::vector<float>>& got, const std::vector<std::vector<double>>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t t = 0; t < want.size(); ++t) {
    for (std::size_t i = 0; i < want[t].size(); ++i) CHECK(got[t][i] == Approx(want[t][i]).epsilon(2e-6));
  }
}

}  // namespace

TEST_CASE("RMSprop: PyTorch's defaults and steps by hand", "[optim][rmsprop]") {
  // Step 1: v = 0.01 * 2^2 = 0.04, p = 1 - 0.01 * 2 / (0.2 + 1e-8) = 0.9.
  Tensor p = Tensor{1.0f, -0.5f}.set_requires_grad();
  RMSprop opt({{"p", p}}, RMSpropOptions{});
  check_steps(three_steps(opt, p), {{0.9000000049999998, -0.4000000099999991},
                                    {0.8329179679700331, -0.3373391779574925},
                                    {0.7799822732436351, -0.2904332263210434}});
  CHECK(opt.state().at("p").step == 3);
  CHECK(opt.state_buffers() == std::vector<std::string>{"square_avg"});
  CHECK_THROWS_WITH(RMSprop({{"p", p}}, RMSpropOptions{.alpha = 1.5}),
                    Catch::Contains("RMSprop: alpha must be in [0, 1]"));
  CHECK_THROWS_WITH(RMSprop({{"p", p}}, RMSpropOptions{.momentum = -1}), Catch::Contains("RMSprop: momentum"));
}

TEST_CASE("RMSprop with momentum, centering and weight decay", "[optim][rmsprop]") {
  Tensor p = Tensor{1.0f, -0.5f}.set_requires_grad();
  RMSprop opt({{"p", p}}, RMSpropOptions{.lr = 0.05, .alpha = 0.9, .weight_decay = 0.1, .momentum = 0.8,
                                         .centered = true});
  check_steps(three_steps(opt, p), {{0.833333335978836, -0.33333333862433845},
                                    {0.5841698557192767, -0.09945051507571934},
                                    {0.30433879123754354, 0.1192519371714307}});
  CHECK(opt.state_buffers() == std::vector<std::string>{"square_avg", "momentum_buffer", "grad_avg"});
}

TEST_CASE("Adagrad: steps by hand, with lr_decay and an initial accumulator", "[optim][adagrad]") {
  // Step 1: s = 2^2 = 4, p = 1 - 0.1 * 2 / (2 + 1e-10) = 0.9.
  Tensor p = Tensor{1.0f, -0.5f}.set_requires_grad();
  Adagrad opt({{"p", p}}, AdagradOptions{.lr = 0.1});
  check_steps(three_steps(opt, p), {{0.900000000005, -0.40000000001},
                                    {0.8331035268450359, -0.33753049525848333},
                                    {0.7804561813568098, -0.29089917679625}});
  Tensor q = Tensor{1.0f, -0.5f}.set_requires_grad();
  Adagrad decayed({{"q", q}}, AdagradOptions{.lr = 0.2, .lr_decay = 0.5, .weight_decay = 0.05,
                                             .initial_accumulator_value = 0.3});
  check_steps(three_steps(decayed, q), {{0.8067778118623341, -0.32360491949099573},
                                        {0.724810396263789, -0.25750591585844973},
                                        {0.6764641978943957, -0.22080969471345938}});
  CHECK(AdagradOptions{}.lr == 1e-2);
  CHECK(AdagradOptions{}.eps == 1e-10);
  CHECK_THROWS_WITH(Adagrad({{"q", q}}, AdagradOptions{.lr_decay = -1}), Catch::Contains("Adagrad: lr_decay"));
}

TEST_CASE("optimizers take model.parameters(), named by position", "[optim]") {
  testing::TinyNet a(3), b(3);
  SGD by_list(a.parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9});
  SGD by_name(b.named_parameters(), SGDOptions{.lr = 0.1, .momentum = 0.9});
  Generator data_a(4), data_b(4);
  for (int i = 0; i < 3; ++i) {
    testing::train_step(a, by_list, data_a);
    testing::train_step(b, by_name, data_b);
  }
  for (std::size_t k = 0; k < a.parameters().size(); ++k) {
    CHECK(a.parameters()[k].to_vector() == b.parameters()[k].to_vector());  // the same steps, to the bit
  }
  CHECK(by_list.state_dict().param_groups[0].params[0] == "0");
  CHECK(by_list.state_dict().state.count("1") == 1);
  Adam adam(a.parameters(), AdamOptions{});
  AdamW adamw(a.parameters(), AdamWOptions{});
  RMSprop rmsprop(a.parameters(), RMSpropOptions{});
  Adagrad adagrad(a.parameters(), AdagradOptions{});
  CHECK(adagrad.param_groups()[0].params.size() == a.parameters().size());
}

TEST_CASE("RMSprop and Adagrad resume exactly from a checkpoint", "[optim][checkpoint]") {
  testing::TempDir dir;
  for (int kind = 0; kind < 2; ++kind) {
    auto make = [kind](Module& net) -> std::unique_ptr<Optimizer> {
      if (kind == 0) {
        return std::make_unique<RMSprop>(net.named_parameters(), RMSpropOptions{.momentum = 0.5, .centered = true});
      }
      return std::make_unique<Adagrad>(net.named_parameters(), AdagradOptions{.lr_decay = 0.1});
    };
    testing::TinyNet straight(5), resumed(5);
    auto opt1 = make(straight), opt2 = make(resumed);
    Generator d1(6), d2(6);
    for (int i = 0; i < 2; ++i) testing::train_step(straight, *opt1, d1);
    save_checkpoint(dir.file("o.json"), straight, opt1.get(), nullptr, {&d1});
    for (int i = 0; i < 2; ++i) testing::train_step(straight, *opt1, d1);
    load_checkpoint(dir.file("o.json"), resumed, opt2.get(), nullptr, {&d2});  // d2 replays d1's last batches
    for (int i = 0; i < 2; ++i) testing::train_step(resumed, *opt2, d2);
    for (std::size_t k = 0; k < straight.parameters().size(); ++k) {
      CHECK(straight.parameters()[k].to_vector() == resumed.parameters()[k].to_vector());
    }
  }
}
