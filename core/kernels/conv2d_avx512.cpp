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
// (top/left padding on both sides), then zeroes the slack after it.
void pad_planes(float* dst, const float* src, int planes, int rows, int cols, int top, int left) {
  const int Hp = rows + 2 * top, Wp = cols + 2 * left;
  for (int p = 0; p < planes; ++p) {
    float* plane = dst + size_t(p) * Hp * Wp;
    const float* in = src + size_t(p) * rows * cols;
    std::memset(plane, 0, sizeof(float) * size_t(top) * Wp);
    for (int r = 0; r < rows; ++r) {
      float* row = plane + size_t(r + top) * Wp;
      for (int c = 0; c < left; ++c) row[c] = 0.0f;
      std::memcpy(row + left, in + size_t(r) * cols, sizeof(float) * size_t(cols));
      for (int c = left + cols; c < Wp; ++c) row[c] = 0.0f;
    }
    std::memset(plane + size_t(top + rows) * Wp, 0, sizeof(float) * size_t(top) * Wp);
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

// backward_weight by outer products (weight_by_outer_products): the chunks' partial sums as (K, O) in
// `partial`, from `gt`, the output gradient copied with its channels last.
void weight_outer(float* partial, float* gt, const float* dout, const float* xpad, const int* tap, int chunks,
                  const Conv2dDims& d) {
  const Geometry g = geometry(d);
  const int K = d.C * d.KH * d.KW, P = d.OH * d.OW;
  const size_t image = size_t(P) * d.O, w_size = size_t(d.O) * K;
  // gt[n, p, o] = dout[n, o, p], 16 positions at a time: the 16 rows of gt being written stay in cache.
#pragma omp parallel for schedule(static)
  for (int n = 0; n < d.N; ++n) {
    for (int p0 = 0; p0 < P; p0 += kLanes) {
      const int pn = P - p0 < kLanes ? P - p0 : kLanes;
      for (int o = 0; o < d.O; ++o) {
        const float* src = dout + n * image + size_t(o) * P + p0;
        float* dst = gt + n * image + size_t(p0) * d.O + o;
        for (int p = 0; p < pn; ++p) dst[size_t(p) * d.O] = src[p];
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
    // dweight[o, k] = sum of the chunks' partial[k, o] in chunk order, in double; 16 taps at a time, so
    // that the chunks' rows being read stay in cache (chunks x 16 x O floats) and each write fills a line.
#pragma omp parallel for schedule(static) if (w_size * chunks > 65536)
    for (int k0 = 0; k0 < K; k0 += 16) {
      const int kn = K - k0 < 16 ? K - k0 : 16;
      for (int o = 0; o < d.O; ++o) {
        for (int k = k0; k < k0 + kn; ++k) {
          double sum = 0.0;
          for (int c = 0; c < chunks; ++c) sum += partial[c * w_size + size_t(k) * d.O + o];
          dweight[size_t(o) * K + k] = static_cast<float>(sum);
        }
      }
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
  // dweight = sum of the chunks' partials in chunk order, in double.
#pragma omp parallel for schedule(static) if (w_size * chunks > 65536)
  for (size_t i = 0; i < w_size; ++i) {
    double sum = 0.0;
    for (int c = 0; c < chunks; ++c) sum += partial[c * w_size + i];
    dweight[i] = static_cast<float>(sum);
  }
}

}  // namespace xgrad::kernels::fast

#include "xgrad/core/kernels/avx512_end.hpp"
