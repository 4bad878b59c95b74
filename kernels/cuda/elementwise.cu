// Element-wise kernels: leaky ReLU forward and backward, the per-channel bias add, and
// binary cross-entropy from logits with its gradient. One thread per element (grid-stride),
// `real` and SG_NAME from common.cuh. Output arrays may alias an input of the same shape:
// each element is read before it is written.
#include "common.cuh"

// y = x if x > 0 else slope * x
extern "C" __global__ void SG_NAME(leaky_relu_fwd)(const real* __restrict__ x, real* y,
                                                   const real slope, const int n) {
    SG_FOR_EACH(i, n) {
        const real v = x[i];
        y[i] = v > SG_ZERO ? v : v * slope;
    }
}

// gx = gy if x > 0 else slope * gy
extern "C" __global__ void SG_NAME(leaky_relu_bwd)(const real* __restrict__ x,
                                                   const real* gy, real* gx,
                                                   const real slope, const int n) {
    SG_FOR_EACH(i, n) {
        const real g = gy[i];
        gx[i] = x[i] > SG_ZERO ? g : g * slope;
    }
}

// y[n, c, l] = x[n, c, l] + b[c] for x of shape (N, C, L) (L = the spatial size, 1 for (N, C))
extern "C" __global__ void SG_NAME(bias_add)(const real* x, const real* __restrict__ b, real* y,
                                             const int C, const int L, const int n) {
    SG_FOR_EACH(i, n) {
        y[i] = x[i] + b[(i / L) % C];
    }
}

// l = max(x, 0) - x t + log1p(exp(-|x|)): the BCE of logit x against target t, finite for
// any x. t is read at i * t_step: t_step = 1 for a target of x's shape, 0 for one value.
extern "C" __global__ void SG_NAME(bce_with_logits_fwd)(const real* x, const real* t, real* y,
                                                        const int t_step, const int n) {
    SG_FOR_EACH(i, n) {
        const real v = x[i];
        y[i] = sg_max(v, SG_ZERO) - v * t[i * t_step] + sg_log1p(sg_exp(-sg_abs(v)));
    }
}

// gx = gy (sigmoid(x) - t), sigmoid(x) = (1 + tanh(x / 2)) / 2 (no overflow for any x, and
// the formula of the reference and of the sigmoid op). t and gy are read at i * t_step and
// i * gy_step (1: the full shape, 0: one value).
extern "C" __global__ void SG_NAME(bce_with_logits_bwd)(const real* x, const real* t,
                                                        const real* gy, real* gx,
                                                        const int t_step, const int gy_step,
                                                        const int n) {
    SG_FOR_EACH(i, n) {
        const real s = SG_HALF * (sg_tanh(SG_HALF * x[i]) + SG_ONE);
        gx[i] = gy[i * gy_step] * (s - t[i * t_step]);
    }
}
