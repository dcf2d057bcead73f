// Ops that move or select values without arithmetic, each forward followed by its backward.
// reshape and flatten share storage with their input (tensors are always contiguous, so a new shape is
// all a view needs); permute, concat and slice copy with plain index loops.
#include "xgrad/core/ops/shape_ops.hpp"

#include <algorithm>
#include <string>

#include "xgrad/core/autograd.hpp"
#include "xgrad/core/error.hpp"
#include "xgrad/core/tensor_impl.hpp"

namespace xgrad {
namespace {

// Product of shape[begin, end).
std::size_t span(const Shape& shape, std::size_t begin, std::size_t end) {
  std::size_t n = 1;
  for (std::size_t i = begin; i < end; ++i) n *= shape[i];
  return n;
}

// out[j0, ..., jr] = in[...] with in's axis dims[k] at out's position k; out is in row-major order.
// The input index is advanced by an odometer over the output axes (strides permuted accordingly).
void permute_copy(float* out, const float* in, const Shape& in_shape, const std::vector<std::size_t>& dims) {
  const std::size_t nd = dims.size(), n = numel(in_shape);
  if (n == 0) return;
  if (nd == 0) {
    out[0] = in[0];
    return;
  }
  const Strides in_strides = contiguous_strides(in_shape);
  Shape out_shape(nd);
  std::vector<std::size_t> strides(nd);  // input stride of each output axis
  for (std::size_t k = 0; k < nd; ++k) {
    out_shape[k] = in_shape[dims[k]];
    strides[k] = in_strides[dims[k]];
  }
  const std::size_t inner = out_shape[nd - 1], inner_stride = strides[nd - 1];
  std::vector<std::size_t> index(nd, 0);
  std::size_t base = 0;
  for (std::size_t o = 0; o < n; o += inner) {
    for (std::size_t j = 0; j < inner; ++j) out[o + j] = in[base + j * inner_stride];
    for (std::size_t d = nd - 1; d-- > 0;) {
      ++index[d];
      base += strides[d];
      if (index[d] < out_shape[d]) break;
      base -= strides[d] * out_shape[d];
      index[d] = 0;
    }
  }
}

// Shared by permute and transpose; dims are already validated and normalized.
Tensor permute_impl(const Tensor& x, const std::vector<std::size_t>& dims, const char* op) {
  Shape out_shape(dims.size());
  for (std::size_t k = 0; k < dims.size(); ++k) out_shape[k] = x.shape()[dims[k]];
  Tensor out = empty(out_shape);
  permute_copy(out.data(), x.data(), x.shape(), dims);
  if (!needs_grad({x})) return out;
  // dx = g permuted by the inverse permutation.
  std::vector<std::size_t> inverse(dims.size());
  for (std::size_t k = 0; k < dims.size(); ++k) inverse[dims[k]] = k;
  return record(out, op, {x},
                [inverse, op](const Tensor& g) { return TensorList{permute_impl(g, inverse, op)}; });
}

}  // namespace

namespace {

// The view itself, shape already checked.
Tensor reshape_view(const Tensor& x, const Shape& shape) {
  auto impl = new_tensor_impl();
  impl->shape = shape;
  impl->attach(x.impl()->storage);
  if (!needs_grad({x})) return Tensor(impl);
  // dx = g reshaped back (a view of g).
  return record(Tensor(impl), "reshape", {x},
                [x_shape = x.shape()](const Tensor& g) { return TensorList{reshape(g, x_shape)}; });
}

// "(-1, 4)": the sizes as the caller wrote them, for messages.
std::string sizes_str(std::span<const std::int64_t> sizes) {
  std::string s = "(";
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? ", " : "") + std::to_string(sizes[i]);
  return s + (sizes.size() == 1 ? ",)" : ")");
}

}  // namespace

Tensor reshape_sizes(const Tensor& x, std::span<const std::int64_t> sizes) {
  XGRAD_CHECK(x.defined(), "reshape: the input is undefined");
  // new size at -1 = numel / (product of the others), which must divide exactly.
  Shape shape(sizes.size());
  std::size_t known = 1;
  std::ptrdiff_t infer = -1;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    XGRAD_CHECK(sizes[i] >= -1, "reshape: size ", sizes[i], " in shape ", sizes_str(sizes), " is negative");
    if (sizes[i] == -1) {
      XGRAD_CHECK(infer < 0, "reshape: only one size can be -1, shape ", sizes_str(sizes));
      infer = static_cast<std::ptrdiff_t>(i);
      continue;
    }
    shape[i] = static_cast<std::size_t>(sizes[i]);
    known *= shape[i];
  }
  if (infer >= 0) {
    XGRAD_CHECK(known != 0 && x.numel() % known == 0, "reshape: cannot reshape a tensor of shape ",
                shape_str(x.shape()), " (", x.numel(), " elements) into shape ", sizes_str(sizes));
    shape[infer] = x.numel() / known;
  }
  XGRAD_CHECK(numel(shape) == x.numel(), "reshape: cannot reshape a tensor of shape ", shape_str(x.shape()),
              " (", x.numel(), " elements) into shape ", sizes_str(sizes), " (", numel(shape), " elements)");
  return reshape_view(x, shape);
}

Tensor reshape(const Tensor& x, const Shape& shape) {
  XGRAD_CHECK(x.defined(), "reshape: the input is undefined");
  const bool wrapped = std::find(shape.begin(), shape.end(), static_cast<std::size_t>(-1)) != shape.end();
  if (wrapped) {  // a -1 that went through size_t: take it as the -1 it was
    std::vector<std::int64_t> sizes(shape.begin(), shape.end());  // size_t(-1) converts back to -1
    return reshape_sizes(x, sizes);
  }
  XGRAD_CHECK(numel(shape) == x.numel(), "reshape: cannot reshape a tensor of shape ", shape_str(x.shape()),
              " (", x.numel(), " elements) into shape ", shape_str(shape), " (", numel(shape), " elements)");
  return reshape_view(x, shape);
}

Tensor squeeze(const Tensor& x) {
  XGRAD_CHECK(x.defined(), "squeeze: the input is undefined");
  Shape out;
  for (std::size_t n : x.shape()) {
    if (n != 1) out.push_back(n);
  }
  return reshape(x, out);
}

Tensor squeeze(const Tensor& x, int dim) {
  XGRAD_CHECK(x.defined(), "squeeze: the input is undefined");
  if (x.dim() == 0) {  // torch allows dim 0 or -1 on a scalar, a no-op
    normalize_axis(dim, 1, "squeeze");
    return reshape(x, Shape{});
  }
  const std::size_t a = normalize_axis(dim, x.dim(), "squeeze");
  Shape out = x.shape();
  if (out[a] == 1) out.erase(out.begin() + static_cast<std::ptrdiff_t>(a));
  return reshape(x, out);
}

Tensor unsqueeze(const Tensor& x, int dim) {
  XGRAD_CHECK(x.defined(), "unsqueeze: the input is undefined");
  const std::size_t a = normalize_axis(dim, x.dim() + 1, "unsqueeze");
  Shape out = x.shape();
  out.insert(out.begin() + static_cast<std::ptrdiff_t>(a), 1);
  return reshape(x, out);
}

Tensor stack(const std::vector<Tensor>& xs, int dim) {
  XGRAD_CHECK(!xs.empty(), "stack: no tensors to join");
  XGRAD_CHECK(xs[0].defined(), "stack: an input is undefined");
  const Shape& first = xs[0].shape();
  std::vector<Tensor> expanded;
  for (const Tensor& t : xs) {
    XGRAD_CHECK(t.defined(), "stack: an input is undefined");
    XGRAD_CHECK(t.shape() == first, "stack: shapes ", shape_str(first), " and ", shape_str(t.shape()),
                " differ (stack needs equal shapes)");
    expanded.push_back(unsqueeze(t, dim));
  }
  return concat(expanded, dim);
}

Tensor flatten(const Tensor& x, int start_dim, int end_dim) {
  XGRAD_CHECK(x.defined(), "flatten: the input is undefined");
  const Shape& shape = x.shape();
  if (shape.empty()) {  // torch.flatten makes a rank-0 tensor rank 1, for start_dim and end_dim 0 or -1
    XGRAD_CHECK((start_dim == 0 || start_dim == -1) && (end_dim == 0 || end_dim == -1), "flatten: start_dim ",
                start_dim, " and end_dim ", end_dim, " are out of range for a tensor of rank 0");
    return reshape(x, {1});
  }
  const std::size_t start = normalize_axis(start_dim, shape.size(), "flatten");
  const std::size_t end = normalize_axis(end_dim, shape.size(), "flatten");
  XGRAD_CHECK(start <= end, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim,
              " for a tensor of shape ", shape_str(shape));
  Shape out(shape.begin(), shape.begin() + start);
  out.push_back(span(shape, start, end + 1));
  out.insert(out.end(), shape.begin() + end + 1, shape.end());
  return reshape(x, out);
}

Tensor transpose(const Tensor& x, int dim0, int dim1) {
  XGRAD_CHECK(x.defined(), "transpose: the input is undefined");
  std::vector<std::size_t> dims(x.dim());
  for (std::size_t k = 0; k < dims.size(); ++k) dims[k] = k;
  std::swap(dims[normalize_axis(dim0, x.dim(), "transpose")],
            dims[normalize_axis(dim1, x.dim(), "transpose")]);
  return permute_impl(x, dims, "transpose");
}

Tensor permute(const Tensor& x, const std::vector<int>& dims) {
  XGRAD_CHECK(x.defined(), "permute: the input is undefined");
  XGRAD_CHECK(dims.size() == x.dim(), "permute: ", dims.size(), " dims for a tensor of shape ",
              shape_str(x.shape()));
  std::vector<std::size_t> normalized(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (std::size_t k = 0; k < dims.size(); ++k) {
    normalized[k] = normalize_axis(dims[k], x.dim(), "permute");
    XGRAD_CHECK(!seen[normalized[k]], "permute: dim ", dims[k], " is repeated (shape ", shape_str(x.shape()),
                ")");
    seen[normalized[k]] = true;
  }
  return permute_impl(x, normalized, "permute");
}

Tensor concat(const std::vector<Tensor>& xs, int axis) {
  XGRAD_CHECK(!xs.empty(), "concat: no tensors to join");
  for (const Tensor& t : xs) XGRAD_CHECK(t.defined(), "concat: an input is undefined");
  const Shape& first = xs[0].shape();
  XGRAD_CHECK(!first.empty(), "concat: a rank-0 tensor cannot be joined (reshape it to (1) first)");
  const std::size_t a = normalize_axis(axis, first.size(), "concat");
  Shape out_shape = first;
  out_shape[a] = 0;
  for (const Tensor& t : xs) {
    const Shape& s = t.shape();
    bool agree = s.size() == first.size();
    for (std::size_t i = 0; agree && i < s.size(); ++i) agree = i == a || s[i] == first[i];
    XGRAD_CHECK(agree, "concat: shapes ", shape_str(first), " and ", shape_str(s), " differ outside axis ",
                axis);
    out_shape[a] += s[a];
  }
  // View each tensor as (outer, rows_i): rows_i = s[a] * inner. out row o is the inputs' rows o in turn.
  const std::size_t outer = span(first, 0, a), inner = span(first, a + 1, first.size());
  const std::size_t out_row = out_shape[a] * inner;
  Tensor out = empty(out_shape);
  std::size_t offset = 0;
  std::vector<std::size_t> offsets;  // where each input starts within an output row
  for (const Tensor& t : xs) {
    const std::size_t row = t.shape()[a] * inner;
    for (std::size_t o = 0; o < outer; ++o)
      std::copy_n(t.data() + o * row, row, out.data() + o * out_row + offset);
    offsets.push_back(offset);
    offset += row;
  }
  if (!needs_grad(xs)) return out;
  // dx_i = the slice of g that x_i filled.
  std::vector<Shape> shapes;
  std::vector<bool> wanted;
  for (const Tensor& t : xs) {
    shapes.push_back(t.shape());
    wanted.push_back(t.requires_grad());
  }
  return record(out, "concat", xs, [shapes, wanted, offsets, outer, out_row, a, inner](const Tensor& g) {
    std::vector<Tensor> grads(shapes.size());
    for (std::size_t k = 0; k < shapes.size(); ++k) {
      if (!wanted[k]) continue;
      grads[k] = empty(shapes[k]);
      const std::size_t row = shapes[k][a] * inner;
      for (std::size_t o = 0; o < outer; ++o) {
        std::copy_n(g.data() + o * out_row + offsets[k], row, grads[k].data() + o * row);
      }
    }
    return grads;
  });
}

Tensor slice(const Tensor& x, int axis, std::int64_t start, std::int64_t end, std::int64_t step) {
  XGRAD_CHECK(x.defined(), "slice: the input is undefined");
  XGRAD_CHECK(step > 0, "slice: step ", step, " must be positive (shape ", shape_str(x.shape()), ")");
  const Shape& shape = x.shape();
  const std::size_t a = normalize_axis(axis, shape.size(), "slice");
  // Python's rules: a negative bound counts from the end, then both are clamped into [0, L].
  const std::int64_t length = static_cast<std::int64_t>(shape[a]);
  auto clamp_bound = [length](std::int64_t i) {
    if (i < 0) i += length;
    return std::clamp<std::int64_t>(i, 0, length);
  };
  start = clamp_bound(start);
  end = clamp_bound(end);
  const std::size_t count = end > start ? static_cast<std::size_t>((end - start - 1) / step + 1) : 0;
  Shape out_shape = shape;
  out_shape[a] = count;
  // View x as (outer, L, inner): out[o, k, :] = x[o, start + k * step, :].
  const std::size_t outer = span(shape, 0, a), inner = span(shape, a + 1, shape.size());
  const std::size_t first = static_cast<std::size_t>(start), stride = static_cast<std::size_t>(step);
  const std::size_t len = shape[a];
  Tensor out = empty(out_shape);
  for (std::size_t o = 0; o < outer; ++o) {
    for (std::size_t k = 0; k < count; ++k) {
      std::copy_n(x.data() + (o * len + first + k * stride) * inner, inner,
                  out.data() + (o * count + k) * inner);
    }
  }
  if (!needs_grad({x})) return out;
  // dx = zeros with g scattered back to the selected rows.
  return record(out, "slice", {x}, [shape, outer, len, count, first, stride, inner](const Tensor& g) {
    Tensor dx = zeros(shape);
    for (std::size_t o = 0; o < outer; ++o) {
      for (std::size_t k = 0; k < count; ++k) {
        std::copy_n(g.data() + (o * count + k) * inner, inner,
                    dx.data() + (o * len + first + k * stride) * inner);
      }
    }
    return TensorList{dx};
  });
}

}  // namespace xgrad
