// Batch normalization over the channel axis of x viewed as (N, C, L), L = prod(spatial)
// (1 for BatchNorm1d on (N, C)). With m = N L values per channel, mean and biased variance
// per channel, r = 1 / sqrt(var + eps) and xhat = (x - mean) r:
//     forward:  y = gamma xhat + beta  (as x scale + shift, scale = gamma r)
//     backward: gbeta = sum(gy), ggamma = sum(gy xhat) = r sum(gy (x - mean)),
//               gx = gamma r (gy - gbeta / m - xhat ggamma / m)
//
// The statistics take one pass over x: every thread keeps Welford's running (count, mean,
// M2) of the values it reads, and the partial results are merged with Chan's formula in
// warp shuffles, then across the warps through shared memory. The backward's two sums,
// sum(gy) and sum(gy (x - mean)), are taken together in its second pass.
//
// Two layouts, picked by the wrapper:
//   *_block  one thread block per channel (L > 1): the block strides over the channel's
//            N x L values, which are L-long contiguous runs; statistics, sums and the
//            output all in one launch
//   *_cols   one thread per channel (L == 1, x of shape (N, C)): a warp reads 32
//            neighbouring channels of a row at once (coalesced), each thread loops over N
#include "common.cuh"

// -- one block per channel -------------------------------------------------------------

__device__ __forceinline__ int sg_bn_index(const int k, const int C, const int L,
                                                  const int c) {
    const int n = k / L;
    return (n * C + c) * L + (k - n * L);
}

__device__ __forceinline__ SgStats sg_bn_block_stats(const real* x, const int N,
                                                            const int C, const int L,
                                                            const int c, SgStats* shared) {
    SgStats s;
    s.n = 0;
    s.mean = SG_ZERO;
    s.m2 = SG_ZERO;
    const int count = N * L;
    for (int k = threadIdx.x; k < count; k += blockDim.x)
        sg_stats_add(s, x[sg_bn_index(k, C, L, c)]);
    return sg_block_stats(s, shared);
}

extern "C" __global__ void SG_NAME(bn_stats_block)(const real* __restrict__ x, real* mean_out,
                                                   real* var_out, const int N, const int C,
                                                   const int L) {
    __shared__ SgStats shared[SG_MAX_WARPS];
    const int c = blockIdx.x;
    const SgStats s = sg_bn_block_stats(x, N, C, L, c, shared);
    if (threadIdx.x == 0) {
        mean_out[c] = s.mean;
        var_out[c] = s.m2 / real(s.n);
    }
}

extern "C" __global__ void SG_NAME(bn_forward_block)(const real* x, const real* __restrict__ gamma,
                                                     const real* __restrict__ beta, real* y,
                                                     real* mean_out, real* var_out, const int N,
                                                     const int C, const int L, const real eps) {
    __shared__ SgStats shared[SG_MAX_WARPS];
    const int c = blockIdx.x;
    const SgStats s = sg_bn_block_stats(x, N, C, L, c, shared);
    const real mean = s.mean, var = s.m2 / real(s.n);
    if (threadIdx.x == 0) {
        mean_out[c] = mean;
        var_out[c] = var;
    }
    const real r = SG_ONE / sg_sqrt(var + eps);
    const real scale = gamma[c] * r;
    const real shift = beta[c] - mean * scale;
    const int count = N * L;
    for (int k = threadIdx.x; k < count; k += blockDim.x) {
        const int i = sg_bn_index(k, C, L, c);
        y[i] = x[i] * scale + shift;
    }
}

extern "C" __global__ void SG_NAME(bn_backward_block)(const real* __restrict__ x,
                                                      const real* __restrict__ gamma,
                                                      const real* gy, real* gx, real* ggamma,
                                                      real* gbeta, const int N, const int C,
                                                      const int L, const real eps) {
    __shared__ SgStats shared[SG_MAX_WARPS];
    __shared__ real shared_a[SG_MAX_WARPS];
    __shared__ real shared_b[SG_MAX_WARPS];
    const int c = blockIdx.x;
    const SgStats s = sg_bn_block_stats(x, N, C, L, c, shared);
    const real mean = s.mean;
    const real r = SG_ONE / sg_sqrt(s.m2 / real(s.n) + eps);
    const int count = N * L;
    real sum_gy = SG_ZERO, sum_gy_xc = SG_ZERO;
    for (int k = threadIdx.x; k < count; k += blockDim.x) {
        const int i = sg_bn_index(k, C, L, c);
        const real g = gy[i];
        sum_gy += g;
        sum_gy_xc += g * (x[i] - mean);
    }
    sg_block_sum2(sum_gy, sum_gy_xc, shared_a, shared_b);
    const real gb = sum_gy, gg = sum_gy_xc * r;
    if (threadIdx.x == 0) {
        ggamma[c] = gg;
        gbeta[c] = gb;
    }
    const real m = real(count);
    const real k1 = gamma[c] * r, mean_gy = gb / m, q = gg / m;
    for (int k = threadIdx.x; k < count; k += blockDim.x) {
        const int i = sg_bn_index(k, C, L, c);
        const real xhat = (x[i] - mean) * r;
        gx[i] = k1 * (gy[i] - mean_gy - xhat * q);
    }
}

// -- one thread per channel, x of shape (N, C) --------------------------------------------

__device__ __forceinline__ SgStats sg_bn_column_stats(const real* x, const int N,
                                                             const int C, const int c) {
    SgStats s;
    s.n = 0;
    s.mean = SG_ZERO;
    s.m2 = SG_ZERO;
    for (int n = 0; n < N; ++n) sg_stats_add(s, x[n * C + c]);
    return s;
}

extern "C" __global__ void SG_NAME(bn_stats_cols)(const real* __restrict__ x, real* mean_out,
                                                  real* var_out, const int N, const int C) {
    SG_FOR_EACH(c, C) {
        const SgStats s = sg_bn_column_stats(x, N, C, c);
        mean_out[c] = s.mean;
        var_out[c] = s.m2 / real(s.n);
    }
}

extern "C" __global__ void SG_NAME(bn_forward_cols)(const real* x, const real* __restrict__ gamma,
                                                    const real* __restrict__ beta, real* y,
                                                    real* mean_out, real* var_out, const int N,
                                                    const int C, const real eps) {
    SG_FOR_EACH(c, C) {
        const SgStats s = sg_bn_column_stats(x, N, C, c);
        const real mean = s.mean, var = s.m2 / real(s.n);
        mean_out[c] = mean;
        var_out[c] = var;
        const real r = SG_ONE / sg_sqrt(var + eps);
        const real scale = gamma[c] * r;
        const real shift = beta[c] - mean * scale;
        for (int n = 0; n < N; ++n) {
            const int i = n * C + c;
            y[i] = x[i] * scale + shift;
        }
    }
}

extern "C" __global__ void SG_NAME(bn_backward_cols)(const real* __restrict__ x,
                                                     const real* __restrict__ gamma,
                                                     const real* gy, real* gx, real* ggamma,
                                                     real* gbeta, const int N, const int C,
                                                     const real eps) {
    SG_FOR_EACH(c, C) {
        const SgStats s = sg_bn_column_stats(x, N, C, c);
        const real mean = s.mean;
        const real r = SG_ONE / sg_sqrt(s.m2 / real(s.n) + eps);
        real sum_gy = SG_ZERO, sum_gy_xc = SG_ZERO;
        for (int n = 0; n < N; ++n) {
            const int i = n * C + c;
            const real g = gy[i];
            sum_gy += g;
            sum_gy_xc += g * (x[i] - mean);
        }
        const real gg = sum_gy_xc * r;
        ggamma[c] = gg;
        gbeta[c] = sum_gy;
        const real m = real(N);
        const real k1 = gamma[c] * r, mean_gy = sum_gy / m, q = gg / m;
        for (int n = 0; n < N; ++n) {
            const int i = n * C + c;
            const real xhat = (x[i] - mean) * r;
            gx[i] = k1 * (gy[i] - mean_gy - xhat * q);
        }
    }
}
