// matmul and linear on kernels::gemm. Backward passes hand gemm transposed operands (no transposed copies):
// for C = A B, dA = G B^T and dB = A^T G.
#include "xgrad/core/ops/matmul.hpp"


#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/kernels/gemm.hpp"
#include "xgrad/core/kernels/reduce_layout.hpp"

namespace xgrad {
namespace {

using kernels::gemm;

int as_int(std::size_t n) { return static_cast<int>(n); }

// The three supported layouts, as sizes: batch B (1 when unbatched) and whether b is shared by every
// batch entry ((B, M, K) x (K, N)), in which case the product is one gemm of B*M rows.
struct MatmulDims {
  std::size_t B, M, K, N;
  bool shared_b;
};

MatmulDims matmul_dims(const Shape& a, const Shape& b) {
  const bool ranks_ok =
      (a.size() == 2 && b.size() == 2) || (a.size() == 3 && (b.size() == 2 || b.size() == 3));
  XGRAD_CHECK(ranks_ok, "matmul: shapes ", shape_str(a), " and ", shape_str(b),
              " are not supported: expected (M, K) x (K, N), (B, M, K) x (B, K, N) or (B, M, K) x (K, N)");
  const std::size_t K = a.back(), Kb = b[b.size() - 2];
  XGRAD_CHECK(K == Kb, "matmul: shapes ", shape_str(a), " and ", shape_str(b), " cannot be multiplied (", K,
              " columns against ", Kb, " rows)");
  if (a.size() == 3 && b.size() == 3) {
    XGRAD_CHECK(a[0] == b[0], "matmul: shapes ", shape_str(a), " and ", shape_str(b),
                " have different batch sizes (", a[0], " and ", b[0], ")");
  }
  const bool batched = a.size() == 3;
  return {batched ? a[0] : 1, a[a.size() - 2], K, b.back(), b.size() == 2};
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  XGRAD_CHECK(a.defined() && b.defined(), "matmul: an operand is undefined");
  const MatmulDims d = matmul_dims(a.shape(), b.shape());
  const int M = as_int(d.M), K = as_int(d.K), N = as_int(d.N);
  Shape out_shape = a.dim() == 3 ? Shape{d.B, d.M, d.N} : Shape{d.M, d.N};
  Tensor out = empty(out_shape);
  // out[i] (M, N) = a[i] (M, K) b[i] (K, N); a shared b makes it one (B*M, K) x (K, N) product.
  if (d.shared_b) {
    gemm(false, false, as_int(d.B) * M, N, K, 1.0f, a.data(), K, b.data(), N, 0.0f, out.data(), N);
  } else {
    for (std::size_t i = 0; i < d.B; ++i) {
      gemm(false, false, M, N, K, 1.0f, a.data() + i * d.M * d.K, K, b.data() + i * d.K * d.N, N, 0.0f,
           out.data() + i * d.M * d.N, N);
    }
  }
  return record(out, "matmul", {a, b}, [a, b, d](const Tensor& g) {
    const int M = as_int(d.M), K = as_int(d.K), N = as_int(d.N);
    Tensor da, db;
    if (a.requires_grad()) {
      // da (M, K) = g (M, N) b^T; b^T read from b (K, N) by gemm.
      da = empty(a.shape());
      if (d.shared_b) {
        gemm(false, true, as_int(d.B) * M, K, N, 1.0f, g.data(), N, b.data(), N, 0.0f, da.data(), K);
      } else {
        for (std::size_t i = 0; i < d.B; ++i) {
          gemm(false, true, M, K, N, 1.0f, g.data() + i * d.M * d.N, N, b.data() + i * d.K * d.N, N, 0.0f,
               da.data() + i * d.M * d.K, K);
        }
      }
    }
    if (b.requires_grad()) {
      // db (K, N) = a^T g; a shared b sums over the batch, which is the same as one (K, B*M) x (B*M, N).
      db = empty(b.shape());
      if (d.shared_b) {
        gemm(true, false, K, N, as_int(d.B) * M, 1.0f, a.data(), K, g.data(), N, 0.0f, db.data(), N);
      } else {
        for (std::size_t i = 0; i < d.B; ++i) {
          gemm(true, false, K, N, M, 1.0f, a.data() + i * d.M * d.K, K, g.data() + i * d.M * d.N, N, 0.0f,
               db.data() + i * d.K * d.N, N);
        }
      }
    }
    return TensorList{da, db};
  }, {b.requires_grad() ? a : Tensor(), a.requires_grad() ? b : Tensor()});  // da reads b, db reads a
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  XGRAD_CHECK(x.defined() && weight.defined(), "linear: the input or the weight is undefined");
  const Shape &xs = x.shape(), &ws = weight.shape();
  XGRAD_CHECK(xs.size() == 2 && ws.size() == 2 && xs[1] == ws[1], "linear: input ", shape_str(xs),
              " and weight ", shape_str(ws), " do not match: expected input (N, in) and weight (out, in)");
  const std::size_t N = xs[0], in = xs[1], out_features = ws[0];
  if (bias.defined()) {
    XGRAD_CHECK(bias.shape() == Shape{out_features}, "linear: bias ", shape_str(bias.shape()),
                " does not match weight ", shape_str(ws), ": expected (", out_features, ")");
  }
  Tensor out = empty({N, out_features});
  // out (N, out) = x (N, in) W^T, then + b row by row (a product with beta = 0 can take gemm's AVX-512 path).
  float* o = out.data();
  const int In = as_int(in), Out = as_int(out_features);
  gemm(false, true, as_int(N), Out, In, 1.0f, x.data(), In, weight.data(), In, 0.0f, o, Out);
  if (bias.defined()) {
    const float* b = bias.data();
    for (std::size_t n = 0; n < N; ++n) {
      for (std::size_t j = 0; j < out_features; ++j) o[n * out_features + j] += b[j];
    }
  }
  return record(out, "linear", {x, weight, bias}, [x, weight, bias, N, In, Out](const Tensor& g) {
    Tensor dx, dw, db;
    if (x.requires_grad()) {
      // dx (N, in) = g (N, out) W (out, in)
      dx = empty(x.shape());
      gemm(false, false, as_int(N), In, Out, 1.0f, g.data(), Out, weight.data(), In, 0.0f, dx.data(), In);
    }
    if (weight.requires_grad()) {
      // dW (out, in) = g^T (out, N) x (N, in)
      dw = empty(weight.shape());
      gemm(true, false, Out, In, as_int(N), 1.0f, g.data(), Out, x.data(), In, 0.0f, dw.data(), In);
    }
    if (bias.defined() && bias.requires_grad()) {
      // db (out) = sum over N of g, in double.
      db = empty(bias.shape());
      kernels::reduce_sum(db.data(), g.data(), kernels::make_reduce_layout(g.shape(), {0}));
    }
    return TensorList{dx, dw, db};
  }, {weight.requires_grad() ? x : Tensor(), x.requires_grad() ? weight : Tensor()});  // dW reads x, dx reads W
}

}  // namespace xgrad
