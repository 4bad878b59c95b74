// Host emulation of scratchgan's CUDA kernels, for tests on machines without a GPU
// (tests/cuda/test_host_emulation.py compiles this file with g++ and -I kernels/cuda).
//
// The .cu files are included as C++ with a few shims: __global__/__device__ vanish,
// blockIdx/threadIdx/blockDim/gridDim are globals set by RUN, which calls a kernel once per
// (block, thread) of a small grid (2 x 3, so the grid-stride loops wrap). That is exact for
// kernels without __syncthreads or warp shuffles: the element-wise ones, im2col/col2im, Adam,
// and the thread-per-channel batch norm. The block batch norm's reduction is checked through
// e_block_stats, which runs the kernels' own Welford update and Chan merge in the order of
// the shuffle-down tree. A GPU run remains the real test (tests/cuda/test_gpu_kernels.py).
#include <cmath>
#include <cstdio>
#define __global__
#define __device__
#define __forceinline__ inline
#define __restrict__
#define __shared__ static
struct Dim3 { int x; };
static Dim3 blockIdx, threadIdx, blockDim, gridDim;
template <class T> T __shfl_down_sync(unsigned, T v, int) { return v; }
static void __syncthreads() {}
#include "elementwise.cu"
#include "conv.cu"
#include "optim.cu"
#include "batchnorm.cu"

#define RUN(kernel, ...) \
    for (int bk_ = 0; bk_ < G; ++bk_) for (int th_ = 0; th_ < B; ++th_) { \
        gridDim.x = G; blockDim.x = B; blockIdx.x = bk_; threadIdx.x = th_; kernel(__VA_ARGS__); }
static const int G = 2, B = 3;
// run_<kernel>: the kernel over the whole (small) grid, with the kernel's own parameters.
#define EXPORT(base, params, args) \
    extern "C" void run_##base params { RUN(SG_NAME(base), EXPAND args) }
#define EXPAND(...) __VA_ARGS__
EXPORT(leaky_relu_fwd, (const real* x, real* y, real s, int n), (x, y, s, n))
EXPORT(leaky_relu_bwd, (const real* x, const real* gy, real* gx, real s, int n), (x, gy, gx, s, n))
EXPORT(bias_add, (const real* x, const real* b, real* y, int C, int L, int n), (x, b, y, C, L, n))
EXPORT(bce_with_logits_fwd, (const real* x, const real* t, real* y, int ts, int n),
       (x, t, y, ts, n))
EXPORT(bce_with_logits_bwd, (const real* x, const real* t, const real* gy, real* gx, int ts,
                             int gs, int n), (x, t, gy, gx, ts, gs, n))
EXPORT(im2col, (const real* x, real* c, int N, int C, int H, int W, int KH, int KW, int SH,
                int SW, int PH, int PW, int OH, int OW, int sN, int sK),
       (x, c, N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, sN, sK))
EXPORT(col2im, (const real* c, real* x, int N, int C, int H, int W, int KH, int KW, int SH,
                int SW, int PH, int PW, int OH, int OW, int sN, int sK),
       (c, x, N, C, H, W, KH, KW, SH, SW, PH, PW, OH, OW, sN, sK))
EXPORT(adam, (real* p, const real* g, real* m, real* v, real lr_b, real b1, real omb1, real b2,
              real omb2, real bias2, real eps, real wd, int decay, int n),
       (p, g, m, v, lr_b, b1, omb1, b2, omb2, bias2, eps, wd, decay, n))
EXPORT(bn_stats_cols, (const real* x, real* mean, real* var, int N, int C), (x, mean, var, N, C))
EXPORT(bn_forward_cols, (const real* x, const real* g, const real* b, real* y, real* mean,
                         real* var, int N, int C, real eps), (x, g, b, y, mean, var, N, C, eps))
EXPORT(bn_backward_cols, (const real* x, const real* g, const real* gy, real* gx, real* gg,
                          real* gb, int N, int C, real eps), (x, g, gy, gx, gg, gb, N, C, eps))

// The block reduction of bn_*_block: Welford over each "thread"'s strided values, then the
// shuffle-down tree within each warp of 32 and across the warps, with the kernels' own
// sg_stats_add and sg_stats_merge. out = (mean, biased variance, count).
extern "C" void block_stats(const real* v, int n, int threads, real* out) {
    static SgStats s[1024];
    for (int t = 0; t < threads; ++t) {
        s[t].n = 0; s[t].mean = 0; s[t].m2 = 0;
        for (int k = t; k < n; k += threads) sg_stats_add(s[t], v[k]);
    }
    SgStats lane[32], next[32], warp_result[32];
    const int warps = threads / 32;
    for (int w = 0; w <= warps; ++w) {      // w == warps: the final warp over the warp results
        for (int l = 0; l < 32; ++l) {
            if (w < warps) lane[l] = s[w * 32 + l];
            else if (l < warps) lane[l] = warp_result[l];
            else { lane[l].n = 0; lane[l].mean = 0; lane[l].m2 = 0; }
        }
        for (int off = 16; off > 0; off /= 2) {   // a lane past the warp reads itself, as on a GPU
            for (int l = 0; l < 32; ++l) next[l] = sg_stats_merge(lane[l], lane[l + off < 32 ? l + off : l]);
            for (int l = 0; l < 32; ++l) lane[l] = next[l];
        }
        if (w < warps) warp_result[w] = lane[0];
    }
    out[0] = lane[0].mean;
    out[1] = lane[0].m2 / real(lane[0].n);
    out[2] = real(lane[0].n);
}
