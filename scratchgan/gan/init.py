"""The DCGAN initialisation (Radford et al. 2015), the weights every GAN model here
starts from: ``model.apply(dcgan_init)``. GAN policy, so it lives with the models, built
on the generic schemes of ``scratchgan.nn.init``."""
from __future__ import annotations

from typing import Any

from scratchgan.nn import BatchNorm, Conv2d, ConvTranspose2d, Embedding, Linear
from scratchgan.nn.init import normal_, zeros_


def dcgan_init(module: Any) -> None:
    """The DCGAN initialisation of one module, for ``model.apply(dcgan_init)``: conv,
    transposed conv, linear and embedding weights ~ N(0, 0.02^2), batch-norm weights
    ~ N(1, 0.02^2), biases 0. Other modules are left alone. A spectral-normalised layer
    has its raw weight ``weight_orig`` initialised.
    (An embedding left at N(0, 1) makes a projection discriminator's class term
    <embed(y), h> over D's 6272 features dwarf everything else at the first step.)"""
    if isinstance(module, Embedding):
        normal_(module.weight, 0.0, 0.02)
        return
    if isinstance(module, (Conv2d, ConvTranspose2d, Linear)):
        weight = module._parameters.get("weight_orig", module._parameters.get("weight"))
        normal_(weight, 0.0, 0.02)
    elif isinstance(module, BatchNorm):
        normal_(module.weight, 1.0, 0.02)
    else:
        return
    if module.bias is not None:
        zeros_(module.bias)
