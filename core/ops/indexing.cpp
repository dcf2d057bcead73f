// Selection ops, each forward followed by its backward. Along one dim a tensor is seen as (outer, L, inner):
// element (o, l, i) sits at (o L + l) inner + i. Gradients scatter back in one sequential pass, so
// repeated indices add up in a fixed order (bit-identical reruns).
#include "xgrad/core/ops/indexing.hpp"

#include <cmath>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/ops/elementwise.hpp"
#include "xgrad/core/ops/reduce.hpp"
#include "xgrad/core/ops/shape_ops.hpp"

namespace xgrad {
namespace {

struct DimView {
  std::size_t outer = 1, L = 1, inner = 1, axis = 0;
};

// A rank-0 tensor counts as shape (1) for dim 0 or -1, as in torch.
DimView dim_view(const Shape& shape, int dim, const char* op) {
  DimView v;
  if (shape.empty()) {
    normalize_axis(dim, 1, op);
    return v;
  }
  v.axis = normalize_axis(dim, shape.size(), op);
  for (std::size_t i = 0; i < v.axis; ++i) v.outer *= shape[i];
  v.L = shape[v.axis];
  for (std::size_t i = v.axis + 1; i < shape.size(); ++i) v.inner *= shape[i];
  return v;
}

// The integer an index tensor holds at position `at`, checked to be whole and in [0, limit).
std::size_t index_at(const Tensor& index, std::size_t at, std::size_t limit, const char* op) {
  const float v = index.data()[at];
  XGRAD_CHECK(v >= 0.0f && v < static_cast<float>(limit) && v == std::floor(v), op, ": index ", v,
              " at position ", at, " is not a whole number in [0, ", limit, ")");
  return static_cast<std::size_t>(v);
}

// out[o, i] = the first l where x[o, l, i] beats every other (better(a, b): a beats b); a NaN beats all.
template <class Better>
void arg_best(float* out, const float* x, const DimView& v, Better better) {
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t i = 0; i < v.inner; ++i) {
      const float* base = x + o * v.L * v.inner + i;
      std::size_t best = 0;
      for (std::size_t l = 1; l < v.L && !std::isnan(base[best * v.inner]); ++l) {
        const float c = base[l * v.inner];
        if (std::isnan(c) || better(c, base[best * v.inner])) best = l;
      }
      out[o * v.inner + i] = static_cast<float>(best);
    }
  }
}

template <class Better>
Tensor arg_op(const Tensor& x, int dim, bool keepdim, const char* op, Better better) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  const DimView v = dim_view(x.shape(), dim, op);
  XGRAD_CHECK(v.L > 0, op, ": dim ", dim, " of shape ", shape_str(x.shape()), " is empty");
  XGRAD_CHECK(v.L <= (1u << 24), op, ": dim ", dim, " of shape ", shape_str(x.shape()),
              " is too long for float32 indices");
  Shape out_shape = x.shape();
  if (!out_shape.empty()) {
    if (keepdim) {
      out_shape[v.axis] = 1;
    } else {
      out_shape.erase(out_shape.begin() + static_cast<std::ptrdiff_t>(v.axis));
    }
  }
  Tensor out = empty(out_shape);
  arg_best(out.data(), x.data(), v, better);
  return out;
}

Tensor arg_flat(const Tensor& x, const char* op, bool largest) {
  XGRAD_CHECK(x.defined(), op, ": the input is undefined");
  XGRAD_CHECK(x.numel() > 0, op, ": the tensor of shape ", shape_str(x.shape()), " is empty");
  const Tensor flat = reshape(x.detach(), Shape{x.numel()});
  return largest ? argmax(flat, 0) : argmin(flat, 0);
}

bool greater(float a, float b) { return a > b; }
bool less(float a, float b) { return a < b; }

ValuesIndices best_with_indices(const Tensor& x, int dim, bool keepdim, bool largest) {
  Tensor indices = largest ? argmax(x, dim, true) : argmin(x, dim, true);
  Tensor values = x.dim() == 0 ? reshape(gather(reshape(x, Shape{1}), 0, indices), Shape{})
                               : gather(x, dim, indices);
  if (!keepdim && x.dim() > 0) {
    values = squeeze(values, dim);
    indices = squeeze(indices, dim);
  }
  return {values, indices};
}

}  // namespace

Tensor argmax(const Tensor& x) { return arg_flat(x, "argmax", true); }
Tensor argmin(const Tensor& x) { return arg_flat(x, "argmin", false); }
Tensor argmax(const Tensor& x, int dim, bool keepdim) { return arg_op(x, dim, keepdim, "argmax", greater); }
Tensor argmin(const Tensor& x, int dim, bool keepdim) { return arg_op(x, dim, keepdim, "argmin", less); }

ValuesIndices max_with_indices(const Tensor& x, int dim, bool keepdim) {
  return best_with_indices(x, dim, keepdim, true);
}

ValuesIndices min_with_indices(const Tensor& x, int dim, bool keepdim) {
  return best_with_indices(x, dim, keepdim, false);
}

Tensor index_select(const Tensor& x, int dim, const Tensor& index) {
  XGRAD_CHECK(x.defined() && index.defined(), "index_select: an operand is undefined");
  XGRAD_CHECK(index.dim() <= 1, "index_select: index must have rank 0 or 1, got shape ",
              shape_str(index.shape()));
  const DimView v = dim_view(x.shape(), dim, "index_select");
  const std::size_t K = index.numel();
  std::vector<std::size_t> idx(K);
  for (std::size_t k = 0; k < K; ++k) idx[k] = index_at(index, k, v.L, "index_select");
  Shape out_shape = x.shape();
  if (!out_shape.empty()) out_shape[v.axis] = K;
  // out[o, k, :] = x[o, idx[k], :]
  Tensor out = empty(out_shape);
  const float* xv = x.data();
  float* ov = out.data();
  for (std::size_t o = 0; o < v.outer; ++o) {
    for (std::size_t k = 0; k < K; ++k) {
      std::copy_n(xv + (o * v.L + idx[k]) * v.inner, v.inner, ov + (o * K + k) * v.inner);
    }
  }
  if (!needs_grad({x})) return out;
  // dx[o, idx[k], :] += g[o, k, :]
  return record(out, "index_select", {x}, [idx, v, shape = x.shape()](const Tensor& g) {
    Tensor dx = zeros(shape);
    float* d = dx.data();
    const float* gv = g.data();
    const std::size_t K = idx.size();
    for (std::size_t o = 0; o < v.outer; ++o) {
      for (std::size_t k = 0; k < K; ++k) {
        float* row = d + (o * v.L + idx[k]) * v.inner;
        const float* src = gv + (o * K + k) * v.inner;
        for (std::size_t i = 0; i < v.inner; ++i) row[i] += src[i];
      }
    }
    return TensorList{dx};
  });
}

Tensor gather(const Tensor& x, int dim, const Tensor& index) {
  XGRAD_CHECK(x.defined() && index.defined(), "gather: an operand is undefined");
  const Shape& xs = x.shape();
  const Shape& is = index.shape();
  XGRAD_CHECK(xs.size() == is.size(), "gather: index of shape ", shape_str(is), " must have the rank of x, ",
              shape_str(xs));
  const DimView v = dim_view(xs, dim, "gather");
  for (std::size_t d = 0; d < xs.size(); ++d) {
    XGRAD_CHECK(d == v.axis || is[d] <= xs[d], "gather: index of shape ", shape_str(is), " is larger than x of "
                "shape ", shape_str(xs), " on axis ", d);
  }
  // src[p] = the flat position in x of out's element p: p's coordinates with index[p] on the axis.
  const std::size_t n = index.numel(), rank = is.size();
  const Strides strides = contiguous_strides(xs);
  std::vector<std::size_t> src(n), coord(rank, 0);
  for (std::size_t p = 0; p < n; ++p) {
    std::size_t at = 0;
    for (std::size_t d = 0; d < rank; ++d) {
      at += (d == v.axis ? index_at(index, p, v.L, "gather") : coord[d]) * strides[d];
    }
    src[p] = at;
    for (std::size_t d = rank; d-- > 0;) {  // next coordinate, row-major
      if (++coord[d] < is[d]) break;
      coord[d] = 0;
    }
  }
  Tensor out = empty(is);
  const float* xv = x.data();
  float* ov = out.data();
  for (std::size_t p = 0; p < n; ++p) ov[p] = xv[src[p]];
  if (!needs_grad({x})) return out;
  // dx[src[p]] += g[p]
  return record(out, "gather", {x}, [src = std::move(src), shape = xs](const Tensor& g) {
    Tensor dx = zeros(shape);
    float* d = dx.data();
    const float* gv = g.data();
    for (std::size_t p = 0; p < src.size(); ++p) d[src[p]] += gv[p];
    return TensorList{dx};
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  XGRAD_CHECK(cond.defined() && a.defined() && b.defined(), "where: an operand is undefined");
  const Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  // Each operand expanded to the common shape by a multiplication by one (exact); the engine sums the
  // expanded gradients back to each operand's shape.
  auto expand = [&shape](const Tensor& t) { return t.shape() == shape ? t : mul(t, ones(shape)); };
  const Tensor c = expand(cond.detach()), ae = expand(a), be = expand(b);
  Tensor out = empty(shape);
  const float *cv = c.data(), *av = ae.data(), *bv = be.data();
  float* ov = out.data();
  for (std::size_t i = 0, n = out.numel(); i < n; ++i) ov[i] = cv[i] != 0.0f ? av[i] : bv[i];
  if (!needs_grad({ae, be})) return out;
  // da = g where cond, db = g elsewhere.
  return record(out, "where", {ae, be}, [c, need_a = ae.requires_grad(), need_b = be.requires_grad()](const Tensor& g) {
    const std::size_t n = g.numel();
    Tensor da, db;
    if (need_a) da = empty(g.shape());
    if (need_b) db = empty(g.shape());
    const float *cv = c.data(), *gv = g.data();
    for (std::size_t i = 0; i < n; ++i) {
      const bool take_a = cv[i] != 0.0f;
      if (need_a) da.data()[i] = take_a ? gv[i] : 0.0f;
      if (need_b) db.data()[i] = take_a ? 0.0f : gv[i];
    }
    return TensorList{da, db};
  }, {c});
}

Tensor where(const Tensor& cond, const Tensor& a, float b) { return where(cond, a, scalar_tensor(b)); }
Tensor where(const Tensor& cond, float a, const Tensor& b) { return where(cond, scalar_tensor(a), b); }

Tensor masked_fill(const Tensor& x, const Tensor& mask, float value) {
  XGRAD_CHECK(x.defined() && mask.defined(), "masked_fill: an operand is undefined");
  XGRAD_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill") == x.shape(), "masked_fill: mask of shape ",
              shape_str(mask.shape()), " does not broadcast to x's shape ", shape_str(x.shape()));
  return where(mask, scalar_tensor(value), x);
}

Tensor min(const Tensor& x, const std::vector<int>& axes, bool keepdim) {
  XGRAD_CHECK(x.defined(), "min: the input is undefined");
  // min x = -max(-x): negation is exact, and the first maximal of -x is the first minimal of x.
  return neg(max(neg(x), axes, keepdim));
}

}  // namespace xgrad
