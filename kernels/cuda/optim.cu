// The fused Adam update: one pass over the four arrays, in place on param, m and v.
//
// With g = grad + weight_decay * param (when decay != 0) and the host-computed scalars
// lr_b = lr / (1 - beta1^t) and bias2 = 1 - beta2^t:
//     m <- beta1 m + (1 - beta1) g,   v <- beta2 v + (1 - beta2) g^2
//     param <- param - lr_b m / (sqrt(v / bias2) + eps)
// the order of operations of the reference and of the numba kernel.
#include "common.cuh"

extern "C" __global__ void SG_NAME(adam)(real* param, const real* __restrict__ grad, real* m,
                                         real* v, const real lr_b, const real beta1,
                                         const real one_minus_beta1, const real beta2,
                                         const real one_minus_beta2, const real bias2,
                                         const real eps, const real weight_decay,
                                         const int decay, const int n) {
    SG_FOR_EACH(i, n) {
        const real p = param[i];
        const real g = decay ? grad[i] + weight_decay * p : grad[i];
        const real mi = m[i] * beta1 + one_minus_beta1 * g;
        const real vi = v[i] * beta2 + one_minus_beta2 * (g * g);
        m[i] = mi;
        v[i] = vi;
        param[i] = p - (lr_b * mi) / (sg_sqrt(vi / bias2) + eps);
    }
}
