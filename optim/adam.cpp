// Adam's and AdamW's update, one plain loop over a parameter's contiguous values: see adam.hpp.
#include "xgrad/optim/adam.hpp"

#include <algorithm>
#include <cmath>

namespace xgrad {
namespace {

// The per-step scalars of the update below, each computed in double and rounded once to float.
struct AdamCoefficients {
  float decay_factor;   // 1 - lr * weight_decay (AdamW), else 1
  float l2;             // weight_decay (Adam), else 0
  float beta1, one_minus_beta1, beta2, one_minus_beta2;
  float step_size;      // lr / (1 - beta1^t)
  float bias_correction2_sqrt;
  float eps;
};

// PyTorch's documented algorithm, per element (t is this parameter's step, counted from 1):
//   p = p * (1 - lr * weight_decay)                           AdamW (decoupled)
//   g = grad + weight_decay * p                               Adam (L2)
//   m = beta1 * m + (1 - beta1) * g
//   v = beta2 * v + (1 - beta2) * g * g
//   v_max = max(v_max, v), and v_max replaces v below         amsgrad
//   p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// The coefficients arrive as float, as PyTorch casts its Python scalars for a float32 tensor. v_max is
// null without amsgrad.
void adam_update(float* p, float* m, float* v, float* v_max, const float* grad, std::size_t n,
                 const AdamCoefficients& c) {
#pragma omp parallel for if (n >= 65536)
  for (std::size_t i = 0; i < n; ++i) {
    if (c.decay_factor != 1.0f) p[i] = p[i] * c.decay_factor;
    float g = grad[i];
    if (c.l2 != 0.0f) g = g + c.l2 * p[i];
    m[i] = c.beta1 * m[i] + c.one_minus_beta1 * g;
    v[i] = c.beta2 * v[i] + c.one_minus_beta2 * (g * g);
    float second = v[i];
    if (v_max) second = v_max[i] = std::max(v_max[i], v[i]);
    const float denom = std::sqrt(second) / c.bias_correction2_sqrt + c.eps;
    p[i] = p[i] - c.step_size * (m[i] / denom);
  }
}

AdamOptions as_adam(const AdamWOptions& o) { return {o.lr, o.betas, o.eps, o.weight_decay, o.amsgrad}; }

}  // namespace

Adam::Adam(std::vector<NamedTensor> params, AdamOptions options)
    : Adam("Adam", std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options, false) {}

Adam::Adam(std::vector<ParamGroup> groups, AdamOptions options)
    : Adam("Adam", std::move(groups), options, false) {}

Adam::Adam(std::string type, std::vector<ParamGroup> groups, AdamOptions options, bool decoupled)
    : Optimizer(type, std::move(groups), options.lr, options.weight_decay),
      options_(options),
      decoupled_(decoupled) {
  check_hyper_parameter(type, "betas.first", options.betas.first, 0.0, 1.0, false);
  check_hyper_parameter(type, "betas.second", options.betas.second, 0.0, 1.0, false);
  check_hyper_parameter(type, "eps", options.eps, 0.0, HUGE_VAL);
}

AdamW::AdamW(std::vector<NamedTensor> params, AdamWOptions options)
    : Adam("AdamW", std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, as_adam(options), true) {}

AdamW::AdamW(std::vector<ParamGroup> groups, AdamWOptions options)
    : Adam("AdamW", std::move(groups), as_adam(options), true) {}

std::vector<std::pair<std::string, double>> Adam::options() const {
  return {{"beta1", options_.betas.first},
          {"beta2", options_.betas.second},
          {"eps", options_.eps},
          {"amsgrad", options_.amsgrad ? 1.0 : 0.0}};
}

std::vector<std::string> Adam::state_buffers() const {
  if (options_.amsgrad) return {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  return {"exp_avg", "exp_avg_sq"};
}

void Adam::update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) {
  AdamParamState& state = state_[name];
  ++state.step;
  if (!state.exp_avg.defined()) state.exp_avg = zeros(param.shape());
  if (!state.exp_avg_sq.defined()) state.exp_avg_sq = zeros(param.shape());
  if (options_.amsgrad && !state.max_exp_avg_sq.defined()) state.max_exp_avg_sq = zeros(param.shape());
  const auto [beta1, beta2] = options_.betas;
  const double t = static_cast<double>(state.step);
  AdamCoefficients c{};
  c.decay_factor = decoupled_ ? static_cast<float>(1.0 - group.lr * group.weight_decay) : 1.0f;
  c.l2 = decoupled_ ? 0.0f : static_cast<float>(group.weight_decay);
  c.beta1 = static_cast<float>(beta1);
  c.one_minus_beta1 = static_cast<float>(1.0 - beta1);
  c.beta2 = static_cast<float>(beta2);
  c.one_minus_beta2 = static_cast<float>(1.0 - beta2);
  c.step_size = static_cast<float>(group.lr / (1.0 - std::pow(beta1, t)));
  c.bias_correction2_sqrt = static_cast<float>(std::sqrt(1.0 - std::pow(beta2, t)));
  c.eps = static_cast<float>(options_.eps);
  float* v_max = options_.amsgrad ? state.max_exp_avg_sq.data() : nullptr;
  adam_update(param.data(), state.exp_avg.data(), state.exp_avg_sq.data(), v_max, grad.data(), param.numel(), c);
}

std::map<std::string, ParamState> Adam::named_state() const {
  std::map<std::string, ParamState> out;
  for (const auto& [name, s] : state_) {
    ParamState& ps = out[name];
    ps.step = s.step;
    ps.buffers.emplace("exp_avg", s.exp_avg);
    ps.buffers.emplace("exp_avg_sq", s.exp_avg_sq);
    if (s.max_exp_avg_sq.defined()) ps.buffers.emplace("max_exp_avg_sq", s.max_exp_avg_sq);
  }
  return out;
}

void Adam::set_named_state(std::map<std::string, ParamState> state) {
  std::map<std::string, AdamParamState> typed;
  auto take = [](ParamState& ps, const char* buffer) {
    auto it = ps.buffers.find(buffer);
    return it == ps.buffers.end() ? Tensor() : it->second;
  };
  for (auto& [name, ps] : state) {
    typed[name] = AdamParamState{ps.step, take(ps, "exp_avg"), take(ps, "exp_avg_sq"), take(ps, "max_exp_avg_sq")};
  }
  state_ = std::move(typed);
}

}  // namespace xgrad
