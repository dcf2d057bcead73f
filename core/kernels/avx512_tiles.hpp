// The AVX-512 register tiles shared by the fast convolution and the fast dense products. Include only
// from a file compiled for AVX-512 (after its `#pragma GCC target`): everything here has internal linkage,
// so no AVX-512 code can leak into the portable paths.
//
// rows_tile: out[m, slot] = bias[m] + sum over k of panel[k, m] src[tap[k] + slot.src], for 8 rows m and
// one or two slots of 16 positions: per k, 2 vector loads and 8 broadcasts feed 16 fused multiply-adds.
// dots_tile: partial[m, k] = sum over images and segments of g[m, seg] x[tap[k] + seg]: dot products
// held in MB x KB vector accumulators and reduced once at the end.
#pragma once
#include <immintrin.h>

#include <cstddef>

namespace xgrad::kernels::fast {
namespace {

using std::size_t;

constexpr int kVec = 16;  // floats in an AVX-512 register

__mmask16 tail_mask(int n) { return n >= kVec ? __mmask16(0xFFFF) : n <= 0 ? __mmask16(0) : __mmask16((1u << n) - 1u); }

size_t round_up(size_t n, size_t to) { return (n + to - 1) / to * to; }

constexpr int MR = 8;  // rows (output channels, or rows of C) per rows_tile

// A chunk of 16 positions, read from the source at `src` on the lanes of `load`. The lanes of `store` are
// outputs, written one after the other from `dst` on. A chunk along one output row stores what it loads;
// a chunk that runs across rows (a narrow output, rows of width W read from source rows of width Ws > W)
// loads the columns in between too and drops them when it stores.
struct Slot {
  int src, dst;
  __mmask16 load, store;
};
static_assert(sizeof(Slot) == 3 * sizeof(float), "workspaces count a slot as 3 floats");

// Writes the slot's output lanes of `v` one after the other at `out` (compressed in a register: a
// compressing store to memory is microcoded on AMD's Zen 4).
inline void store_slot(float* out, const Slot& slot, __m512 v) {
  if (slot.store == slot.load) {
    _mm512_mask_storeu_ps(out, slot.store, v);
  } else {
    _mm512_mask_storeu_ps(out, tail_mask(__builtin_popcount(slot.store)), _mm512_maskz_compress_ps(slot.store, v));
  }
}

// out[m, slot] = bias[m] + sum over k of panel[k, m] src[tap[k] + slot.src], for MR channels (rows past
// `rows` are computed and dropped) and NV slots.
template <int NV>
inline void rows_tile(float* out, size_t ld_out, int rows, const float* panel, const float* src, const int* tap,
                      int K, const Slot* slot, const float* bias) {
  __m512 acc[MR][NV];
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    const __m512 b = bias && m < rows ? _mm512_set1_ps(bias[m]) : _mm512_setzero_ps();
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) acc[m][v] = b;
  }
  const float* s0 = src + slot[0].src;
  const float* s1 = src + slot[NV - 1].src;
  for (int k = 0; k < K; ++k) {
    const int t = tap[k];
    // Masked loads: a partial last slot must not read past the end of src (lanes outside the mask are
    // never stored, and a masked-off lane cannot fault).
    const __m512 x0 = _mm512_maskz_loadu_ps(slot[0].load, s0 + t);
    const __m512 x1 = NV > 1 ? _mm512_maskz_loadu_ps(slot[NV - 1].load, s1 + t) : x0;
#pragma GCC unroll 8
    for (int m = 0; m < MR; ++m) {
      const __m512 w = _mm512_set1_ps(panel[m]);
      acc[m][0] = _mm512_fmadd_ps(w, x0, acc[m][0]);
      if constexpr (NV > 1) acc[m][1] = _mm512_fmadd_ps(w, x1, acc[m][1]);
    }
    panel += MR;
  }
#pragma GCC unroll 8
  for (int m = 0; m < MR; ++m) {
    if (m >= rows) break;
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) store_slot(out + m * ld_out + slot[v].dst, slot[v], acc[m][v]);
  }
}

// Every slot of one image: out (M, plane) from panels (ceil(M / MR) panels of K x MR) over src.
void rows_image(float* out, size_t ld_out, int M, const float* panels, const float* src, const int* tap, int K,
                const Slot* slots, int nslots, const float* bias) {
  for (int s = 0; s < nslots; s += 2) {
    for (int m0 = 0; m0 < M; m0 += MR) {
      const float* panel = panels + size_t(m0) * K;
      const float* b = bias ? bias + m0 : nullptr;
      const int rows = M - m0 < MR ? M - m0 : MR;
      if (s + 1 < nslots) {
        rows_tile<2>(out + m0 * ld_out, ld_out, rows, panel, src, tap, K, slots + s, b);
      } else {
        rows_tile<1>(out + m0 * ld_out, ld_out, rows, panel, src, tap, K, slots + s, b);
      }
    }
  }
}

// A row segment of the output: up to 16 positions of one output row, at `out` in an output-gradient
// plane and at `in` in a padded input plane.
struct Segment {
  int out, in;
  __mmask16 mask;
};
static_assert(sizeof(Segment) == 3 * sizeof(float), "workspaces count a segment as 3 floats");

// The MB x KB dot products of output channels o0.. with taps k0.. over images [n0, n1):
// partial[o, k] = sum over n and every segment of dout[n, o, seg] xpad[n, tap[k] + seg]. The
// accumulators stay in registers across the images and are reduced once.
template <int MB, int KB>
void dots_tile(float* partial, int ld, const float* dout, size_t out_plane, size_t out_image, const float* xpad,
               size_t in_image, const int* tap, int o0, int k0, int n0, int n1, const Segment* seg, int nseg) {
  __m512 acc[MB][KB];
#pragma GCC unroll 4
  for (int m = 0; m < MB; ++m) {
#pragma GCC unroll 4
    for (int k = 0; k < KB; ++k) acc[m][k] = _mm512_setzero_ps();
  }
  for (int n = n0; n < n1; ++n) {
    const float* g = dout + n * out_image + o0 * out_plane;
    const float* x = xpad + n * in_image;
    const float* x0 = x + tap[k0];
    const float* x1 = x + tap[k0 + (KB > 1 ? 1 : 0)];
    const float* x2 = x + tap[k0 + (KB > 2 ? 2 : 0)];
    const float* x3 = x + tap[k0 + (KB > 3 ? 3 : 0)];
    for (int s = 0; s < nseg; ++s) {
      const __mmask16 mask = seg[s].mask;
      const float* gs = g + seg[s].out;
      const int xi = seg[s].in;
      __m512 xv[KB];
      xv[0] = _mm512_maskz_loadu_ps(mask, x0 + xi);
      if constexpr (KB > 1) xv[1] = _mm512_maskz_loadu_ps(mask, x1 + xi);
      if constexpr (KB > 2) xv[2] = _mm512_maskz_loadu_ps(mask, x2 + xi);
      if constexpr (KB > 3) xv[3] = _mm512_maskz_loadu_ps(mask, x3 + xi);
#pragma GCC unroll 4
      for (int m = 0; m < MB; ++m) {
        const __m512 gv = _mm512_maskz_loadu_ps(mask, gs + m * out_plane);
#pragma GCC unroll 4
        for (int k = 0; k < KB; ++k) acc[m][k] = _mm512_fmadd_ps(gv, xv[k], acc[m][k]);
      }
    }
  }
#pragma GCC unroll 4
  for (int m = 0; m < MB; ++m) {
#pragma GCC unroll 4
    for (int k = 0; k < KB; ++k) partial[(o0 + m) * ld + k0 + k] = _mm512_reduce_add_ps(acc[m][k]);
  }
}

// The 16 OV x KB outer products of output channels o0.. with taps k0.. over images [n0, n1):
// partial[k, o] = sum over n, then over the output positions (oh, ow) in order, of
// gt[n, (oh, ow), o] xpad[n, tap[k] + oh Wp + ow]; gt is the output gradient with channels last (O of
// them). Each sum runs in one lane, in that order; nothing is reduced across lanes.
template <int OV, int KB>
void outer_tile(float* partial, const float* gt, size_t gt_image, int O, const float* xpad, size_t in_image,
                const int* tap, int o0, int k0, int n0, int n1, int OH, int OW, int Wp) {
  __m512 acc[OV][KB];
#pragma GCC unroll 2
  for (int v = 0; v < OV; ++v) {
#pragma GCC unroll 12
    for (int k = 0; k < KB; ++k) acc[v][k] = _mm512_setzero_ps();
  }
  int t[KB];
  for (int k = 0; k < KB; ++k) t[k] = tap[k0 + k];
  for (int n = n0; n < n1; ++n) {
    const float* g = gt + n * gt_image + o0;
    const float* x = xpad + n * in_image;
    for (int oh = 0; oh < OH; ++oh) {
      for (int ow = 0; ow < OW; ++ow, g += O) {
        const float* xp = x + oh * Wp + ow;
        __m512 gv[OV];
#pragma GCC unroll 2
        for (int v = 0; v < OV; ++v) gv[v] = _mm512_loadu_ps(g + v * kVec);
#pragma GCC unroll 12
        for (int k = 0; k < KB; ++k) {
          const __m512 xb = _mm512_set1_ps(xp[t[k]]);
#pragma GCC unroll 2
          for (int v = 0; v < OV; ++v) acc[v][k] = _mm512_fmadd_ps(gv[v], xb, acc[v][k]);
        }
      }
    }
  }
#pragma GCC unroll 12
  for (int k = 0; k < KB; ++k) {
#pragma GCC unroll 2
    for (int v = 0; v < OV; ++v) _mm512_storeu_ps(partial + size_t(k0 + k) * O + o0 + v * kVec, acc[v][k]);
  }
}

}  // namespace
}  // namespace xgrad::kernels::fast
