// sync_batch_norm: see sync_batch_norm_op.hpp. Four plain kernels over x viewed as (N, C, HW), forward and
// backward side by side, one OpenMP loop over the channels each (every channel's sum is taken in one fixed
// order: the result does not depend on the thread count). The sums are kept in double: the variance
// E[x^2] - mean^2 then loses only ~1e-16 * mean^2 / var of relative precision to cancellation.
#include "xgrad/distributed/sync_batch_norm_op.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernel_args.hpp"

namespace xgrad::distributed {
namespace {

// sums[c] = sum_{n,hw} x[n,c,hw], sums[C + c] = sum_{n,hw} x[n,c,hw]^2.
void sync_batch_norm_local_sums(double* sums, const float* x, std::size_t N, std::size_t C, std::size_t HW) {
#pragma omp parallel for
  for (std::size_t c = 0; c < C; ++c) {
    double s = 0, ss = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const float* xc = x + (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) {
        s += xc[i];
        ss += double(xc[i]) * xc[i];
      }
    }
    sums[c] = s;
    sums[C + c] = ss;
  }
}

// From the global sums over `count` values: mean = s / count, var = ss / count - mean^2 (>= 0),
// rstd = 1 / sqrt(var + eps); then y = (x - mean) * rstd * gamma + beta. gamma, beta may be null (1, 0).
void sync_batch_norm_forward(float* y, float* mean, float* var, float* rstd, const double* sums, double count,
                             const float* x, const float* gamma, const float* beta, std::size_t N, std::size_t C,
                             std::size_t HW, float eps) {
  for (std::size_t c = 0; c < C; ++c) {
    const double m = sums[c] / count;
    const double v = std::max(0.0, sums[C + c] / count - m * m);
    mean[c] = static_cast<float>(m);
    var[c] = static_cast<float>(v);
    rstd[c] = static_cast<float>(1.0 / std::sqrt(v + double(eps)));
  }
#pragma omp parallel for
  for (std::size_t c = 0; c < C; ++c) {
    const float scale = rstd[c] * (gamma ? gamma[c] : 1.0f);
    const float shift = (beta ? beta[c] : 0.0f) - mean[c] * scale;
    for (std::size_t n = 0; n < N; ++n) {
      const std::size_t at = (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) y[at + i] = x[at + i] * scale + shift;
    }
  }
}

// Backward, part one, on this rank's values: sums[c] = sum dy, sums[C + c] = sum dy * xhat, with
// xhat = (x - mean) * rstd. These are also dbeta and dgamma (this rank's share).
void sync_batch_norm_backward_local_sums(double* sums, const float* dy, const float* x, const float* mean,
                                         const float* rstd, std::size_t N, std::size_t C, std::size_t HW) {
#pragma omp parallel for
  for (std::size_t c = 0; c < C; ++c) {
    double s = 0, sx = 0;
    for (std::size_t n = 0; n < N; ++n) {
      const std::size_t at = (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) {
        s += dy[at + i];
        sx += double(dy[at + i]) * ((x[at + i] - mean[c]) * rstd[c]);
      }
    }
    sums[c] = s;
    sums[C + c] = sx;
  }
}

// Backward, part two. g[c], g[C + c]: sum dy and sum dy * xhat over the global batch, each rank's sums
// weighted by its share m_r / count of the values (the global loss's upstream, see the header); factor =
// 1 / m_r with m_r this rank's values per channel. Then
//   dx = gamma * rstd * (dy - (g_dy + xhat * g_dy_xhat) / m_r)
// which for one rank (m_r = count) is batch normalization's dx = gamma rstd (dy - mean(dy) - xhat mean(dy xhat)).
void sync_batch_norm_backward(float* dx, const double* g, double factor, const float* dy, const float* x,
                              const float* mean, const float* rstd, const float* gamma, std::size_t N,
                              std::size_t C, std::size_t HW) {
#pragma omp parallel for
  for (std::size_t c = 0; c < C; ++c) {
    const float k = rstd[c] * (gamma ? gamma[c] : 1.0f);
    const float a = static_cast<float>(g[c] * factor);
    const float b = static_cast<float>(g[C + c] * factor);
    for (std::size_t n = 0; n < N; ++n) {
      const std::size_t at = (n * C + c) * HW;
      for (std::size_t i = 0; i < HW; ++i) {
        const float xhat = (x[at + i] - mean[c]) * rstd[c];
        dx[at + i] = k * (dy[at + i] - a - xhat * b);
      }
    }
  }
}

}  // namespace

Tensor sync_batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, float eps,
                       const Communicator& comm, SyncBatchNormStats* stats) {
  XGRAD_CHECK(x.defined() && x.dim() >= 2, "sync_batch_norm: expected x of shape (N, C, ...), got ",
              x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  const Shape& s = x.shape();
  const std::size_t N = s[0], C = s[1];
  const std::size_t HW = numel(Shape(s.begin() + 2, s.end()));
  for (const Tensor* p : {&weight, &bias}) {
    XGRAD_CHECK(!p->defined() || p->shape() == Shape{C}, "sync_batch_norm: weight and bias must have shape (", C,
                "), got ", shape_str(p->shape()), " for x of shape ", shape_str(s));
  }

  // [count, sum x (C), sum x^2 (C)] over the global batch: one allreduce.
  std::vector<double> sums(1 + 2 * C);
  sums[0] = double(N * HW);
  sync_batch_norm_local_sums(sums.data() + 1, x.data(), N, C, HW);
  comm.allreduce_sum(sums.data(), sums.size());
  const double count = sums[0];
  XGRAD_CHECK(count > 1, "sync_batch_norm: expected more than 1 value per channel in the global batch, got ",
              count, " (x here: ", shape_str(s), ", ", comm.size(), " ranks)");

  Tensor out = empty(s), mean = empty({C}), var = empty({C}), rstd = empty({C});
  sync_batch_norm_forward(out.data(), mean.data(), var.data(), rstd.data(), sums.data() + 1, count, x.data(),
                          data_or_null(weight), data_or_null(bias), N, C, HW, eps);
  if (stats) *stats = {mean, var, count};

  const double local = double(N * HW);
  return record(out, "sync_batch_norm", {x, weight, bias},
                [x, mean, rstd, weight, bias, comm, count, local, N, C, HW](const Tensor& dy) {
                  // This rank's sums, which are also its dbeta and dgamma.
                  std::vector<double> sums(2 * C);
                  sync_batch_norm_backward_local_sums(sums.data(), dy.data(), x.data(), mean.data(), rstd.data(),
                                                      N, C, HW);
                  Tensor dx = grad_buffer(x), dgamma = grad_buffer(weight), dbeta = grad_buffer(bias);
                  for (std::size_t c = 0; c < C; ++c) {
                    if (dbeta.defined()) dbeta.data()[c] = static_cast<float>(sums[c]);
                    if (dgamma.defined()) dgamma.data()[c] = static_cast<float>(sums[C + c]);
                  }
                  // Weighted by this rank's share of the global batch (m_r / count), summed over ranks: the
                  // global loss's sums / count. Every rank takes part even when x needs no gradient here,
                  // so that the collective calls match.
                  for (double& v : sums) v *= local / count;
                  comm.allreduce_sum(sums.data(), sums.size());
                  if (dx.defined() && local > 0) {
                    sync_batch_norm_backward(dx.data(), sums.data(), 1.0 / local, dy.data(), x.data(), mean.data(),
                                             rstd.data(), data_or_null(weight), N, C, HW);
                  }
                  return TensorList{dx, dgamma, dbeta};
                });
}

}  // namespace xgrad::distributed
