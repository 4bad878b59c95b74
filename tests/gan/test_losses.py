"""Each loss against its textbook formula; the penalties on a critic with a known gradient."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import functions as F
from scratchgan.gan import losses as L
from scratchgan.testing import check_backward

rng = np.random.default_rng(0)
REAL, FAKE = rng.standard_normal(7) * 3, rng.standard_normal(7) * 3


def D(v):
    return 1 / (1 + np.exp(-v))


CASES = [
    (lambda r, f: L.d_loss_bce(r, f), lambda r, f: -np.mean(np.log(D(r))) - np.mean(np.log(1 - D(f)))),
    (lambda r, f: L.d_loss_bce(r, f, real_label=0.9),
     lambda r, f: -np.mean(0.9 * np.log(D(r)) + 0.1 * np.log(1 - D(r))) - np.mean(np.log(1 - D(f)))),
    (lambda r, f: L.g_loss_minimax(f), lambda r, f: np.mean(np.log(1 - D(f)))),
    (lambda r, f: L.g_loss_nonsaturating(f), lambda r, f: -np.mean(np.log(D(f)))),
    (lambda r, f: L.d_loss_wgan(r, f), lambda r, f: np.mean(f) - np.mean(r)),
    (lambda r, f: L.g_loss_wgan(f), lambda r, f: -np.mean(f)),
    (lambda r, f: L.d_loss_lsgan(r, f), lambda r, f: 0.5 * np.mean((r - 1) ** 2) + 0.5 * np.mean(f ** 2)),
    (lambda r, f: L.g_loss_lsgan(f), lambda r, f: 0.5 * np.mean((f - 1) ** 2)),
    (lambda r, f: L.d_loss_hinge(r, f),
     lambda r, f: np.mean(np.maximum(0, 1 - r)) + np.mean(np.maximum(0, 1 + f))),
]


@pytest.mark.parametrize("ours,formula", CASES)
def test_loss_matches_formula_and_gradchecks(ours, formula):
    got = ours(sg.Tensor(REAL), sg.Tensor(FAKE)).item()
    assert got == pytest.approx(formula(REAL, FAKE), rel=1e-12)
    check_backward(lambda r, f: ours(r, f), [REAL, FAKE + 0.05])  # off hinge kinks


def test_every_named_loss_is_registered():
    assert set(L.LOSSES) == {"minimax", "nonsaturating", "wgan", "wgan-gp", "lsgan", "hinge"}


def test_a_loss_is_data_that_says_what_it_needs():
    options = L.LossOptions(label_smoothing=0.1, gp_weight=5.0, clip=0.02)
    said = {name: (loss.reads_probabilities, loss.batchnorm_in_d, loss.clip, loss.penalties)
            for name, loss in ((n, L.make_loss(n, options)) for n in L.LOSSES)}
    assert said == {"minimax": (True, True, None, ()), "nonsaturating": (True, True, None, ()),
                    "wgan": (False, True, 0.02, ()),
                    "wgan-gp": (False, False, None, (L.GradientPenalty(5.0),)),
                    "lsgan": (False, True, None, ()), "hinge": (False, True, None, ())}
    r1 = L.make_loss("hinge", L.LossOptions(r1_weight=2.0))
    assert r1.penalties == (L.R1Penalty(2.0),) and not r1.batchnorm_in_d
    smoothed = L.make_loss("minimax", options).d_term(sg.Tensor(REAL), sg.Tensor(FAKE))
    assert smoothed.item() == L.d_loss_bce(sg.Tensor(REAL), sg.Tensor(FAKE), 0.9).item()


def test_clipping_and_the_reported_output():
    from scratchgan import nn
    layer = nn.Linear(3, 2)
    layer.weight.data[...] = 5.0
    L.make_loss("wgan", L.LossOptions(clip=0.5)).constrain(layer)
    assert np.all(layer.weight.data == 0.5) and np.all(np.abs(layer.bias.data) <= 0.5)
    L.make_loss("hinge").constrain(layer)                     # no clipping: nothing changes
    assert np.all(layer.weight.data == 0.5)
    out = sg.Tensor(np.array([[0.0], [2.0]]))
    assert L.make_loss("minimax").mean_output(out) == pytest.approx(np.mean(D(out.data)))
    assert L.make_loss("wgan").mean_output(out) == 1.0


def test_an_unknown_loss_is_named():
    with pytest.raises(ValueError, match="unknown loss 'wgan-x'; known: minimax"):
        L.make_loss("wgan-x")


def linear_critic(w):
    return lambda x: F.matmul(F.flatten(x), w)


def test_gradient_penalty_of_a_linear_critic():
    # D(x) = <x, w>: grad_x D = w everywhere, so GP = (||w|| - 1)^2 and R1 = ||w||^2
    w = rng.standard_normal((12, 1))
    real, fake = rng.standard_normal((5, 3, 2, 2)), rng.standard_normal((5, 3, 2, 2))
    gp = L.gradient_penalty(linear_critic(sg.Tensor(w)), real, fake, np.random.default_rng(1))
    assert gp.item() == pytest.approx((np.linalg.norm(w) - 1) ** 2, rel=1e-9)
    r1 = L.r1_penalty(linear_critic(sg.Tensor(w)), real)
    assert r1.item() == pytest.approx(np.sum(w ** 2), rel=1e-9)


def test_gradient_penalty_gradient_wrt_critic_weights():
    # d/dw (||w|| - 1)^2 = 2 (||w|| - 1) w / ||w||, through double backward
    w = sg.Tensor(rng.standard_normal((12, 1)), requires_grad=True)
    real, fake = rng.standard_normal((4, 12)), rng.standard_normal((4, 12))
    L.gradient_penalty(linear_critic(w), real, fake, np.random.default_rng(2)).backward()
    n = np.linalg.norm(w.data)
    np.testing.assert_allclose(w.grad.data, 2 * (n - 1) * w.data / n, rtol=1e-9)


def test_penalties_are_finite_for_a_flat_critic():
    w = sg.Tensor(np.zeros((4, 1)), requires_grad=True)
    gp = L.gradient_penalty(linear_critic(w), np.ones((3, 4)), np.zeros((3, 4)),
                            np.random.default_rng(0))
    gp.backward()
    assert gp.item() == pytest.approx(1.0, abs=1e-5) and np.all(np.isfinite(w.grad.data))
