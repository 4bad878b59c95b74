"""Every differentiable op: a CamelCase Function class and a snake_case wrapper."""
from scratchgan.functions.activation import (LeakyReLU, LeakyReLUGrad, LogSigmoid, ReLU, Sigmoid,
                                             Softplus, Tanh, leaky_relu, log_sigmoid, relu,
                                             sigmoid, softplus, tanh)
from scratchgan.functions.arithmetic import (Abs, AbsGrad, Add, Div, Exp, Log, Mul, Neg, Pow, Sqrt,
                                             Sub, abs, add, div, exp, log, mul, neg, pow, sqrt,
                                             sub)
from scratchgan.functions.array import (BroadcastTo, Concat, GetItem, GetItemGrad, Max, Reshape,
                                        Sum, SumTo, Transpose, broadcast_to, concat, flatten,
                                        getitem, max, maxout, mean, reshape, sum, sum_to,
                                        transpose, upsample_nearest)
from scratchgan.functions.conv import (Conv2d, Conv2dGradWeight, ConvTranspose2d, conv2d,
                                       conv2d_grad_weight, conv_transpose2d)
from scratchgan.functions.dropout import Dropout, dropout
from scratchgan.functions.linear import Linear, MatMul, linear, matmul
from scratchgan.functions.loss import BCEWithLogits, BCEWithLogitsGrad, bce_with_logits, l1, mse
from scratchgan.functions.normalization import (BatchNorm, BatchNormGrad, BatchNormLeakyReLU,
                                                BatchNormLeakyReLUGrad, batch_norm)
