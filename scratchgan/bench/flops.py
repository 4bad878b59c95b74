"""DCGAN-28's weight layers and the analytic FLOP count of one training step.

Multiply-adds (MACs) per sample of each layer's forward pass, counted from the shapes:

    conv2d   C -> OC, kernel k, output OH x OW:   OC * C * k * k * OH * OW
    convT    C -> OC, kernel k, input  H x W:     C * OC * k * k * H * W
             (every input pixel scatters OC * k * k products)
    linear   I -> O:                              I * O

One FLOP count per MAC is 2 (a multiply and an add). Bias adds, batch norm, activations,
losses and the optimizer are not counted (they are memory-bound and small next to the
products).

The "3x" convention for a training step: a forward pass through a network costs F (its
MACs x 2), its backward 2F (the input gradient and the weight gradient each cost one F).
For DCGAN-28, with F_G and F_D the forward FLOPs of G and D on one batch:

    D update    G forward without a graph (fake batch)               F_G
                D forward + backward on the real and the fake batch   2 x 3 F_D
    G update    G and D forward + backward                           3 F_G + 3 F_D
    step        4 F_G + 9 F_D

WGAN-GP (one critic update, one generator update) adds the penalty: a critic forward on
the interpolates plus the input gradient built with create_graph=True (a graph of about
2 F_D) and the backward through both (2 x 2 F_D), so 6 F_D more:

    step        4 F_G + 15 F_D

The convention counts a few products that a step may skip: the input gradient of D's first
conv in the D update (its input is data), that of G.fc (z needs no gradient), and D's
weight gradients in the G update (our trainer freezes D there, and so does the benchmark's
PyTorch step). GFLOP/s = step FLOPs (3x) / step time, the same count for every library.
"""
from __future__ import annotations

from dataclasses import dataclass

NZ, NGF, NDF, CHANNELS, SIZE = 100, 64, 64, 1, 28


@dataclass(frozen=True)
class Layer:
    """One weight layer: ``kind`` "conv", "convT" or "linear"; ``size`` is the (square)
    input side for the convs; for linear ``cin``/``cout`` are the in/out features."""
    key: str
    label: str
    kind: str
    cin: int
    cout: int
    size: int = 1
    k: int = 1
    s: int = 1
    p: int = 0

    @property
    def out_size(self) -> int:
        if self.kind == "conv":
            return (self.size + 2 * self.p - self.k) // self.s + 1
        if self.kind == "convT":
            return (self.size - 1) * self.s - 2 * self.p + self.k
        return 1

    @property
    def weight_shape(self) -> tuple[int, ...]:
        """PyTorch's (and scratchgan's) layout: conv (OC, C, k, k), convT (C, OC, k, k),
        linear (O, I)."""
        if self.kind == "conv":
            return (self.cout, self.cin, self.k, self.k)
        if self.kind == "convT":
            return (self.cin, self.cout, self.k, self.k)
        return (self.cout, self.cin)

    @property
    def macs_per_sample(self) -> int:
        if self.kind == "conv":
            return self.cout * self.cin * self.k * self.k * self.out_size ** 2
        if self.kind == "convT":
            return self.cin * self.cout * self.k * self.k * self.size ** 2
        return self.cin * self.cout


def dcgan28_layers(nz: int = NZ, ngf: int = NGF, ndf: int = NDF,
                   channels: int = CHANNELS) -> list[Layer]:
    """G's then D's weight layers, in network order (``scratchgan.gan.models``)."""
    g0 = 4 * ngf
    return [
        Layer("G.fc", f"G.fc Linear {nz}->{g0 * 49}", "linear", nz, g0 * 49),
        Layer("G.ct1", f"G ConvT {g0}->{2 * ngf} k4s2p1 7->14", "convT", g0, 2 * ngf, 7, 4, 2, 1),
        Layer("G.ct2", f"G ConvT {2 * ngf}->{ngf} k4s2p1 14->28", "convT", 2 * ngf, ngf, 14, 4, 2, 1),
        Layer("G.conv", f"G Conv {ngf}->{channels} k3s1p1 28x28", "conv", ngf, channels, 28, 3, 1, 1),
        Layer("D.c1", f"D Conv {channels}->{ndf} k4s2p1 28->14", "conv", channels, ndf, 28, 4, 2, 1),
        Layer("D.c2", f"D Conv {ndf}->{2 * ndf} k4s2p1 14->7", "conv", ndf, 2 * ndf, 14, 4, 2, 1),
        Layer("D.fc", f"D.fc Linear {2 * ndf * 49}->1", "linear", 2 * ndf * 49, 1),
    ]


def forward_flops(batch: int) -> dict[str, int]:
    """{"G": F_G, "D": F_D}: forward FLOPs (2 x MACs) of G and D on one batch."""
    layers = dcgan28_layers()
    return {net: 2 * batch * sum(la.macs_per_sample for la in layers if la.key.startswith(net))
            for net in ("G", "D")}


#: (multiple of F_G, multiple of F_D) per step, by benchmark section
STEP_MULTIPLIERS = {"step": (4, 9), "wgan-gp": (4, 15)}


def step_flops(batch: int, section: str = "step") -> int:
    """FLOPs of one training step in the 3x convention (see the module docstring);
    ``section`` "step" (non-saturating DCGAN: one D and one G update) or "wgan-gp"."""
    f = forward_flops(batch)
    mg, md = STEP_MULTIPLIERS[section]
    return mg * f["G"] + md * f["D"]
