// The column kernels of the im2col convolutions: every conv2d, conv_transpose2d and
// conv2d_grad_weight is one of these plus one cuBLAS GEMM (see ops.py).
//
// Shape letters of scratchgan_kernels.shapes. A column entry (n, k, p), with
// k = (c KH + i) KW + j the (channel, kernel offset) row and p = oh OW + ow the output
// position, is stored at  n * sN + k * sK + p.  Two layouts use that formula:
//     the reference's (N, C, KH, KW, OH, OW):  sN = K P, sK = P    (K = C KH KW, P = OH OW)
//     the GEMM layout (K, N P):                sN = P,   sK = N P  (one matrix for the batch)
// so the public im2col/col2im and the conv paths share one kernel each.
#include "common.cuh"

// cols[n, k, p] = x[n, c, oh SH + i - PH, ow SW + j - PW], 0 outside x. One thread per
// column entry, p fastest: writes are contiguous along p in both layouts.
extern "C" __global__ void SG_NAME(im2col)(const real* __restrict__ x, real* __restrict__ cols,
                                           const int N, const int C, const int H, const int W,
                                           const int KH, const int KW, const int SH, const int SW,
                                           const int PH, const int PW, const int OH, const int OW,
                                           const int sN, const int sK) {
    const int P = OH * OW, K = C * KH * KW;
    const int total = N * K * P;
    SG_FOR_EACH(t, total) {
        const int p = t % P;
        const int r = t / P;
        const int k = r % K;
        const int n = r / K;
        const int ow = p % OW, oh = p / OW;
        const int j = k % KW, i = (k / KW) % KH, c = k / (KW * KH);
        const int h = oh * SH + i - PH, w = ow * SW + j - PW;
        real v = SG_ZERO;
        if (h >= 0 && h < H && w >= 0 && w < W) v = x[((n * C + c) * H + h) * W + w];
        cols[n * sN + k * sK + p] = v;
    }
}

// The adjoint of im2col, as a gather (no atomics, a fixed order of summation):
// x[n, c, h, w] = sum over (i, j) with (h + PH - i) = oh SH, (w + PW - j) = ow SW,
// 0 <= oh < OH, 0 <= ow < OW of cols[n, (c KH + i) KW + j, oh OW + ow].
// One thread per pixel of x (entries that land on the padding are never read).
extern "C" __global__ void SG_NAME(col2im)(const real* __restrict__ cols, real* __restrict__ x,
                                           const int N, const int C, const int H, const int W,
                                           const int KH, const int KW, const int SH, const int SW,
                                           const int PH, const int PW, const int OH, const int OW,
                                           const int sN, const int sK) {
    const int total = N * C * H * W;
    SG_FOR_EACH(t, total) {
        const int w = t % W;
        const int h = (t / W) % H;
        const int c = (t / (W * H)) % C;
        const int n = t / (W * H * C);
        const real* base = cols + n * sN;
        real acc = SG_ZERO;
        for (int i = 0; i < KH; ++i) {
            const int hp = h + PH - i;
            if (hp < 0 || hp % SH != 0) continue;
            const int oh = hp / SH;
            if (oh >= OH) continue;
            for (int j = 0; j < KW; ++j) {
                const int wp = w + PW - j;
                if (wp < 0 || wp % SW != 0) continue;
                const int ow = wp / SW;
                if (ow >= OW) continue;
                acc += base[((c * KH + i) * KW + j) * sK + oh * OW + ow];
            }
        }
        x[t] = acc;
    }
}
