"""Weights out and in, in safetensors (``scratchgan.gan.export``): the DCGAN-28's tensors
load into PyTorch modules of the reference architecture as they are and compute the same
images and logits; every other model round-trips under our own names; bad inputs are
named; ``init_from`` starts a new run from a file and a resume keeps it.

The PyTorch modules are defined here, following ``shared/reference/dcgan_torch.py``
layer for layer and name for name: importing that file sets thread variables in
``os.environ``, pins torch's thread count and puts its folder on ``sys.path``, and the
tests never depend on ``../shared``. Where the file exists,
``test_the_torch_modules_here_are_the_references`` checks (in a subprocess, which keeps
those side effects out of this one) that its modules have exactly these names and shapes.
"""
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from scratchgan.cli import main
from scratchgan.config import no_grad
from scratchgan.gan import checkpoint
from scratchgan.gan.checkpoint import CheckpointError
from scratchgan.gan.config import make_config
from scratchgan.gan.export import (WeightsError, export_weights, import_weights,
                                   read_weights, torch_dcgan_shapes)
from scratchgan.gan.models import build_models
from scratchgan.gan.outputs import written_by_scratchgan
from scratchgan.gan.run import Run

REFERENCE = Path(__file__).resolve().parents[3] / "shared" / "reference" / "dcgan_torch.py"
NGF = NDF = 4
needs_safetensors = pytest.mark.skipif(importlib.util.find_spec("safetensors") is None,
                                       reason="safetensors is not installed "
                                              "(pip install 'scratchgan[safetensors]')")


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """A 2-step unconditional DCGAN-28 run on the embedded digits, ngf = ndf = 4."""
    out = tmp_path_factory.mktemp("export") / "run"
    assert main(["train", "--dataset", "digits", "--steps", "2", "--batch-size", "8",
                 "--ngf", str(NGF), "--ndf", str(NDF), "--no-progress", "--score-n", "0",
                 "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def ckpt(run_folder):
    return run_folder / "checkpoints" / "ckpt-0000002.npz"


def export_cli(*argv):
    return main(["export", *argv])


def dcgan(state):
    """Our G (G_ema weights) and D of a checkpoint state, in eval mode."""
    G, D = build_models("dcgan", (1, 28, 28), ngf=NGF, ndf=NDF)
    G.load_state_dict(state["G_ema"])
    D.load_state_dict(state["D"])
    return G.eval(), D.eval()


def torch_modules(torch):
    """The reference's Generator and Discriminator (shared/reference/dcgan_torch.py)."""
    nn, F = torch.nn, torch.nn.functional

    class Generator(nn.Module):
        def __init__(self, nz=100, ngf=64):
            super().__init__()
            self.ngf = ngf
            self.fc = nn.Linear(nz, 4 * ngf * 7 * 7, bias=False)
            self.bn0 = nn.BatchNorm1d(4 * ngf * 7 * 7)
            self.ct1 = nn.ConvTranspose2d(4 * ngf, 2 * ngf, 4, 2, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(2 * ngf)
            self.ct2 = nn.ConvTranspose2d(2 * ngf, ngf, 4, 2, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(ngf)
            self.conv = nn.Conv2d(ngf, 1, 3, 1, 1)

        def forward(self, z):
            h = F.relu(self.bn0(self.fc(z)))
            h = h.view(-1, 4 * self.ngf, 7, 7)
            h = F.relu(self.bn1(self.ct1(h)))
            h = F.relu(self.bn2(self.ct2(h)))
            return torch.tanh(self.conv(h))

    class Discriminator(nn.Module):
        def __init__(self, ndf=64):
            super().__init__()
            self.c1 = nn.Conv2d(1, ndf, 4, 2, 1)
            self.c2 = nn.Conv2d(ndf, 2 * ndf, 4, 2, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(2 * ndf)
            self.fc = nn.Linear(2 * ndf * 7 * 7, 1)

        def forward(self, x):
            h = F.leaky_relu(self.c1(x), 0.2)
            h = F.leaky_relu(self.bn2(self.c2(h)), 0.2)
            return self.fc(h.flatten(1))

    return Generator, Discriminator


@needs_safetensors
def test_pytorch_loads_the_dcgan_export_as_it_is_and_computes_the_same(ckpt, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file, save_file
    Generator, Discriminator = torch_modules(torch)
    assert export_cli("--checkpoint", str(ckpt), "--out", str(tmp_path / "G.safetensors")) == 0
    assert export_cli("--checkpoint", str(ckpt), "--out", str(tmp_path / "D.safetensors"),
                      "--what", "D") == 0
    tG, tD = Generator(100, NGF), Discriminator(NDF)
    g_file, d_file = load_file(tmp_path / "G.safetensors"), load_file(tmp_path / "D.safetensors")
    assert g_file["bn0.num_batches_tracked"].dtype == torch.int64
    assert g_file["bn0.num_batches_tracked"].shape == ()
    assert g_file["fc.weight"].dtype == torch.float32
    tG.load_state_dict(g_file)              # strict: every name, every shape
    tD.load_state_dict(d_file)
    tG.eval(), tD.eval()

    state = checkpoint.load(ckpt)
    G, D = dcgan(state)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((16, 100)).astype(np.float32)
    real = np.clip(rng.standard_normal((16, 1, 28, 28)), -1, 1).astype(np.float32)
    with no_grad():
        ours = G(z).data
        ours_fake, ours_real = D(ours).data, D(real).data
    with torch.no_grad():
        theirs = tG(torch.from_numpy(z)).numpy()
        theirs_fake = tD(torch.from_numpy(ours)).numpy()
        theirs_real = tD(torch.from_numpy(real)).numpy()
    np.testing.assert_allclose(theirs, ours, atol=1e-5, rtol=0)
    np.testing.assert_allclose(theirs_fake, ours_fake, atol=1e-6, rtol=1e-4)
    np.testing.assert_allclose(theirs_real, ours_real, atol=1e-6, rtol=1e-4)
    assert np.ptp(ours) > 0.01 and np.ptp(ours_real) > 0      # not a constant output

    # weights trained in PyTorch: its own save_file, no scratchgan metadata, into our G
    with torch.no_grad():
        for p in tG.parameters():
            p.add_(0.01 * torch.randn_like(p))
        tG.bn1.running_mean.add_(0.1)
        theirs = tG(torch.from_numpy(z)).numpy()
    save_file(tG.state_dict(), tmp_path / "torch_G.safetensors")
    G2, _ = build_models("dcgan", (1, 28, 28), ngf=NGF, ndf=NDF)
    assert import_weights(tmp_path / "torch_G.safetensors", G=G2) == ["G <- G"]
    with no_grad():
        np.testing.assert_allclose(G2.eval()(z).data, theirs, atol=1e-5, rtol=0)


@pytest.mark.skipif(not REFERENCE.is_file(), reason=f"{REFERENCE} is absent (it lives in "
                    f"the shared folder beside the checkout)")
def test_the_torch_modules_here_are_the_references():
    torch = pytest.importorskip("torch")
    probe = (
        "import importlib.util, json, sys\n"
        f"spec = importlib.util.spec_from_file_location('dcgan_torch', {str(REFERENCE)!r})\n"
        "ref = importlib.util.module_from_spec(spec); spec.loader.exec_module(ref)\n"
        f"G, D = ref.Generator(100, {NGF}), ref.Discriminator({NDF})\n"
        "print(json.dumps({n: {k: list(v.shape) for k, v in m.state_dict().items()}"
        " for n, m in (('G', G), ('D', D))}))\n")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    reference = json.loads(done.stdout.strip().splitlines()[-1])
    Generator, Discriminator = torch_modules(torch)
    for name, module in (("G", Generator(100, NGF)), ("D", Discriminator(NDF))):
        here = {k: list(v.shape) for k, v in module.state_dict().items()}
        assert here == reference[name]
        assert {k: tuple(v) for k, v in here.items()} == torch_dcgan_shapes(name, 100, NGF, NDF)


@needs_safetensors
def test_all_round_trips_exactly_and_carries_its_metadata(ckpt, tmp_path):
    out = tmp_path / "all.safetensors"
    export_weights(ckpt, out, "all")
    state = checkpoint.load(ckpt)
    back = read_weights(out)
    meta = back.metadata
    assert (meta["format"], meta["what"], meta["modules"], meta["naming"], meta["model"],
            meta["step"]) == ("scratchgan", "all", "G,D,G_ema", "torch-dcgan", "dcgan", "2")
    rebuilt = json.loads(meta["config"])
    assert (rebuilt["ngf"], rebuilt["ndf"], rebuilt["data_shape"], rebuilt["num_classes"],
            rebuilt["g_upsample"]) == (NGF, NDF, [1, 28, 28], 0, "transposed")
    assert back.names["D"]["features.0.weight"] == "D.c1.weight"
    for module in ("G", "D", "G_ema"):
        assert back.modules[module].keys() == state[module].keys()
        for key, array in state[module].items():
            assert back.modules[module][key].dtype == array.dtype
            np.testing.assert_array_equal(back.modules[module][key], array)
    G, D = build_models("dcgan", (1, 28, 28), ngf=NGF, ndf=NDF)
    G_ema, _ = build_models("dcgan", (1, 28, 28), ngf=NGF, ndf=NDF)
    assert import_weights(out, G=G, D=D, G_ema=G_ema) == ["G <- G", "D <- D", "G_ema <- G_ema"]
    for module, key in ((G, "G"), (D, "D"), (G_ema, "G_ema")):
        for name, array in module.state_dict().items():
            np.testing.assert_array_equal(array, state[key][name])


@needs_safetensors
def test_other_models_keep_our_names(tmp_path):
    G, D = build_models("dcgan", (1, 28, 28), num_classes=10, ngf=NGF, ndf=NDF)
    path = checkpoint.save(tmp_path / "ckpt-0000000.npz", {
        "step": 0, "config": {"ngf": NGF, "ndf": NDF, "conditional": True},
        "model": "dcgan", "data_shape": [1, 28, 28], "num_classes": 10,
        "G": dict(G.state_dict()), "D": dict(D.state_dict())})
    out = tmp_path / "G.safetensors"
    export_weights(path, out, "G")
    back = read_weights(out)
    assert back.metadata["naming"] == "scratchgan"
    assert back.names["G"] == {k: k for k in G.state_dict()}      # our names, unprefixed
    G2, _ = build_models("dcgan", (1, 28, 28), num_classes=10, ngf=NGF, ndf=NDF)
    import_weights(out, G=G2)
    for name, array in G2.state_dict().items():
        np.testing.assert_array_equal(array, G.state_dict()[name])


@needs_safetensors
def test_bad_inputs_are_named(ckpt, tmp_path, capsys):
    out = tmp_path / "w.safetensors"
    missing = tmp_path / "nope.npz"
    assert export_cli("--checkpoint", str(missing), "--out", str(out)) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"checkpoint {missing} does not exist" in err

    no_ema = tmp_path / "no_ema.npz"
    state = checkpoint.load(ckpt)
    del state["G_ema"]
    checkpoint.save(no_ema, state)
    with pytest.raises(CheckpointError, match="holds no G_ema weights.*ema = 0.*--what G"):
        export_weights(no_ema, out, "G_ema")
    with pytest.raises(WeightsError, match="--what must be one of G, D, G_ema, all"):
        export_weights(ckpt, out, "E")
    assert not out.exists()

    with pytest.raises(WeightsError, match=f"weights file {tmp_path / 'absent.safetensors'} "
                                           f"does not exist"):
        read_weights(tmp_path / "absent.safetensors")
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"these are not tensors")
    with pytest.raises(WeightsError, match=f"{junk} is not a safetensors weights file"):
        read_weights(junk)

    export_weights(ckpt, out, "G_ema")
    wider, _ = build_models("dcgan", (1, 28, 28), ngf=2 * NGF, ndf=NDF)
    with pytest.raises(WeightsError) as e:
        import_weights(out, G=wider)
    assert str(e.value) == (f"{out}: tensor fc.weight has shape ({4 * NGF * 49}, 100) in the "
                            f"file but ({8 * NGF * 49}, 100) in this run's G (body.0.weight)")
    _, D = build_models("dcgan", (1, 28, 28), ngf=NGF, ndf=NDF)
    with pytest.raises(WeightsError, match="holds G_ema weights, none of the modules asked"):
        import_weights(out, D=D)
    mlp, _ = build_models("mlp", (2,))
    with pytest.raises(WeightsError, match=r"its G_ema is not this run's G \(no tensor for "
                                           r"its body.0.bias, .*; tensors it lacks: bn1.bias, "
                                           r".*\); the file was written for model dcgan, "
                                           r"data_shape \[1, 28, 28\], num_classes 0, nz 0, "
                                           rf"ngf {NGF}, ndf {NDF}$"):
        import_weights(out, G=mlp)


@needs_safetensors
def test_a_rewrite_needs_no_overwrite_but_a_users_file_does(ckpt, tmp_path, capsys):
    out = tmp_path / "G.safetensors"
    assert export_cli("--checkpoint", str(ckpt), "--out", str(out)) == 0
    assert written_by_scratchgan(out)
    assert export_cli("--checkpoint", str(ckpt), "--out", str(out), "--what", "all") == 0
    assert read_weights(out).metadata["what"] == "all"
    mine = tmp_path / "mine.safetensors"
    mine.write_bytes(b"my own bytes")
    assert not written_by_scratchgan(mine)
    capsys.readouterr()
    assert export_cli("--checkpoint", str(ckpt), "--out", str(mine)) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert mine.read_bytes() == b"my own bytes"
    assert export_cli("--checkpoint", str(ckpt), "--out", str(mine), "--overwrite") == 0
    assert written_by_scratchgan(mine)
    assert export_cli("--checkpoint", str(ckpt), "--out", str(tmp_path / "G.npz")) == 1
    assert "must end in .safetensors" in capsys.readouterr().err


def test_without_safetensors_export_names_the_package(ckpt, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "safetensors", None)      # import safetensors fails
    assert export_cli("--checkpoint", str(ckpt), "--out", str(tmp_path / "G.safetensors")) == 1
    err = capsys.readouterr().err
    assert err == ("scratchgan export: weights files need the safetensors package: "
                   "pip install 'scratchgan[safetensors]'\n")
    assert not (tmp_path / "G.safetensors").exists()


@needs_safetensors
def test_init_from_starts_a_new_run_and_a_resume_must_keep_it(ckpt, run_folder, tmp_path):
    weights = tmp_path / "all.safetensors"
    export_weights(ckpt, weights, "all")
    state = checkpoint.load(ckpt)
    config = make_config(dataset="digits", steps=2, batch_size=8, ngf=NGF, ndf=NDF,
                         progress=False, score_n=0, out=str(tmp_path / "new"),
                         init_from=str(weights))
    run = Run(config)
    try:
        assert run.notes == [f"init_from {weights}: G <- G, D <- D, G_ema <- G_ema"]
        t = run.trainer
        for module, key in ((t.G, "G"), (t.D, "D"), (t.ema.average, "G_ema")):
            for name, array in module.state_dict().items():
                np.testing.assert_array_equal(array, state[key][name])
    finally:
        run.close()
    wrong = make_config(dataset="digits", steps=3, batch_size=8, ngf=NGF, ndf=NDF,
                        progress=False, score_n=0, out=str(run_folder), init_from=str(weights))
    with pytest.raises(CheckpointError, match=r"different config \(init_from: '' there"):
        Run(wrong, resume=True)
