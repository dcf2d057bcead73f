// SGD's update, one plain loop over a parameter's contiguous values: see sgd.hpp.
#include "xgrad/optim/sgd.hpp"

#include <cmath>

#include "xgrad/core/error.hpp"

namespace xgrad {
namespace {

// PyTorch's documented algorithm, per element (b is the momentum buffer):
//   g = grad + weight_decay * p
//   b = g                                  on the first step
//   b = momentum * b + (1 - dampening) * g otherwise
//   g = g + momentum * b if nesterov, else g = b      (only when momentum != 0)
//   p = p - lr * g
// Coefficients arrive as float, as PyTorch casts its Python scalars for a float32 tensor.
void sgd_update(float* p, float* b, const float* grad, std::size_t n, float lr, float weight_decay,
                float momentum, float one_minus_dampening, bool first, bool nesterov) {
#pragma omp parallel for if (n >= 65536)
  for (std::size_t i = 0; i < n; ++i) {
    float g = grad[i];
    if (weight_decay != 0.0f) g = g + weight_decay * p[i];
    if (b) {
      b[i] = first ? g : momentum * b[i] + one_minus_dampening * g;
      g = nesterov ? g + momentum * b[i] : b[i];
    }
    p[i] = p[i] - lr * g;
  }
}

}  // namespace

SGD::SGD(std::vector<NamedTensor> params, SGDOptions options)
    : SGD(std::vector<ParamGroup>{ParamGroup{std::move(params), {}, {}}}, options) {}

SGD::SGD(std::vector<ParamGroup> groups, SGDOptions options)
    : Optimizer("SGD", std::move(groups), options.lr, options.weight_decay), options_(options) {
  check_hyper_parameter("SGD", "momentum", options.momentum, 0.0, HUGE_VAL);
  check_hyper_parameter("SGD", "dampening", options.dampening, 0.0, 1.0);
  XGRAD_CHECK(!options.nesterov || (options.momentum > 0 && options.dampening == 0),
              "SGD: nesterov needs momentum > 0 and dampening 0, got momentum ", options.momentum,
              " and dampening ", options.dampening);
}

std::vector<std::pair<std::string, double>> SGD::options() const {
  return {{"momentum", options_.momentum},
          {"dampening", options_.dampening},
          {"nesterov", options_.nesterov ? 1.0 : 0.0}};
}

std::vector<std::string> SGD::state_buffers() const {
  if (options_.momentum == 0) return {};
  return {"momentum_buffer"};
}

void SGD::update(const std::string& name, Tensor& param, const Tensor& grad, const Group& group) {
  SGDParamState& state = state_[name];
  ++state.step;
  float* buffer = nullptr;
  bool first = false;  // like PyTorch, the buffer starts as the first gradient, undamped
  if (options_.momentum != 0) {
    Tensor& b = state.momentum_buffer;
    first = !b.defined();
    if (first) b = empty(param.shape());
    buffer = b.data();
  }
  sgd_update(param.data(), buffer, grad.data(), param.numel(), static_cast<float>(group.lr),
             static_cast<float>(group.weight_decay), static_cast<float>(options_.momentum),
             static_cast<float>(1.0 - options_.dampening), first, options_.nesterov);
}

std::map<std::string, ParamState> SGD::named_state() const {
  std::map<std::string, ParamState> out;
  for (const auto& [name, s] : state_) {
    ParamState& ps = out[name];
    ps.step = s.step;
    if (s.momentum_buffer.defined()) ps.buffers.emplace("momentum_buffer", s.momentum_buffer);
  }
  return out;
}

void SGD::set_named_state(std::map<std::string, ParamState> state) {
  std::map<std::string, SGDParamState> typed;
  for (auto& [name, ps] : state) {
    SGDParamState& s = typed[name];
    s.step = ps.step;
    if (auto it = ps.buffers.find("momentum_buffer"); it != ps.buffers.end()) s.momentum_buffer = it->second;
  }
  state_ = std::move(typed);
}

}  // namespace xgrad
