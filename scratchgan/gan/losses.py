"""GAN losses, written as the papers write them and computed from logits.

D(x) = sigmoid(l(x)) for the BCE-based losses, where l is the discriminator's
logit; log D = log_sigmoid(l) and log(1 - D) = log_sigmoid(-l) are computed
stably. For WGAN, WGAN-GP and hinge the "logit" is the critic's raw score.
Every function returns a scalar Tensor (a mean over the batch).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from scratchgan import functions as F
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
class GANLoss:
    """A discriminator loss, a generator loss, and whether D's output is a
    probability logit (then D(x) is reported as sigmoid(logit)) or a critic score."""
    d_loss: Callable[..., Tensor]
    g_loss: Callable[[Tensor], Tensor]
    logits_are_probabilities: bool


LOSSES: dict[str, GANLoss] = {
    "minimax": GANLoss(d_loss_bce, g_loss_minimax, True),
    "nonsaturating": GANLoss(d_loss_bce, g_loss_nonsaturating, True),
    "wgan": GANLoss(d_loss_wgan, g_loss_wgan, False),
    "wgan-gp": GANLoss(d_loss_wgan, g_loss_wgan, False),
    "lsgan": GANLoss(d_loss_lsgan, g_loss_lsgan, False),
    "hinge": GANLoss(d_loss_hinge, g_loss_wgan, False),
}
