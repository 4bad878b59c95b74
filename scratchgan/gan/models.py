"""GAN models: DCGAN for 28x28x1 and 32x32x3, MLPs for 2-D data, conditional variants.

DCGAN-28 has exactly the architecture of ``shared/reference/dcgan_torch.py`` (so
benchmarks compare like with like):

    G: z (N, nz) -> Linear(nz, 4 ngf 7 7, no bias) -> BatchNorm1d -> ReLU -> (4 ngf, 7, 7)
       -> ConvT(4 ngf, 2 ngf, k4 s2 p1, no bias) -> BN -> ReLU            (2 ngf, 14, 14)
       -> ConvT(2 ngf, ngf, k4 s2 p1, no bias) -> BN -> ReLU              (ngf, 28, 28)
       -> Conv(ngf, C, k3 s1 p1) -> Tanh                                  (C, 28, 28)
       (``upsample="resize"``: each ConvT is Upsample(2) -> Conv(k3 s1 p1, no bias))
    D: x -> Conv(C, ndf, k4 s2 p1) -> LeakyReLU(0.2)                      (ndf, 14, 14)
       -> Conv(ndf, 2 ndf, k4 s2 p1, no bias) -> BN -> LeakyReLU(0.2)     (2 ndf, 7, 7)
       -> flatten -> Linear(2 ndf 7 7, 1)                                 logit (N, 1)

Conditioning (``num_classes`` > 0): G takes the label as a one-hot vector or a
learned embedding concatenated to z; D takes it as one-hot planes concatenated to
the image ("concat") or through a projection head (Miyato & Koyama 2018):
logit = fc(h) + <embed(y), h>. ``batchnorm=False`` gives the WGAN-GP critic
(batch norm couples the samples of a batch, which the per-sample penalty forbids);
``spectral_norm=True`` wraps D's weight layers (Miyato et al. 2018).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from scratchgan import functions as F
from scratchgan import nn
from scratchgan.autograd import Tensor
from scratchgan.backend import get_array_module, to_numpy
from scratchgan.gan.init import dcgan_init


def one_hot(labels: np.ndarray, num_classes: int, dtype: Any) -> np.ndarray:
    labels = to_numpy(labels)   # labels travel as host arrays (a device array is read back)
    if labels.dtype.kind not in "iu" or labels.min(initial=0) < 0 or labels.max(initial=0) >= num_classes:
        raise ValueError(f"labels must be integers in [0, {num_classes}), got {labels.dtype} "
                         f"values in [{labels.min(initial=0)}, {labels.max(initial=0)}]")
    return np.eye(num_classes, dtype=dtype)[labels]


def _beside(x: Tensor, a: np.ndarray) -> Tensor:
    """The host array ``a`` as a constant Tensor on ``x``'s device."""
    return Tensor(get_array_module(x.data).asarray(a))


class LabelInput(nn.Module):
    """A label as a vector to concatenate to z: one-hot, or a learned embedding."""

    def __init__(self, num_classes: int, mode: str, dim: int = 50) -> None:
        super().__init__()
        if mode not in ("onehot", "embedding"):
            raise ValueError(f"generator conditioning must be 'onehot' or 'embedding', got {mode!r}")
        self.num_classes, self.mode = num_classes, mode
        self.dim = num_classes if mode == "onehot" else dim
        if mode == "embedding":
            self.embed = nn.Embedding(num_classes, dim)

    def forward(self, z: Tensor, labels: np.ndarray) -> Tensor:
        if self.mode == "onehot":
            code = _beside(z, one_hot(labels, self.num_classes, z.dtype))
        else:
            code = self.embed(labels)
        return F.concat([z, code], axis=1)


def _maybe_sn(layer: nn.Module, on: bool) -> nn.Module:
    return nn.spectral_norm(layer) if on else layer


#: how the DCGAN generator doubles its resolution, each a function (cin, cout) -> layers:
#: a strided transposed convolution (DCGAN's), or nearest-neighbour resizing followed by
#: a 3x3 convolution (Odena et al. 2016), which leaves no checkerboard pattern
UPSAMPLING = {
    "transposed": lambda cin, cout: [nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)],
    "resize": lambda cin, cout: [nn.Upsample(2), nn.Conv2d(cin, cout, 3, 1, 1, bias=False)],
}


class Generator(nn.Module):
    """Base: ``forward(z, labels=None)``; subclasses build ``self.body`` from the input code."""

    nz: int
    num_classes: int = 0

    def _code(self, z: Tensor, labels: Any) -> Tensor:
        if self.num_classes:
            if labels is None:
                raise ValueError("this generator is conditional: pass labels")
            return self.label_input(z, labels)
        return z

    def forward(self, z: Any, labels: Any = None) -> Tensor:
        z = z if isinstance(z, Tensor) else Tensor(z)
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"{type(self).__name__}: z must have shape (N, {self.nz}), got {z.shape}")
        return self.body(self._code(z, labels))


class DCGANGenerator(Generator):
    """DCGAN generator: 28x28 (two upsamplings from 7x7) or 32x32 (three from 4x4)."""

    def __init__(self, image_size: int = 28, channels: int = 1, nz: int = 100, ngf: int = 64,
                 num_classes: int = 0, conditioning: str = "embedding",
                 upsample: str = "transposed") -> None:
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError(f"DCGAN supports image sizes 28 and 32, got {image_size}")
        if upsample not in UPSAMPLING:
            raise ValueError(f"generator upsampling must be one of {', '.join(UPSAMPLING)}, "
                             f"got {upsample!r}")
        self.nz, self.num_classes = nz, num_classes
        code = nz
        if num_classes:
            self.label_input = LabelInput(num_classes, conditioning)
            code += self.label_input.dim
        if image_size == 28:
            base, widths = 7, [4 * ngf, 2 * ngf, ngf]
        else:
            base, widths = 4, [8 * ngf, 4 * ngf, 2 * ngf, ngf]
        layers: list[nn.Module] = [nn.Linear(code, widths[0] * base * base, bias=False),
                                   nn.BatchNorm1d(widths[0] * base * base), nn.ReLU(),
                                   nn.Unflatten(1, (widths[0], base, base))]
        for cin, cout in zip(widths, widths[1:]):
            layers += UPSAMPLING[upsample](cin, cout) + [nn.BatchNorm2d(cout), nn.ReLU()]
        layers += [nn.Conv2d(widths[-1], channels, 3, 1, 1), nn.Tanh()]
        self.body = nn.Sequential(*layers)


class DCGANDiscriminator(nn.Module):
    """DCGAN discriminator (or, with ``batchnorm=False``, a WGAN-GP critic)."""

    def __init__(self, image_size: int = 28, channels: int = 1, ndf: int = 64,
                 num_classes: int = 0, conditioning: str = "projection", batchnorm: bool = True,
                 spectral_norm: bool = False, minibatch_std: bool = False) -> None:
        super().__init__()
        if image_size not in (28, 32):
            raise ValueError(f"DCGAN supports image sizes 28 and 32, got {image_size}")
        if num_classes and conditioning not in ("concat", "projection"):
            raise ValueError(f"discriminator conditioning must be 'concat' or 'projection', "
                             f"got {conditioning!r}")
        self.num_classes, self.conditioning = num_classes, conditioning
        self.image_shape = (channels, image_size, image_size)
        cin = channels + (num_classes if num_classes and conditioning == "concat" else 0)
        widths = [ndf, 2 * ndf] if image_size == 28 else [ndf, 2 * ndf, 4 * ndf]
        layers: list[nn.Module] = [_maybe_sn(nn.Conv2d(cin, widths[0], 4, 2, 1), spectral_norm),
                                   nn.LeakyReLU(0.2)]
        for a, b in zip(widths, widths[1:]):
            layers.append(_maybe_sn(nn.Conv2d(a, b, 4, 2, 1, bias=not batchnorm), spectral_norm))
            if batchnorm:
                layers.append(nn.BatchNorm2d(b))
            layers.append(nn.LeakyReLU(0.2))
        if minibatch_std:
            layers.append(nn.MinibatchStd())
        layers.append(nn.Flatten())
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** len(widths)
        feature_dim = (widths[-1] + minibatch_std) * side * side
        self.fc = _maybe_sn(nn.Linear(feature_dim, 1), spectral_norm)
        if num_classes and conditioning == "projection":
            self.embed = nn.Embedding(num_classes, feature_dim)

    def forward(self, x: Any, labels: Any = None) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if x.shape[1:] != self.image_shape:
            raise ValueError(f"{type(self).__name__}: images must have shape (N, "
                             f"{', '.join(map(str, self.image_shape))}), got {x.shape}")
        if self.num_classes and labels is None:
            raise ValueError("this discriminator is conditional: pass labels")
        if self.num_classes and self.conditioning == "concat":
            planes = one_hot(labels, self.num_classes, x.dtype)[:, :, None, None]
            x = F.concat([x, _beside(x, np.broadcast_to(
                planes, (x.shape[0], self.num_classes) + x.shape[2:]).copy())], axis=1)
        h = self.features(x)
        logit = self.fc(h)
        if self.num_classes and self.conditioning == "projection":
            logit = logit + F.sum(self.embed(labels) * h, axis=1, keepdims=True)
        return logit


class MLPGenerator(Generator):
    """MLP generator for 2-D data, PacGAN's sizes: 4 hidden layers of 400 units, BN, ReLU."""

    def __init__(self, nz: int = 2, hidden: int = 400, depth: int = 4, out_dim: int = 2,
                 num_classes: int = 0, conditioning: str = "onehot") -> None:
        super().__init__()
        self.nz, self.num_classes = nz, num_classes
        width = nz
        if num_classes:
            self.label_input = LabelInput(num_classes, conditioning)
            width += self.label_input.dim
        layers: list[nn.Module] = []
        for _ in range(depth):
            layers += [nn.Linear(width, hidden), nn.BatchNorm1d(hidden), nn.ReLU()]
            width = hidden
        layers.append(nn.Linear(width, out_dim))
        self.body = nn.Sequential(*layers)


class MLPDiscriminator(nn.Module):
    """MLP discriminator for 2-D data: 3 hidden layers of 200 units (PacGAN's sizes),
    LeakyReLU(0.2), or with ``maxout`` > 0 PacGAN's maxout units of that many pieces; no
    batch norm (fit for WGAN-GP). A packed D (PacGAN) takes ``in_dim`` = pack x 2."""

    def __init__(self, in_dim: int = 2, hidden: int = 200, depth: int = 3, num_classes: int = 0,
                 spectral_norm: bool = False, maxout: int = 0,
                 minibatch_std: bool = False) -> None:
        super().__init__()
        self.num_classes = num_classes
        width = in_dim + num_classes
        layers: list[nn.Module] = []
        for _ in range(depth):
            if maxout:
                unit = nn.Maxout(width, hidden, maxout)
                unit.linear = _maybe_sn(unit.linear, spectral_norm)
                layers.append(unit)
            else:
                layers += [_maybe_sn(nn.Linear(width, hidden), spectral_norm), nn.LeakyReLU(0.2)]
            width = hidden
        if minibatch_std:
            layers.append(nn.MinibatchStd())
            width += 1
        layers.append(_maybe_sn(nn.Linear(width, 1), spectral_norm))
        self.body = nn.Sequential(*layers)

    def forward(self, x: Any, labels: Any = None) -> Tensor:
        x = x if isinstance(x, Tensor) else Tensor(x)
        if self.num_classes:
            if labels is None:
                raise ValueError("this discriminator is conditional: pass labels")
            x = F.concat([x, _beside(x, one_hot(labels, self.num_classes, x.dtype))], axis=1)
        return self.body(x)


def build_models(model: str, data_shape: tuple[int, ...], num_classes: int = 0,
                 nz: int | None = None, batchnorm_in_d: bool = True,
                 spectral_norm: bool = False, g_conditioning: str = "embedding",
                 d_conditioning: str = "projection", ngf: int = 64, ndf: int = 64,
                 pack: int = 1, maxout: int = 0, minibatch_std: bool = False,
                 upsample: str = "transposed") -> tuple[nn.Module, nn.Module]:
    """(G, D) for a model name ("dcgan" or "mlp") and the shape of one data sample.
    ``ngf``/``ndf``: DCGAN's widths (the MLPs have PacGAN's sizes); ``pack``: D takes
    packs of that many samples (PacGAN: their channels, or their features, concatenated);
    ``maxout``: the MLP D's units are maxout units of that many pieces (0: LeakyReLU);
    ``minibatch_std``: D's last hidden features get the batch's standard deviation as one
    more channel; ``upsample``: how the DCGAN's G doubles its resolution (``UPSAMPLING``)."""
    if model == "dcgan":
        if len(data_shape) != 3 or data_shape[1] != data_shape[2]:
            raise ValueError(f"model 'dcgan' needs square images (C, H, W), the data has "
                             f"samples of shape {data_shape}")
        if maxout:
            raise ValueError("maxout units are the MLP discriminator's; model 'dcgan' has none")
        channels, size = data_shape[0], data_shape[1]
        G = DCGANGenerator(size, channels, nz or 100, ngf, num_classes=num_classes,
                           conditioning=g_conditioning, upsample=upsample)
        D = DCGANDiscriminator(size, channels * pack, ndf, num_classes=num_classes,
                               conditioning=d_conditioning, batchnorm=batchnorm_in_d,
                               spectral_norm=spectral_norm, minibatch_std=minibatch_std)
        return G, D
    if model == "mlp":
        if len(data_shape) != 1:
            raise ValueError(f"model 'mlp' needs vector data, the data has samples of shape {data_shape}")
        G = MLPGenerator(nz or 2, out_dim=data_shape[0], num_classes=num_classes,
                         conditioning="onehot" if g_conditioning == "onehot" else "embedding")
        D = MLPDiscriminator(data_shape[0] * pack, num_classes=num_classes,
                             spectral_norm=spectral_norm, maxout=maxout,
                             minibatch_std=minibatch_std)
        return G, D
    raise ValueError(f"unknown model {model!r}; known: dcgan, mlp")


def build_pix2pix(input_shape: tuple[int, ...], target_shape: tuple[int, ...], ngf: int = 64,
                  ndf: int = 64, batchnorm_in_d: bool = True) -> tuple[nn.Module, nn.Module]:
    """pix2pix's U-Net generator and PatchGAN discriminator for square images: inputs
    (C_in, S, S) -> targets (C_out, S, S), widths ``ngf`` and ``ndf``, the depth and patch
    size scaled with S (``scratchgan.gan.unet``, ``scratchgan.gan.patchgan``), weights
    N(0, 0.02^2) as pix2pix initialises them. ``batchnorm_in_d=False`` for a loss with a
    gradient penalty."""
    from scratchgan.gan.patchgan import PatchGANDiscriminator
    from scratchgan.gan.unet import UNetGenerator
    (c_in, h, w), (c_out, *size) = tuple(input_shape), tuple(target_shape)
    if h != w or list(size) != [h, w]:
        raise ValueError(f"pix2pix needs square inputs and targets of one size; got inputs "
                         f"{tuple(input_shape)} and targets {tuple(target_shape)} (C, H, W)")
    G = UNetGenerator(h, c_in, c_out, ngf=ngf)
    D = PatchGANDiscriminator(c_in, c_out, ndf=ndf, image_size=h, batchnorm=batchnorm_in_d)
    G.apply(dcgan_init)
    D.apply(dcgan_init)
    return G, D
