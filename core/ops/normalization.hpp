// The functional normalization forms of the documents behind xgrad, with TensorFlow's semantics
// (tf.nn.moments, tf.nn.batch_normalization, tf.nn.batch_norm_with_global_normalization), composed
// from primitive ops so autograd differentiates them.
#pragma once
#include <vector>

#include "xgrad/core/tensor.hpp"

namespace xgrad {

struct Moments {
  Tensor mean;
  Tensor variance;  // population variance (divides by n)
};

// Mean and population variance over `axes` (any axes: NCHW or NHWC alike).
Moments moments(const Tensor& x, const std::vector<int>& axes, bool keep_dims = false);

// scale * (x - mean) / sqrt(variance + epsilon) + offset; offset and scale may be undefined (omitted).
// mean, variance, offset and scale broadcast against x.
Tensor batch_normalization(const Tensor& x, const Tensor& mean, const Tensor& variance, const Tensor& offset,
                           const Tensor& scale, float epsilon);

// The older TensorFlow form: t (N, ..., C) normalized over its last axis's per-channel statistics
// m, v, beta, gamma (each (C)); gamma is applied only if scale_after_normalization.
Tensor batch_norm_with_global_normalization(const Tensor& t, const Tensor& m, const Tensor& v,
                                            const Tensor& beta, const Tensor& gamma, float epsilon,
                                            bool scale_after_normalization);

}  // namespace xgrad
