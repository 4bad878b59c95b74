"""`scratchgan eval` end to end on tiny runs (no dataset files needed)."""
import json

import pytest

from scratchgan.cli import main


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def train(tmp_path, *options):
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--batch-size", "8", "--no-progress", "--out", str(out),
                 "--score-n", "0", *options]) == 0
    return next((out / "checkpoints").glob("ckpt-*.npz"))


def test_eval_digits_writes_json_beside_the_checkpoint(tmp_path, capsys):
    ckpt = train(tmp_path, "--conditional")
    assert main(["eval", "--checkpoint", str(ckpt), "--n", "40", "--reference-n", "100",
                 "--batch-size", "20", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "digits dataset holds 28x28 digits framed like MNIST's" in out and "FD" in out
    result = json.loads(ckpt.with_suffix(".eval.json").read_text())
    assert result["dataset"] == "digits" and result["classifier"] == "mnist"
    assert result["n"] == 40 and result["seed"] == 3 and result["step"] == 2
    assert result["fd"] >= 0 and 1 <= result["is_mean"] <= 10 and result["is_std"] >= 0
    assert 0 <= result["precision"] <= 1 and 0 <= result["recall"] <= 1
    assert result["kid_std"] >= 0 and 0 <= result["classes_covered"] <= 10
    assert sum(result["class_histogram"]) == 40
    assert 0 <= result["min_class_share"] <= result["max_class_share"] <= 1


def test_eval_ring8_mode_statistics_to_a_named_json(tmp_path, capsys):
    ckpt = train(tmp_path, "--dataset", "ring8")
    target = tmp_path / "scores" / "ring.json"
    argv = ["eval", "--checkpoint", str(ckpt), "--n", "500", "--json", str(target)]
    assert main(argv) == 1                  # no folder is made on the way
    assert f"folder {target.parent} does not exist" in capsys.readouterr().err
    target.parent.mkdir()
    assert main(argv) == 0
    assert "modes captured" in capsys.readouterr().out
    result = json.loads(target.read_text())
    assert result["kind"] == "points" and result["num_modes"] == 8
    assert 0 <= result["modes_captured"] <= 8 and 0 <= result["high_quality_fraction"] <= 1


def test_real_baseline_and_errors(tmp_path, capsys):
    assert main(["eval", "--real", "digits", "--n", "60", "--reference-n", "100"]) == 0
    assert "60 real images of the digits training split" in capsys.readouterr().out
    assert main(["eval", "--checkpoint", str(tmp_path / "missing.npz")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["eval", "--real", "ring8"]) == 1
    assert "2-D mixture" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["eval", "--real", "digits", "--checkpoint", "x.npz"])
