"""inspect.check_graph: a finite-difference check at every node of a live graph."""
import numpy as np
import pytest

import scratchgan as sg
from scratchgan import Function
from scratchgan import functions as F
from scratchgan import inspect as si
from scratchgan.gan.losses import make_loss
from scratchgan.gan.models import DCGANDiscriminator, DCGANGenerator
from scratchgan.testing import GradcheckError


class WrongScale(Function):
    """Test only: y = 2 x with a backward that returns 3 gy.

    Shapes:    x: any; y: like x
    Gradients: gx = 3 gy (wrong on purpose: 2 gy is right)
    """

    def forward(self, x):
        return x * x.dtype.type(2.0)

    def backward(self, gy):
        return gy * 3.0


def dcgan_step(batchnorm=True, seed=0):
    rng = np.random.default_rng(seed)
    D = DCGANDiscriminator(28, 1, ndf=4, batchnorm=batchnorm)
    G = DCGANGenerator(28, 1, nz=8, ngf=4)
    real = rng.standard_normal((2, 1, 28, 28)).astype(np.float32)
    fake = G(sg.Tensor(rng.standard_normal((2, 8)).astype(np.float32)))
    return D, G, real, fake, rng


def test_every_shipped_op_of_a_dcgan_step_passes():
    D, G, real, fake, _ = dcgan_step()
    loss = make_loss("nonsaturating").d_term(D(real), D(fake))   # fake keeps G's graph
    report = si.check_graph(loss, names={"D": D, "G": G})
    assert report.ok, report.to_text()
    names = {r.node.name for r in report.results}
    assert {"Conv2d", "ConvTranspose2d", "BatchNormLeakyReLU", "Linear", "Tanh",
            "BCEWithLogits", "Reshape"} <= names
    assert all(r.order == 1 for r in report.results)
    assert report.worst(1) < 1e-5


def test_a_wrong_backward_inserted_in_a_dcgan_graph_is_named_at_its_node():
    D, G, real, fake, _ = dcgan_step()
    handle = D.features[2].register_forward_hook(lambda m, args, out: WrongScale()(out))
    loss = make_loss("nonsaturating").d_term(D(real), D(fake.data))
    handle.remove()
    report = si.check_graph(loss)
    assert {r.node.name for r in report.failures} == {"WrongScale"}
    assert len(report.failures) == 2                 # one per D call
    assert all(abs(r.rel_err - 0.5) < 1e-6 for r in report.failures)   # 3 against 2
    text = report.to_text()
    assert "FAIL" in text and "WrongScale" in text
    with pytest.raises(GradcheckError, match="WrongScale"):
        si.check_graph(loss, raise_on_failure=True)


def test_inputs_restrict_the_check_to_the_nodes_leading_to_them():
    D, G, real, fake, _ = dcgan_step()
    loss = make_loss("nonsaturating").d_term(D(real), D(fake))
    only_d = si.check_graph(loss, inputs=list(D.parameters()))
    everything = si.check_graph(loss)
    assert len(only_d.results) < len(everything.results)
    assert "ConvTranspose2d" not in {r.node.name for r in only_d.results}


def test_the_penalty_nodes_are_checked_at_second_order_and_a_wrong_double_backward_is_named():
    D, _, real, fake, rng = dcgan_step(batchnorm=False)
    loss = make_loss("wgan-gp")
    L = loss.d_loss(D(real), D(fake.data), D, real, fake.data, rng)
    report = si.check_graph(L, names={"D": D})
    assert report.ok, report.to_text()
    second = [r for r in report.results if r.order == 2]
    assert {r.node.name for r in second} == {"Conv2d", "LeakyReLU"}
    first = {r.node.name for r in report.results if r.order == 1}
    assert {"LeakyReLUGrad", "ConvTranspose2d", "Sqrt"} <= first   # the penalty's own graph

    class WrongSigmoid(Function):
        """Test only: the sigmoid, whose backward detaches one factor of its output.

        Shapes:    x: any; y: like x
        Gradients: gx = gy * y * (1 - y), right; its own derivative misses the detached term
        """

        def forward(self, x):
            return 1.0 / (1.0 + np.exp(-x))

        def backward(self, gy):
            y = self.output()
            return gy * y * (1.0 - y.detach())

    x = sg.Tensor(np.array([0.5, -1.5, 2.0]), requires_grad=True)
    (g,) = sg.grad(F.sum(WrongSigmoid()(x) * 3.0), x, create_graph=True)
    report = si.check_graph(F.sum(g * g))
    bad = [(r.node.name, r.order) for r in report.failures]
    assert bad == [("WrongSigmoid", 2)], report.to_text()
