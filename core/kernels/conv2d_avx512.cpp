// The fast convolution passes with AVX-512 (geometry in conv2d_fast.hpp). Compiled for AVX-512 between
// avx512_begin.hpp and avx512_end.hpp and called only where dispatch.hpp's conv2d_path says so; nothing here
// is inline in a header, so no AVX-512 code can leak into the portable paths.
//
// Forward and input gradient are rows_tile (avx512_tiles.hpp) over the shifted input rows: 8 output
// channels x 2 chunks of 16 output positions; the weights are packed once per call into panels (K taps x
// 8 channels) so the broadcasts walk one pointer. The weight gradient is dots_tile: 4 channels x 4 taps of
// dot products over the output positions, across a chunk of images, reduced once at the end.
#include <immintrin.h>
#include <omp.h>

#include <cstdint>
#include <cstring>
#include <type_traits>

#include "xgrad/core/kernels/conv2d_fast.hpp"

#include "xgrad/core/kernels/avx512_begin.hpp"  // from here on, AVX-512

#include "xgrad/core/kernels/avx512_tiles.hpp"  // inside the region: its tiles are compiled for AVX-512

namespace xgrad::kernels::fast {
namespace {

using std::size_t;

// The slots of an output of `rows` x `width` positions read from source rows of `src_width`, written to
// `slots`; returns how many. Either each output row is cut into chunks of 16 (a row of 8 leaves half the
// lanes idle, a row of 4 three quarters), or the chunks run along the source rows and across them,
// loading the src_width - width columns in between and dropping them on the store (8 of 10 lanes busy
// on an 8 x 8 output padded to 10 wide). Whichever takes fewer chunks; each output is the same sum in
// the same order either way, so the choice changes no bit.
int slot_total(int rows, int width) { return rows * ((width + kLanes - 1) / kLanes); }

int make_slots(Slot* slots, int rows, int width, int src_width) {
  const int span = (rows - 1) * src_width + width;  // source positions from the first output to the last
  int n = 0;
  if ((span + kLanes - 1) / kLanes >= slot_total(rows, width)) {
    for (int r = 0; r < rows; ++r) {
      for (int q = 0; q < width; q += kLanes) {
        const __mmask16 mask = tail_mask(width - q);
        slots[n++] = {r * src_width + q, r * width + q, mask, mask};
      }
    }
    return n;
  }
  for (int p = 0; p < span; p += kLanes) {
    unsigned store = 0;
    int last = -1, dst = -1;
    for (int j = 0; j < kLanes && p + j < span; ++j) {
      const int r = (p + j) / src_width, c = (p + j) % src_width;
      if (c >= width) continue;
      store |= 1u << j;
      last = j;
      if (dst < 0) dst = r * width + c;
    }
    if (store) slots[n++] = {p, dst, tail_mask(last + 1), __mmask16(store)};
  }
  return n;
}

// Copies a (planes, rows, cols) block into a zero-padded (planes, rows + 2 top, cols + 2 left) one
// (top/left padding on both sides), then zeroes the slack after it. Each padded row is written whole, 16
// columns at a time: a masked load takes the source columns that fall in the chunk, the rest are zeros.
void pad_planes(float* dst, const float* src, int planes, int rows, int cols, int top, int left) {
  const int Hp = rows + 2 * top, Wp = cols + 2 * left;
  for (int p = 0; p < planes; ++p) {
    float* plane = dst + size_t(p) * Hp * Wp;
    const float* in = src + size_t(p) * rows * cols;
    for (int r = 0; r < Hp; ++r) {
      const bool inside = r >= top && r < top + rows;
      const float* in_row = in + size_t(inside ? r - top : 0) * cols;
      for (int j = 0; j < Wp; j += kLanes) {
        // Lane l is source column j + l - left: in the row when left - j <= l < left + cols - j.
        const __mmask16 take = inside ? __mmask16(tail_mask(left + cols - j) & ~tail_mask(left - j)) : 0;
        const __m512 v = _mm512_maskz_loadu_ps(take, in_row + (j - left));
        _mm512_mask_storeu_ps(plane + size_t(r) * Wp + j, tail_mask(Wp - j), v);
      }
    }
  }
  std::memset(dst + size_t(planes) * Hp * Wp, 0, sizeof(float) * kSlack);
}

}  // namespace

void forward(float* out, float* xpad, const float* in, const float* weight, const float* bias, float* workspace,
             const Conv2dDims& d) {
  const Geometry g = geometry(d);
  const int K = d.C * d.KH * d.KW, T = d.KH * d.KW;
  const int panels = (d.O + MR - 1) / MR;
  // workspace: panels (panels x K x MR), tap offsets (K), slots, and without xpad one padded image per
  // thread.
  float* packed = workspace;
  int* tap = reinterpret_cast<int*>(packed + size_t(panels) * K * MR);
  Slot* slots = reinterpret_cast<Slot*>(tap + round_up(K, 16));
  float* pads = reinterpret_cast<float*>(slots + round_up(size_t(slot_total(d.OH, d.OW)), 16));
  // panel p: packed[p][k][m] = weight[p MR + m, k], zero past O.
  for (int p = 0; p < panels; ++p) {
    for (int k = 0; k < K; ++k) {
      for (int m = 0; m < MR; ++m) {
        const int o = p * MR + m;
        packed[(size_t(p) * K + k) * MR + m] = o < d.O ? weight[size_t(o) * K + k] : 0.0f;
      }
    }
  }
  for (int c = 0; c < d.C; ++c) {
    for (int t = 0; t < T; ++t) tap[c * T + t] = c * g.Hp * g.Wp + (t / d.KW) * g.Wp + t % d.KW;
  }
  const int nslots = make_slots(slots, d.OH, d.OW, g.Wp);
  const size_t in_image = size_t(d.C) * d.H * d.W, out_image = size_t(d.O) * d.OH * d.OW;
#pragma omp parallel
  {
    float* own = pads + size_t(omp_get_thread_num()) * round_up(g.in_image, 16);
#pragma omp for schedule(static)
    for (int n = 0; n < d.N; ++n) {
      float* xp = xpad ? xpad + n * g.in_image : own;
      pad_planes(xp, in + n * in_image, d.C, d.H, d.W, d.PH, d.PW);
      rows_image(out + n * out_image, size_t(d.OH) * d.OW, d.O, packed, xp, tap, K, slots, nslots, bias);
    }
  }
}

void backward_input(float* din, const float* dout, const float* weight, float* workspace, const Conv2dDims& d) {
  const Geometry g = geometry(d);
  const int T = d.KH * d.KW, K = d.O * T;  // the taps of the flipped kernel run over (o, kh, kw)
  const int panels = (d.C + MR - 1) / MR;
  float* packed = workspace;
  int* tap = reinterpret_cast<int*>(packed + size_t(panels) * K * MR);
  Slot* slots = reinterpret_cast<Slot*>(tap + round_up(K, 16));
  const int nslots = make_slots(slots, d.H, d.W, g.Wq);
  float* pads = reinterpret_cast<float*>(slots + round_up(size_t(nslots), 16));
  // panel p: packed[p][(o, t)][m] = weight[o, p MR + m, t]; the flipped tap reads dpad at
  // (h + KH - 1 - kh, w + KW - 1 - kw).
  for (int p = 0; p < panels; ++p) {
    for (int o = 0; o < d.O; ++o) {
      for (int t = 0; t < T; ++t) {
        for (int m = 0; m < MR; ++m) {
          const int c = p * MR + m;
          packed[(size_t(p) * K + o * T + t) * MR + m] = c < d.C ? weight[(size_t(o) * d.C + c) * T + t] : 0.0f;
        }
      }
    }
  }
  for (int o = 0; o < d.O; ++o) {
    for (int t = 0; t < T; ++t) {
      tap[o * T + t] = o * g.Hq * g.Wq + (d.KH - 1 - t / d.KW) * g.Wq + (d.KW - 1 - t % d.KW);
    }
  }
  const size_t in_image = size_t(d.C) * d.H * d.W, out_image = size_t(d.O) * d.OH * d.OW;
#pragma omp parallel
  {
    float* dpad = pads + size_t(omp_get_thread_num()) * round_up(g.dout_image, 16);
#pragma omp for schedule(static)
    for (int n = 0; n < d.N; ++n) {
      pad_planes(dpad, dout + n * out_image, d.O, d.OH, d.OW, d.KH - 1 - d.PH, d.KW - 1 - d.PW);
      rows_image(din + n * in_image, size_t(d.H) * d.W, d.C, packed, dpad, tap, K, slots, nslots, nullptr);
    }
  }
}

namespace {

// The low (high) 64-bit pairs of a and b's 128-bit lanes, interleaved.
__m512 pairs(__m512 a, __m512 b, bool high) {
  const __m512d x = _mm512_castps_pd(a), y = _mm512_castps_pd(b);
  return _mm512_castpd_ps(high ? _mm512_unpackhi_pd(x, y) : _mm512_unpacklo_pd(x, y));
}

// dst[j, i] = src[i, j] for 16 rows i and the first `cols` (at most 16) columns j, with a register
// transpose: rows of 4 x 4 pairs, then 128-bit lanes across the row groups.
void transpose_block(float* dst, size_t ld_dst, const float* src, size_t ld_src, int cols) {
  const __mmask16 load = tail_mask(cols);
  __m512 r[16], t[16];
  for (int i = 0; i < 16; ++i) r[i] = _mm512_maskz_loadu_ps(load, src + i * ld_src);
  // t[4 g + c], row group g (rows 4g..4g+3): lane L holds column 4 L + c of the group's four rows.
  for (int g = 0; g < 4; ++g) {
    const __m512 lo01 = _mm512_unpacklo_ps(r[4 * g], r[4 * g + 1]), hi01 = _mm512_unpackhi_ps(r[4 * g], r[4 * g + 1]);
    const __m512 lo23 = _mm512_unpacklo_ps(r[4 * g + 2], r[4 * g + 3]);
    const __m512 hi23 = _mm512_unpackhi_ps(r[4 * g + 2], r[4 * g + 3]);
    t[4 * g] = pairs(lo01, lo23, false);
    t[4 * g + 1] = pairs(lo01, lo23, true);
    t[4 * g + 2] = pairs(hi01, hi23, false);
    t[4 * g + 3] = pairs(hi01, hi23, true);
  }
  // Column 4 L + c: lane L of t[c], t[4 + c], t[8 + c], t[12 + c].
  for (int c = 0; c < 4; ++c) {
    const __m512 even01 = _mm512_shuffle_f32x4(t[c], t[4 + c], 0x88);
    const __m512 odd01 = _mm512_shuffle_f32x4(t[c], t[4 + c], 0xDD);
    const __m512 even23 = _mm512_shuffle_f32x4(t[8 + c], t[12 + c], 0x88);
    const __m512 odd23 = _mm512_shuffle_f32x4(t[8 + c], t[12 + c], 0xDD);
    r[c] = _mm512_shuffle_f32x4(even01, even23, 0x88);       // L = 0
    r[4 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0x88);     // L = 1
    r[8 + c] = _mm512_shuffle_f32x4(even01, even23, 0xDD);   // L = 2
    r[12 + c] = _mm512_shuffle_f32x4(odd01, odd23, 0xDD);    // L = 3
  }
  for (int j = 0; j < cols && j < 16; ++j) _mm512_storeu_ps(dst + j * ld_dst, r[j]);
}

// out[0, n) (n <= 8) = the sums over the chunks of p[c stride + j], each in double in chunk order and
// rounded once: what a scalar sum += p[c stride] in a loop over c gives, 8 at a time.
void chunk_sum8(float* out, const float* p, size_t stride, int chunks, size_t n) {
  const __mmask8 k = n >= 8 ? __mmask8(0xFF) : __mmask8((1u << n) - 1u);
  __m512d sum = _mm512_setzero_pd();
  for (int c = 0; c < chunks; ++c) sum = _mm512_add_pd(sum, _mm512_cvtps_pd(_mm256_maskz_loadu_ps(k, p + c * stride)));
  _mm256_mask_storeu_ps(out, k, _mm512_cvtpd_ps(sum));
}

// Taps [k0, k0 + kn) (kn <= 16) of dweight (O, K) from the chunks' partial sums, laid out (K, O): 8 channels
// at a time through a small tile, so that the chunks' rows being read stay in cache (chunks x 16 x O
// floats) and each write to dweight fills a line. O is a multiple of 8.
void reduce_taps(float* dweight, const float* partial, int k0, int kn, int O, int K, size_t w_size, int chunks) {
  for (int o0 = 0; o0 < O; o0 += 8) {
    float tile[16][8];
    for (int k = 0; k < kn; ++k) chunk_sum8(tile[k], partial + size_t(k0 + k) * O + o0, w_size, chunks, 8);
    for (int o = 0; o < 8; ++o) {
      for (int k = 0; k < kn; ++k) dweight[size_t(o0 + o) * K + k0 + k] = tile[k][o];
    }
  }
}

// backward_weight by outer products (weight_by_outer_products): the chunks' partial sums as (K, O) in
// `partial`, from `gt`, the output gradient copied with its channels last.
void weight_outer(float* partial, float* gt, const float* dout, const float* xpad, const int* tap, int chunks,
                  const Conv2dDims& d) {
  const Geometry g = geometry(d);
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const size_t image = size_t(P) * d.O, w_size = size_t(d.O) * K;
  // gt[n, p, o] = dout[n, o, p], in blocks of 16 channels x 16 positions (O is a multiple of 16).
#pragma omp parallel for schedule(static)
  for (int n = 0; n < d.N; ++n) {
    for (int p0 = 0; p0 < P; p0 += kLanes) {
      for (int o0 = 0; o0 < d.O; o0 += kLanes) {
        transpose_block(gt + n * image + size_t(p0) * d.O + o0, d.O, dout + n * image + size_t(o0) * P + p0, P,
                        P - p0);
      }
    }
  }
  constexpr int KB = 12;
  const int k12 = K / KB * KB;
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c) {
    const int n0 = int(std::int64_t(d.N) * c / chunks), n1 = int(std::int64_t(d.N) * (c + 1) / chunks);
    float* acc = partial + c * w_size;
    auto tile_column = [&](auto ov, int o) {
      constexpr int OV = decltype(ov)::value;
      for (int k = 0; k < k12; k += KB) {
        outer_tile<OV, KB>(acc, gt, image, d.O, xpad, g.in_image, tap, o, k, n0, n1, d.OH, d.OW, g.Wp);
      }
      int k = k12;
      for (; k + 8 <= K; k += 8) {
        outer_tile<OV, 8>(acc, gt, image, d.O, xpad, g.in_image, tap, o, k, n0, n1, d.OH, d.OW, g.Wp);
      }
      for (; k + 4 <= K; k += 4) {
        outer_tile<OV, 4>(acc, gt, image, d.O, xpad, g.in_image, tap, o, k, n0, n1, d.OH, d.OW, g.Wp);
      }
      for (; k < K; ++k) {
        outer_tile<OV, 1>(acc, gt, image, d.O, xpad, g.in_image, tap, o, k, n0, n1, d.OH, d.OW, g.Wp);
      }
    };
    const int o32 = d.O / 32 * 32;
    for (int o = 0; o < o32; o += 32) tile_column(std::integral_constant<int, 2>(), o);
    for (int o = o32; o < d.O; o += 16) tile_column(std::integral_constant<int, 1>(), o);
  }
}

}  // namespace

void backward_weight(float* dweight, const float* dout, const float* xpad, float* workspace, const Conv2dDims& d) {
  const Geometry g = geometry(d);
  const int K = d.C * d.KH * d.KW, T = d.KH * d.KW;
  const int chunks = weight_chunks(d);
  const size_t w_size = size_t(d.O) * K, out_plane = size_t(d.OH) * d.OW, out_image = d.O * out_plane;
  // workspace: tap offsets (K), segments, then the chunks' partial sums.
  int* tap = reinterpret_cast<int*>(workspace);
  Segment* seg = reinterpret_cast<Segment*>(tap + round_up(K, 16));
  int nseg = 0;
  for (int oh = 0; oh < d.OH; ++oh) {
    for (int q = 0; q < d.OW; q += kLanes) seg[nseg++] = {oh * d.OW + q, oh * g.Wp + q, tail_mask(d.OW - q)};
  }
  float* partial = reinterpret_cast<float*>(seg + round_up(size_t(nseg), 16));
  for (int c = 0; c < d.C; ++c) {
    for (int t = 0; t < T; ++t) tap[c * T + t] = c * g.Hp * g.Wp + (t / d.KW) * g.Wp + t % d.KW;
  }
  if (weight_by_outer_products(d)) {
    weight_outer(partial, partial + size_t(chunks) * w_size, dout, xpad, tap, chunks, d);
    // dweight[o, k] = sum of the chunks' partial[k, o] in chunk order, in double; 16 taps at a time.
#pragma omp parallel for schedule(static) if (w_size * chunks > 65536)
    for (int k0 = 0; k0 < K; k0 += 16) {
      reduce_taps(dweight, partial, k0, K - k0 < 16 ? K - k0 : 16, d.O, K, w_size, chunks);
    }
    return;
  }
  const int o4 = d.O / 4 * 4, k4 = K / 4 * 4;
#pragma omp parallel for schedule(static)
  for (int c = 0; c < chunks; ++c) {
    const int n0 = int(std::int64_t(d.N) * c / chunks), n1 = int(std::int64_t(d.N) * (c + 1) / chunks);
    float* acc = partial + c * w_size;
    auto tile_row = [&](auto mb, int o) {
      constexpr int MB = decltype(mb)::value;
      for (int k = 0; k < k4; k += 4) {
        dots_tile<MB, 4>(acc, K, dout, out_plane, out_image, xpad, g.in_image, tap, o, k, n0, n1, seg, nseg);
      }
      for (int k = k4; k < K; ++k) {
        dots_tile<MB, 1>(acc, K, dout, out_plane, out_image, xpad, g.in_image, tap, o, k, n0, n1, seg, nseg);
      }
    };
    for (int o = 0; o < o4; o += 4) tile_row(std::integral_constant<int, 4>(), o);
    for (int o = o4; o < d.O; ++o) tile_row(std::integral_constant<int, 1>(), o);
  }
  // dweight = sum of the chunks' partials in chunk order, in double, 8 at a time.
#pragma omp parallel for schedule(static) if (w_size * chunks > 65536)
  for (size_t i = 0; i < w_size; i += 8) chunk_sum8(dweight + i, partial + i, w_size, chunks, w_size - i);
}

}  // namespace xgrad::kernels::fast

#include "xgrad/core/kernels/avx512_end.hpp"
