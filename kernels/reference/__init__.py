"""The reference backend: plain NumPy, the clearest code, the oracle for the others.

The fused batch norm + leaky ReLU kernels are ``scratchgan_kernels.portable``'s, which on
NumPy arrays are the two reference kernels one after the other: the twin that the numba
backend's one-pass kernels are tested against; ``matmul`` is NumPy's, also from there.
"""
from scratchgan_kernels import portable
from scratchgan_kernels.reference.activation import leaky_relu, leaky_relu_grad
from scratchgan_kernels.reference.optim import adam_update
from scratchgan_kernels.reference.batchnorm import (batch_norm_backward, batch_norm_forward,
                                                    batch_norm_stats)
from scratchgan_kernels.reference.conv import (col2im, conv2d, conv2d_grad_weight,
                                               conv_transpose2d, im2col)

KERNELS = {
    "leaky_relu": leaky_relu,
    "leaky_relu_grad": leaky_relu_grad,
    "batch_norm_stats": batch_norm_stats,
    "batch_norm_forward": batch_norm_forward,
    "batch_norm_backward": batch_norm_backward,
    "batch_norm_leaky_relu_forward": portable.batch_norm_leaky_relu_forward,
    "batch_norm_leaky_relu_backward": portable.batch_norm_leaky_relu_backward,
    "matmul": portable.matmul,
    "im2col": im2col,
    "col2im": col2im,
    "conv2d": conv2d,
    "conv_transpose2d": conv_transpose2d,
    "conv2d_grad_weight": conv2d_grad_weight,
    "adam_update": adam_update,
}
