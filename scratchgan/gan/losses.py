"""GAN losses, written as the papers write them and computed from logits.

D(x) = sigmoid(l(x)) for the BCE-based losses, where l is the discriminator's
logit; log D = log_sigmoid(l) and log(1 - D) = log_sigmoid(-l) are computed
stably. For WGAN, WGAN-GP and hinge the "logit" is the critic's raw score.
Every function returns a scalar Tensor (a mean over the batch).

A :class:`GANLoss` gathers one loss's terms, penalties and clipping as data, and says
what it needs of D; :func:`make_loss` builds one by name from :class:`LossOptions`.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Callable

import numpy as np

from scratchgan import functions as F
from scratchgan import nn
from scratchgan.autograd import Tensor, grad
from scratchgan.backend import get_array_module


def d_loss_bce(real: Tensor, fake: Tensor, real_label: float = 1.0) -> Tensor:
    """Discriminator, minimax and non-saturating GAN (Goodfellow et al. 2014):
    L_D = -[log D(x) + log(1 - D(G(z)))], with one-sided label smoothing when
    ``real_label`` < 1 (Salimans et al. 2016): the real target becomes e.g. 0.9."""
    return F.bce_with_logits(real, real_label) + F.bce_with_logits(fake, 0.0)


def g_loss_minimax(fake: Tensor) -> Tensor:
    """Generator, the saturating minimax loss: L_G = log(1 - D(G(z))) (to be minimised)."""
    return F.mean(F.log_sigmoid(-fake))


def g_loss_nonsaturating(fake: Tensor) -> Tensor:
    """Generator, the non-saturating loss: L_G = -log D(G(z))."""
    return -F.mean(F.log_sigmoid(fake))


def d_loss_wgan(real: Tensor, fake: Tensor) -> Tensor:
    """Critic, Wasserstein GAN (Arjovsky et al. 2017): L_D = E[D(G(z))] - E[D(x)]."""
    return F.mean(fake) - F.mean(real)


def g_loss_wgan(fake: Tensor) -> Tensor:
    """Generator, Wasserstein GAN (also used with WGAN-GP and hinge): L_G = -E[D(G(z))]."""
    return -F.mean(fake)


def d_loss_lsgan(real: Tensor, fake: Tensor) -> Tensor:
    """Discriminator, least squares GAN (Mao et al. 2017), a=0, b=1:
    L_D = 1/2 E[(D(x) - 1)^2] + 1/2 E[D(G(z))^2]."""
    return 0.5 * F.mean((real - 1.0) ** 2) + 0.5 * F.mean(fake ** 2)


def g_loss_lsgan(fake: Tensor) -> Tensor:
    """Generator, least squares GAN, c=1: L_G = 1/2 E[(D(G(z)) - 1)^2]."""
    return 0.5 * F.mean((fake - 1.0) ** 2)


def d_loss_hinge(real: Tensor, fake: Tensor) -> Tensor:
    """Discriminator, hinge loss (Lim & Ye 2017; Miyato et al. 2018):
    L_D = E[relu(1 - D(x))] + E[relu(1 + D(G(z)))]."""
    return F.mean(F.relu(1.0 - real)) + F.mean(F.relu(1.0 + fake))


def _input_gradient_norms(critic: Callable[[Tensor], Tensor], x: Tensor, eps: float) -> Tensor:
    """||grad_x sum D(x)||_2 per sample, sqrt(sum g^2 + eps) so it is never NaN at 0."""
    (g,) = grad(F.sum(critic(x)), x, create_graph=True)
    return F.sqrt(F.sum(F.flatten(g) ** 2, axis=1) + eps)


def gradient_penalty(critic: Callable[[Tensor], Tensor], real: np.ndarray, fake: np.ndarray,
                     rng: np.random.Generator, eps: float = 1e-12) -> Tensor:
    """WGAN-GP penalty (Gulrajani et al. 2017) on random interpolates
    x_hat = u x + (1 - u) G(z), u ~ U[0, 1] per sample:
    GP = E[(||grad_x_hat D(x_hat)||_2 - 1)^2]. Multiply by lambda (10) in the loss.
    ``real`` and ``fake`` are arrays (no gradient flows into G through the penalty)."""
    shape = (real.shape[0],) + (1,) * (real.ndim - 1)
    # drawn on the host (the same numbers on CPU and GPU), then moved to real's device
    u = get_array_module(real).asarray(rng.uniform(size=shape).astype(real.dtype))
    x_hat = Tensor(u * real + (1 - u) * fake, requires_grad=True)
    return F.mean((_input_gradient_norms(critic, x_hat, eps) - 1.0) ** 2)


def r1_penalty(critic: Callable[[Tensor], Tensor], real: np.ndarray) -> Tensor:
    """R1 penalty (Mescheder et al. 2018) on real data: E[||grad_x D(x)||^2].
    The loss adds gamma / 2 times this."""
    x = Tensor(real, requires_grad=True)
    (g,) = grad(F.sum(critic(x)), x, create_graph=True)
    return F.mean(F.sum(F.flatten(g) ** 2, axis=1))


@dataclass(frozen=True)
class GradientPenalty:
    """``weight * GP`` (WGAN-GP's lambda, 10 by default), through double backward."""
    weight: float

    def __call__(self, critic: Callable[[Tensor], Tensor], real: np.ndarray, fake: np.ndarray,
                 rng: np.random.Generator) -> Tensor:
        return self.weight * gradient_penalty(critic, real, fake, rng)


@dataclass(frozen=True)
class R1Penalty:
    """``gamma / 2 * R1`` on the real data, through double backward."""
    gamma: float

    def __call__(self, critic: Callable[[Tensor], Tensor], real: np.ndarray, fake: np.ndarray,
                 rng: np.random.Generator) -> Tensor:
        return 0.5 * self.gamma * r1_penalty(critic, real)


Penalty = Callable[[Callable[[Tensor], Tensor], np.ndarray, np.ndarray, np.random.Generator],
                   Tensor]


@dataclass(frozen=True)
class GANLoss:
    """A GAN loss as data: everything the trainer needs to know about it.

    d_term:              (D(x), D(G(z))) -> L_D, D's outputs as Tensors
    g_term:              D(G(z)) -> L_G
    reads_probabilities: D's output is the logit of a probability (D(x) is reported as
                         sigmoid(logit)); False: a raw critic score, reported as it is
    penalties:           terms added to L_D, each ``(critic, real, fake, rng) -> Tensor``
                         (gradient penalties, differentiated through double backward)
    clip:                after each D update, clip D's weights to [-clip, clip]; None: never
    """
    d_term: Callable[[Tensor, Tensor], Tensor]
    g_term: Callable[[Tensor], Tensor]
    reads_probabilities: bool
    penalties: tuple[Penalty, ...] = ()
    clip: float | None = None

    @property
    def batchnorm_in_d(self) -> bool:
        """Whether D may keep batch norm: not under a gradient penalty, which takes each
        sample's own input gradient (batch norm mixes the samples of a batch)."""
        return not self.penalties

    def d_loss(self, real_out: Tensor, fake_out: Tensor, critic: Callable[[Tensor], Tensor],
               real: np.ndarray, fake: np.ndarray, rng: np.random.Generator) -> Tensor:
        """L_D: the D term plus every penalty (``critic`` maps a Tensor to D's output;
        ``real`` and ``fake`` are the arrays D scored; ``rng`` draws what a penalty draws)."""
        loss = self.d_term(real_out, fake_out)
        for penalty in self.penalties:
            loss = loss + penalty(critic, real, fake, rng)
        return loss

    def constrain(self, D: nn.Module) -> None:
        """After a D update: clip D's weights in place when the loss clips (WGAN)."""
        if self.clip is None:
            return
        for p in D.parameters():
            get_array_module(p.data).clip(p.data, -self.clip, self.clip, out=p.data)

    def mean_output(self, out: Tensor) -> Any:
        """mean D(x) as the loss reads D: the probability sigmoid(logit), or the raw score
        (a 0-d float64 array on the output's device)."""
        v = out.data.astype(np.float64)
        xp = get_array_module(v)
        return xp.mean(0.5 * (1 + xp.tanh(0.5 * v))) if self.reads_probabilities else xp.mean(v)

    def with_penalty(self, penalty: Penalty) -> "GANLoss":
        """This loss with one more penalty (R1 goes with any loss)."""
        return replace(self, penalties=self.penalties + (penalty,))


@dataclass(frozen=True)
class LossOptions:
    """The numbers a loss may take: the one-sided label smoothing of the BCE losses, the
    WGAN-GP weight, the WGAN clipping bound, and R1's gamma (0: no R1; any loss)."""
    label_smoothing: float = 0.0
    gp_weight: float = 10.0
    clip: float = 0.01
    r1_weight: float = 0.0


def _bce(options: LossOptions, g_term: Callable[[Tensor], Tensor]) -> GANLoss:
    d_term = partial(d_loss_bce, real_label=1.0 - options.label_smoothing)
    return GANLoss(d_term, g_term, reads_probabilities=True)


#: every loss by name: a function of the options that builds its GANLoss
LOSSES: dict[str, Callable[[LossOptions], GANLoss]] = {
    "minimax": lambda o: _bce(o, g_loss_minimax),
    "nonsaturating": lambda o: _bce(o, g_loss_nonsaturating),
    "wgan": lambda o: GANLoss(d_loss_wgan, g_loss_wgan, False, clip=o.clip),
    "wgan-gp": lambda o: GANLoss(d_loss_wgan, g_loss_wgan, False,
                                 penalties=(GradientPenalty(o.gp_weight),)),
    "lsgan": lambda o: GANLoss(d_loss_lsgan, g_loss_lsgan, False),
    "hinge": lambda o: GANLoss(d_loss_hinge, g_loss_wgan, False),
}


def make_loss(name: str, options: LossOptions = LossOptions()) -> GANLoss:
    """The GANLoss called ``name`` with ``options`` (R1 added when ``options.r1_weight``)."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; known: {', '.join(LOSSES)}")
    loss = LOSSES[name](options)
    return loss.with_penalty(R1Penalty(options.r1_weight)) if options.r1_weight else loss
