// Inverted dropout: see dropout.hpp. The mask holds 0 or 1/(1-p) per element, so the backward is one
// multiply by the same mask.
#include "xgrad/core/ops/dropout.hpp"

#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"

namespace xgrad {

Tensor dropout(const Tensor& x, float p, bool training, Generator& gen) {
  XGRAD_CHECK(x.defined(), "dropout: the input is undefined");
  XGRAD_CHECK(p >= 0.0f && p < 1.0f, "dropout: p must be in [0, 1), got ", p);
  if (!training || p == 0.0f) return x;
  // Element i is dropped when the i-th draw u_i < p (probability p); kept ones are scaled by 1/(1-p) so
  // that E[y] = x. Draws are taken in element order: the same generator state gives the same mask.
  const float scale = 1.0f / (1.0f - p);
  const std::size_t n = x.numel();
  Tensor mask = empty(x.shape());
  Tensor out = empty(x.shape());
  const float* in = x.data();
  float *m = mask.data(), *o = out.data();
  for (std::size_t i = 0; i < n; ++i) {
    m[i] = gen.uniform() < p ? 0.0f : scale;
    o[i] = in[i] * m[i];
  }
  // dx = g * mask
  return record(out, "dropout", {x}, [mask](const Tensor& g) {
    Tensor dx = empty(mask.shape());
    const float *gv = g.data(), *m = mask.data();
    float* d = dx.data();
    for (std::size_t i = 0, n = mask.numel(); i < n; ++i) d[i] = gv[i] * m[i];
    return TensorList{dx};
  });
}

}  // namespace xgrad
