// Dropout layer: inverted dropout (core/ops/dropout.hpp) in train(), the identity in eval(). The layer owns
// its Generator, seeded at construction, so masks are reproducible run to run.
// Not saved in checkpoints: the generator's state is four 64-bit integers, not a float buffer.
#pragma once
#include <cstdint>
#include <string>

#include "xgrad/core/generator.hpp"
#include "xgrad/layers/module.hpp"

namespace xgrad {

class Dropout : public Module {
 public:
  // p in [0, 1). The mask generator is seeded with `seed`.
  explicit Dropout(float p = 0.5f, std::uint64_t seed = 0);
  // Seeds the mask generator from one draw of `gen`, so a model built from one Generator gets distinct,
  // reproducible masks in each of its Dropout layers.
  Dropout(float p, Generator& gen);

  Tensor forward(const Tensor& x) override;
  std::string describe() const override;  // "Dropout(p=0.5)"
  // The copy's mask generator continues from this one's state, as copy.deepcopy copies it.
  std::shared_ptr<Module> clone() const override;

  float p() const { return p_; }
  Generator& generator() { return gen_; }

 private:
  float p_;
  Generator gen_;
};

}  // namespace xgrad
