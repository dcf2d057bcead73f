// Dropout layer: see dropout.hpp.
#include "xgrad/layers/dropout.hpp"

#include <sstream>

#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/dropout.hpp"

namespace xgrad {

Dropout::Dropout(float p, std::uint64_t seed) : p_(p), gen_(seed) {
  XGRAD_CHECK(p >= 0.0f && p < 1.0f, "Dropout: p must be in [0, 1), got ", p);
}

Dropout::Dropout(float p, Generator& gen) : Dropout(p, gen.next_u64()) {}

Tensor Dropout::forward(const Tensor& x) {
  XGRAD_CHECK(x.defined(), describe(), ": the input is undefined");
  return dropout(x, p_, is_training(), gen_);
}

std::shared_ptr<Module> Dropout::clone() const {
  auto copy = std::make_shared<Dropout>(p_);
  copy->gen_ = gen_;
  return clone_into(copy);
}

std::string Dropout::describe() const {
  std::ostringstream out;
  out << "Dropout(p=" << p_ << ")";
  return out.str();
}

}  // namespace xgrad
