"""`scratchgan train --task pix2pix`, `translate` and `eval` end to end on a tiny run
(edges2digits: made offline, no download)."""
import json

import numpy as np
import pytest

from scratchgan.cli import main
from scratchgan.data import load_paired

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("p2p") / "run"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SCRATCHGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))
        assert main(["train", "--task", "pix2pix", "--dataset", "edges2digits", "--steps", "2",
                     "--batch-size", "4", "--ngf", "4", "--ndf", "4", "--ema", "0.9",
                     "--sample-every", "1", "--score-n", "12", "--no-progress",
                     "--out", str(out)]) == 0
    assert (out / "samples" / "step-0000001.png").read_bytes()[:8] == PNG
    assert (out / "final_grid.png").read_bytes()[:8] == PNG
    return out / "checkpoints" / "ckpt-0000002.npz"


def test_translate_an_npz_and_a_folder(tmp_path, checkpoint, capsys):
    inputs = load_paired("edges2digits", "test", seed=1, n=3).inputs
    np.savez(tmp_path / "edges.npz", images=inputs)
    assert main(["translate", "--checkpoint", str(checkpoint), "--input",
                 str(tmp_path / "edges.npz"), "--out", str(tmp_path / "out")]) == 0
    assert "translated 3 images" in capsys.readouterr().out
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["00000.png", "00001.png", "00002.png"]
    assert (tmp_path / "out" / "00000.png").read_bytes()[:8] == PNG
    # the PNGs written are inputs again: a folder of them translates, names kept
    (tmp_path / "edges").mkdir()
    from scratchgan.gan.translate import write_images
    write_images(inputs, ["a", "b", "c"], tmp_path / "edges")
    assert main(["translate", "--checkpoint", str(checkpoint), "--input",
                 str(tmp_path / "edges"), "--out", str(tmp_path / "out2")]) == 0
    assert sorted(p.name for p in (tmp_path / "out2").iterdir()) == ["a.png", "b.png", "c.png"]


def test_translate_errors_are_named(tmp_path, checkpoint, capsys):
    np.savez(tmp_path / "big.npz", images=np.zeros((2, 1, 32, 32), np.float32))
    assert main(["translate", "--checkpoint", str(checkpoint), "--input",
                 str(tmp_path / "big.npz"), "--out", str(tmp_path / "o")]) == 1
    assert "(1, 32, 32), but this translator takes (1, 28, 28)" in capsys.readouterr().err
    assert main(["translate", "--checkpoint", str(checkpoint), "--input",
                 str(tmp_path / "nothing"), "--out", str(tmp_path / "o")]) == 1
    assert "no such file or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["translate", "--checkpoint", str(checkpoint), "--input",
                 str(tmp_path / "empty"), "--out", str(tmp_path / "o")]) == 1
    assert "no .png or .jpg files" in capsys.readouterr().err
    gan = tmp_path / "gan"
    assert main(["train", "--dataset", "ring8", "--steps", "1", "--batch-size", "8",
                 "--no-progress", "--out", str(gan)]) == 0
    gan_ckpt = next((gan / "checkpoints").glob("*.npz"))
    assert main(["translate", "--checkpoint", str(gan_ckpt), "--input",
                 str(tmp_path / "big.npz"), "--out", str(tmp_path / "o")]) == 1
    assert "not a pix2pix translator: draw samples from it with scratchgan sample" in \
        capsys.readouterr().err
    assert main(["sample", "--checkpoint", str(checkpoint), "--out", str(tmp_path / "s.png")]) == 1
    err = capsys.readouterr().err
    assert "pix2pix translator" in err and "translate images with scratchgan translate" in err


def test_eval_reports_l1_psnr_and_accuracy_against_the_ceiling(tmp_path, checkpoint, capsys):
    target = tmp_path / "scores.json"
    assert main(["eval", "--checkpoint", str(checkpoint), "--n", "30", "--json", str(target)]) == 0
    out = capsys.readouterr().out
    assert "translating 30 held-out pairs" in out
    for name in ("L1", "PSNR", "accuracy", "ceiling"):
        assert name in out
    result = json.loads(target.read_text())
    assert result["kind"] == "translation" and result["n"] == 30 and result["step"] == 2
    assert 0 <= result["l1"] <= 2 and np.isfinite(result["psnr"])
    assert 0 <= result["accuracy"] <= 1 and result["ceiling"] > 0.75
    assert result["classifier"] == "mnist"


def test_train_errors_for_the_wrong_task(tmp_path, capsys):
    assert main(["train", "--dataset", "edges2digits", "--out", str(tmp_path / "a")]) == 1
    assert "train it with --task pix2pix" in capsys.readouterr().err
    assert main(["train", "--task", "pix2pix", "--dataset", "digits", "--out",
                 str(tmp_path / "b")]) == 1
    assert "'digits' holds no pairs" in capsys.readouterr().err
    assert main(["train", "--task", "pix2pix", "--dataset", "edges2digits", "--conditional",
                 "--out", str(tmp_path / "c")]) == 1
    assert "does not take conditional = True" in capsys.readouterr().err


def test_translate_never_replaces_an_input(tmp_path, checkpoint, capsys):
    """Issue 26: --out = --input would replace the inputs with their translations, and
    a.png, a.jpg, a.JPEG would all land in one a.png; a PNG that scratchgan did not write
    is kept unless --overwrite."""
    from scratchgan.gan.translate import write_images
    inputs = load_paired("edges2digits", "test", seed=1, n=3).inputs
    folder = tmp_path / "edges"
    folder.mkdir()
    write_images(inputs[:2], ["a", "b"], folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    translate = ["translate", "--checkpoint", str(checkpoint), "--input", str(folder)]
    assert main(translate + ["--out", str(folder)]) == 1
    assert "is the input folder" in capsys.readouterr().err
    (folder / "a.jpg").write_bytes((folder / "a.png").read_bytes())   # PNG bytes, .jpg name
    assert main(translate + ["--out", str(tmp_path / "t")]) == 1
    err = capsys.readouterr().err
    assert "a.jpg, a.png would all be translated into a.png; rename all but one" in err
    (folder / "a.jpg").unlink()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before
    out = tmp_path / "t"
    out.mkdir()
    (out / "a.png").write_text("the user's own file")
    assert main(translate + ["--out", str(out)]) == 1
    assert f"{out / 'a.png'} already exists and scratchgan did not write it" in \
        capsys.readouterr().err
    assert (out / "a.png").read_text() == "the user's own file"
    assert main(translate + ["--out", str(out), "--overwrite"]) == 0
    assert main(translate + ["--out", str(out)]) == 0        # its own outputs: replaced
    assert (out / "a.png").read_bytes()[:8] == PNG


def test_a_paired_folder_without_val_is_never_scored_on_training_pairs(tmp_path, capsys):
    """Issue 26: without val/ a run trains (its grid shows training pairs), says it has no
    held-out pairs to score, and eval refuses rather than calling training pairs held-out."""
    from scratchgan.gan.translate import write_images
    pairs = load_paired("edges2digits", "train", seed=0, n=8)
    (tmp_path / "pairs" / "train").mkdir(parents=True)
    write_images(np.concatenate([pairs.inputs, pairs.targets], axis=3),
                 [f"{i}" for i in range(8)], tmp_path / "pairs" / "train")
    out = tmp_path / "run"
    assert main(["train", "--task", "pix2pix", "--dataset", f"paired:{tmp_path / 'pairs'}",
                 "--steps", "1", "--batch-size", "4", "--ngf", "4", "--ndf", "4",
                 "--no-progress", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert "no scores.json at the end:" in said and "has no val/ folder" in said
    assert not (out / "scores.json").exists()
    assert main(["eval", "--checkpoint", str(out / "checkpoints" / "ckpt-0000001.npz")]) == 1
    assert "has no val/ folder" in capsys.readouterr().err


def test_translate_to_an_npz_keeps_the_arrays_and_the_names(tmp_path, checkpoint, capsys):
    from scratchgan.gan.translate import write_images
    inputs = load_paired("edges2digits", "test", seed=1, n=3).inputs
    write_images(inputs, ["a", "b", "c"], tmp_path)
    out = tmp_path / "t.npz"
    translate = ["translate", "--checkpoint", str(checkpoint), "--input", str(tmp_path),
                 "--out", str(out)]
    assert main(translate) == 0 and main(translate) == 0     # its own file: replaced
    with np.load(out) as npz:
        assert list(npz["names"]) == ["a", "b", "c"]
        images = npz["images"]
    assert images.shape == (3, 1, 28, 28) and images.dtype == np.float32
    assert -1 <= images.min() and images.max() <= 1
    assert main(["translate", "--checkpoint", str(checkpoint), "--input", str(tmp_path),
                 "--out", str(tmp_path / "t")]) == 0
    from matplotlib.image import imread
    again = imread(tmp_path / "t" / "b.png")           # the PNG holds the same pixels
    grey = again[..., 0] if again.ndim == 3 else again
    assert np.abs(grey - (images[1, 0] + 1) / 2).max() <= 2 / 255   # 8-bit pixels
