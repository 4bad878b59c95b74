"""The pix2pix discriminator: a PatchGAN on (input, output) pairs (Isola et al. 2017).

D sees the input image and the real or generated output concatenated on channels, and
gives a map of logits, each judging one patch of the pair (its receptive field):

    Conv(C_in + C_out, ndf, k4 s2 p1) -> LeakyReLU(0.2)
    n_layers - 1 times: Conv(w, w', k4 s2 p1, no bias) -> BN -> LeakyReLU(0.2),  w' = ndf min(2^n, 8)
    Conv(w, ndf min(2^n_layers, 8), k4 s1 p1, no bias) -> BN -> LeakyReLU(0.2)
    Conv(.., 1, k4 s1 p1)                                                     logits (N, 1, h, w)

n_layers = 3 is pix2pix's 70x70 PatchGAN (receptive field 70, a 30x30 map at 256); 2 sees
34x34 patches and 1 sees 16x16. The default scales with the image: 1 at 28 and 32 (a 12x12
or 14x14 map), 2 at 64, 3 from 128 on. ``batchnorm=False`` leaves the norms out (a WGAN-GP
critic: the per-sample penalty forbids coupling the samples of a batch); the layers that
lose their norm get a bias.
"""
from __future__ import annotations

import math
from typing import Any

from scratchgan import functions as F
from scratchgan import nn
from scratchgan.autograd import Tensor

MAX_WIDTH_FACTOR = 8


def default_patch_layers(image_size: int) -> int:
    """n_layers for an image size: log2 of the size rounded up to a power of two, minus 4,
    kept in [1, 3]."""
    return min(3, max(1, math.ceil(math.log2(image_size)) - 4))


def _without_channels(shape: tuple[int, ...]) -> tuple[int, ...]:
    return shape[:1] + shape[2:]


class PatchGANDiscriminator(nn.Module):
    """``D(inputs, outputs)``: a logit per patch, (N, 1, h, w); see the module docstring."""

    def __init__(self, in_channels: int = 3, out_channels: int = 3, ndf: int = 64,
                 n_layers: int | None = None, image_size: int = 256,
                 batchnorm: bool = True) -> None:
        super().__init__()
        self.channels = (int(in_channels), int(out_channels))
        self.n_layers = default_patch_layers(image_size) if n_layers is None else int(n_layers)
        if self.n_layers < 1:
            raise ValueError(f"PatchGANDiscriminator needs n_layers >= 1, got {n_layers}")
        widths = [ndf * min(2 ** n, MAX_WIDTH_FACTOR) for n in range(self.n_layers + 1)]
        layers: list[nn.Module] = [nn.Conv2d(sum(self.channels), ndf, 4, 2, 1), nn.LeakyReLU(0.2)]
        for n in range(1, self.n_layers + 1):
            stride = 2 if n < self.n_layers else 1
            layers.append(nn.Conv2d(widths[n - 1], widths[n], 4, stride, 1, bias=not batchnorm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(widths[n]))
            layers.append(nn.LeakyReLU(0.2))
        layers.append(nn.Conv2d(widths[-1], 1, 4, 1, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, inputs: Any, outputs: Any) -> Tensor:
        inputs = inputs if isinstance(inputs, Tensor) else Tensor(inputs)
        outputs = outputs if isinstance(outputs, Tensor) else Tensor(outputs)
        if (inputs.ndim != 4 or outputs.ndim != 4
                or (inputs.shape[1], outputs.shape[1]) != self.channels
                or _without_channels(inputs.shape) != _without_channels(outputs.shape)):
            raise ValueError(f"PatchGANDiscriminator: inputs (N, {self.channels[0]}, H, W) and "
                             f"outputs (N, {self.channels[1]}, H, W) of one size expected, got "
                             f"{inputs.shape} and {outputs.shape}")
        return self.body(F.concat([inputs, outputs], axis=1))
