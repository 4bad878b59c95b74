// Definitions shared by scratchgan's CUDA kernels: the floating type, the kernel names,
// math helpers and block reductions.
//
// Every .cu file of this folder is compiled twice, once per floating type, by defining
// exactly one of SCRATCHGAN_F32 and SCRATCHGAN_F64 (the loader writes the #define at the
// top of the source it gives NVRTC; the nvcc test passes -DSCRATCHGAN_F32 / _F64). `real`
// is that type and SG_NAME(base) the exported name, base_f32 or base_f64, so one compiled
// module holds the kernels of one dtype only and a float32 module contains no double
// arithmetic at all (the nvcc test checks that with -Xptxas --warn-on-double-precision-use).
//
// No standard header is included: NVRTC compiles these files without a host toolchain.
// Sizes are int (the Python wrappers refuse arrays of 2^31 elements or more).
#pragma once

#if defined(SCRATCHGAN_F32) && defined(SCRATCHGAN_F64)
#error "define only one of SCRATCHGAN_F32 and SCRATCHGAN_F64"
#elif defined(SCRATCHGAN_F64)
typedef double real;
#define SG_NAME(base) base##_f64
#elif defined(SCRATCHGAN_F32)
typedef float real;
#define SG_NAME(base) base##_f32
#else
#error "define SCRATCHGAN_F32 or SCRATCHGAN_F64"
#endif

// Math on `real`: the float overloads call the single-precision functions (expf, ...),
// so nothing is promoted to double in a float32 module. They are inline functions: an
// overload that a module does not call is never emitted (and, unlike unused static
// functions, draws no "declared but never referenced" warning once the loader inlines
// this header into a source file).
__device__ __forceinline__ float sg_exp(float v) { return expf(v); }
__device__ __forceinline__ double sg_exp(double v) { return exp(v); }
__device__ __forceinline__ float sg_log1p(float v) { return log1pf(v); }
__device__ __forceinline__ double sg_log1p(double v) { return log1p(v); }
__device__ __forceinline__ float sg_tanh(float v) { return tanhf(v); }
__device__ __forceinline__ double sg_tanh(double v) { return tanh(v); }
__device__ __forceinline__ float sg_sqrt(float v) { return sqrtf(v); }
__device__ __forceinline__ double sg_sqrt(double v) { return sqrt(v); }
__device__ __forceinline__ float sg_abs(float v) { return fabsf(v); }
__device__ __forceinline__ double sg_abs(double v) { return fabs(v); }
__device__ __forceinline__ float sg_max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double sg_max(double a, double b) { return fmax(a, b); }

#define SG_ZERO real(0)
#define SG_ONE real(1)
#define SG_HALF real(0.5f)

// Grid-stride loop over [0, n): every launch helper may cap the grid.
#define SG_FOR_EACH(i, n) \
    for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += blockDim.x * gridDim.x)

#define SG_WARP 32
#define SG_MAX_WARPS 32   // blockDim.x <= 1024

// -- block reductions ---------------------------------------------------------------------
// Called by every thread of the block (blockDim.x a multiple of 32); every thread returns
// the block's result. `shared` holds SG_MAX_WARPS entries of the reduced type.

__device__ __forceinline__ real sg_warp_sum(real v) {
    for (int offset = SG_WARP / 2; offset > 0; offset /= 2)
        v += __shfl_down_sync(0xffffffffu, v, offset);
    return v;
}

// Two sums at once (one pass of shuffles and one barrier pair for both).
__device__ __forceinline__ void sg_block_sum2(real& a, real& b, real* shared_a,
                                                     real* shared_b) {
    const int lane = threadIdx.x % SG_WARP, warp = threadIdx.x / SG_WARP;
    const int warps = blockDim.x / SG_WARP;
    a = sg_warp_sum(a);
    b = sg_warp_sum(b);
    __syncthreads();                       // the shared arrays may still be read from a previous call
    if (lane == 0) { shared_a[warp] = a; shared_b[warp] = b; }
    __syncthreads();
    if (warp == 0) {
        a = lane < warps ? shared_a[lane] : SG_ZERO;
        b = lane < warps ? shared_b[lane] : SG_ZERO;
        a = sg_warp_sum(a);
        b = sg_warp_sum(b);
        if (lane == 0) { shared_a[0] = a; shared_b[0] = b; }
    }
    __syncthreads();
    a = shared_a[0];
    b = shared_b[0];
}

// Welford / Chan statistics: count, mean and the sum of squared deviations M2 of a set of
// values, built one value at a time and merged pairwise (Chan, Golub & LeVeque 1979). One
// pass over the data, and no cancellation of a sum of squares minus a squared sum.
struct SgStats {
    int n;
    real mean;
    real m2;
};

__device__ __forceinline__ void sg_stats_add(SgStats& s, real v) {
    s.n += 1;
    const real d = v - s.mean;
    s.mean += d / real(s.n);
    s.m2 += d * (v - s.mean);
}

__device__ __forceinline__ SgStats sg_stats_merge(SgStats a, SgStats b) {
    const int n = a.n + b.n;
    if (n == 0) return a;
    const real fb = real(b.n) / real(n);
    const real d = b.mean - a.mean;
    SgStats out;
    out.n = n;
    out.mean = a.mean + d * fb;
    out.m2 = a.m2 + b.m2 + d * d * (real(a.n) * fb);
    return out;
}

__device__ __forceinline__ SgStats sg_warp_stats(SgStats s) {
    for (int offset = SG_WARP / 2; offset > 0; offset /= 2) {
        SgStats o;
        o.n = __shfl_down_sync(0xffffffffu, s.n, offset);
        o.mean = __shfl_down_sync(0xffffffffu, s.mean, offset);
        o.m2 = __shfl_down_sync(0xffffffffu, s.m2, offset);
        s = sg_stats_merge(s, o);
    }
    return s;
}

__device__ __forceinline__ SgStats sg_block_stats(SgStats s, SgStats* shared) {
    const int lane = threadIdx.x % SG_WARP, warp = threadIdx.x / SG_WARP;
    const int warps = blockDim.x / SG_WARP;
    s = sg_warp_stats(s);
    __syncthreads();
    if (lane == 0) shared[warp] = s;
    __syncthreads();
    if (warp == 0) {
        SgStats empty;
        empty.n = 0;
        empty.mean = SG_ZERO;
        empty.m2 = SG_ZERO;
        s = lane < warps ? shared[lane] : empty;
        s = sg_warp_stats(s);
        if (lane == 0) shared[0] = s;
    }
    __syncthreads();
    return shared[0];
}
