// Adagrad's update, one plain loop over a parameter's contiguous values: see adagrad.hpp.
#include "xgrad/optim/adagrad.hpp"

#include <cmath>

namespace xgrad {
namespace {

// PyTorch's documented algorithm, per element (t is this parameter's step, counted from 1):
//   clr = lr / (1 + (t - 1) * lr_decay)
//   g = grad + weight_decay * p
//   s = s + g * g
//   p = p - clr * (g / (sqrt(s) + eps))
// Coefficients arrive as float, as PyTorch casts its Python scalars for a float32 tensor.
void adagrad_update(float* p, float* s, const float* grad, std::size_t n, float clr, float weight_decay,
                    float eps) {
#pragma omp parallel for if (n >= 65536)
  for (std::size_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (weight_decay != 0.0f) g = g + weight_decay * p[i];
    s[i] = s[i] + g * g;
    p[i] = p[i] - clr * (g / (std::sqrt(s[i]) + eps));
  }
}

}  // namespace

Adagrad::Adagrad(std::vector<NamedTensor> params, AdagradOptions options)
    : Adagrad(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

Adagrad::Adagrad(std::vector<ParamGroup> groups, AdagradOptions options)
    : Optimizer("Adagrad", std::move(groups), options.lr, options.weight_decay), options_(options) {
  check_hyper_parameter("Adagrad", "lr_decay", options.lr_decay, 0.0, HUGE_VAL);
  check_hyper_parameter("Adagrad", "initial_accumulator_value", options.initial_accumulator_value, 0.0, HUGE_VAL);
  check_hyper_parameter("Adagrad", "eps", options.eps, 0.0, HUGE_VAL);
}

std::vector<std::pair<std::string, double>> Adagrad::options() const {
  return {{"lr_decay", options_.lr_decay},
          {"initial_accumulator_value", options_.initial_accumulator_value},
          {"eps", options_.eps}};
}

void Adagrad::update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) {
  AdagradParamState& s = state_[name];
  ++s.step;
  if (!s.sum.defined()) s.sum = full(param.shape(), static_cast<float>(options_.initial_accumulator_value));
  const double clr = group.lr / (1.0 + static_cast<double>(s.step - 1) * options_.lr_decay);
  adagrad_update(param.data(), s.sum.data(), grad.data(), param.numel(), static_cast<float>(clr),
                 static_cast<float>(group.weight_decay), static_cast<float>(options_.eps));
}

std::map<std::string, ParamState> Adagrad::named_state() const {
  std::map<std::string, ParamState> out;
  for (const auto& [name, s] : state_) out[name] = ParamState{s.step, {{"sum", s.sum}}};
  return out;
}

void Adagrad::set_named_state(std::map<std::string, ParamState> state) {
  std::map<std::string, AdagradParamState> typed;
  for (auto& [name, ps] : state) typed[name] = {ps.step, ps.buffers.at("sum")};
  state_ = std::move(typed);
}

}  // namespace xgrad
