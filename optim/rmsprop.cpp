// RMSprop's update, one plain loop over a parameter's contiguous values: see rmsprop.hpp.
#include "xgrad/optim/rmsprop.hpp"

#include <cmath>

namespace xgrad {
namespace {

// PyTorch's documented algorithm, per element:
//   g = grad + weight_decay * p
//   v = alpha * v + (1 - alpha) * g * g
//   a = alpha * a + (1 - alpha) * g,  d = sqrt(v - a * a) + eps     centered
//   d = sqrt(v) + eps                                               otherwise
//   b = momentum * b + g / d,  p = p - lr * b                       momentum > 0 (b starts at 0)
//   p = p - lr * (g / d)                                            otherwise
// Coefficients arrive as float, as PyTorch casts its Python scalars for a float32 tensor; b and a are
// null when unused.
void rmsprop_update(float* p, float* v, float* b, float* a, const float* grad, std::size_t n, float lr,
                    float alpha, float one_minus_alpha, float eps, float weight_decay, float momentum) {
#pragma omp parallel for if (n >= 65536)
  for (std::size_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (weight_decay != 0.0f) g = g + weight_decay * p[i];
    v[i] = alpha * v[i] + one_minus_alpha * (g * g);
    float d;
    if (a) {
      a[i] = alpha * a[i] + one_minus_alpha * g;
      d = std::sqrt(v[i] - a[i] * a[i]) + eps;
    } else {
      d = std::sqrt(v[i]) + eps;
    }
    if (b) {
      b[i] = momentum * b[i] + g / d;
      p[i] = p[i] - lr * b[i];
    } else {
      p[i] = p[i] - lr * (g / d);
    }
  }
}

}  // namespace

RMSprop::RMSprop(std::vector<NamedTensor> params, RMSpropOptions options)
    : RMSprop(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

RMSprop::RMSprop(std::vector<ParamGroup> groups, RMSpropOptions options)
    : Optimizer("RMSprop", std::move(groups), options.lr, options.weight_decay), options_(options) {
  check_hyper_parameter("RMSprop", "alpha", options.alpha, 0.0, 1.0);
  check_hyper_parameter("RMSprop", "eps", options.eps, 0.0, HUGE_VAL);
  check_hyper_parameter("RMSprop", "momentum", options.momentum, 0.0, HUGE_VAL);
}

std::vector<std::pair<std::string, double>> RMSprop::options() const {
  return {{"alpha", options_.alpha},
          {"eps", options_.eps},
          {"momentum", options_.momentum},
          {"centered", options_.centered ? 1.0 : 0.0}};
}

std::vector<std::string> RMSprop::state_buffers() const {
  std::vector<std::string> out{"square_avg"};
  if (options_.momentum > 0) out.push_back("momentum_buffer");
  if (options_.centered) out.push_back("grad_avg");
  return out;
}

void RMSprop::update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) {
  RMSpropParamState& s = state_[name];
  ++s.step;
  if (!s.square_avg.defined()) s.square_avg = zeros(param.shape());
  if (options_.momentum > 0 && !s.momentum_buffer.defined()) s.momentum_buffer = zeros(param.shape());
  if (options_.centered && !s.grad_avg.defined()) s.grad_avg = zeros(param.shape());
  rmsprop_update(param.data(), s.square_avg.data(), options_.momentum > 0 ? s.momentum_buffer.data() : nullptr,
                 options_.centered ? s.grad_avg.data() : nullptr, grad.data(), param.numel(),
                 static_cast<float>(group.lr), static_cast<float>(options_.alpha),
                 static_cast<float>(1.0 - options_.alpha), static_cast<float>(options_.eps),
                 static_cast<float>(group.weight_decay), static_cast<float>(options_.momentum));
}

std::map<std::string, ParamState> RMSprop::named_state() const {
  std::map<std::string, ParamState> out;
  for (const auto& [name, s] : state_) {
    ParamState& ps = out[name];
    ps.step = s.step;
    ps.buffers.emplace("square_avg", s.square_avg);
    if (s.momentum_buffer.defined()) ps.buffers.emplace("momentum_buffer", s.momentum_buffer);
    if (s.grad_avg.defined()) ps.buffers.emplace("grad_avg", s.grad_avg);
  }
  return out;
}

void RMSprop::set_named_state(std::map<std::string, ParamState> state) {
  std::map<std::string, RMSpropParamState> typed;
  auto take = [](ParamState& ps, const char* buffer) {
    auto it = ps.buffers.find(buffer);
    return it == ps.buffers.end() ? Tensor() : it->second;
  };
  for (auto& [name, ps] : state) {
    typed[name] = {ps.step, take(ps, "square_avg"), take(ps, "momentum_buffer"), take(ps, "grad_avg")};
  }
  state_ = std::move(typed);
}

}  // namespace xgrad
