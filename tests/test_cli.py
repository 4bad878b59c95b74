"""The command line, end to end on tiny runs."""
import json

import pytest

from scratchgan.cli import main

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def cache(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("SCRATCHGAN_CACHE", str(tmp_path_factory.getbasetemp() / "cache"))


def test_train_resume_and_sample(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--dataset", "ring8", "--steps", "4", "--batch-size", "16", "--no-progress",
            "--checkpoint-every", "2", "--out", str(out)]
    assert main(args) == 0
    assert main(args[:4] + ["6"] + args[5:] + ["--resume"]) == 0
    assert "resuming" in capsys.readouterr().out
    ckpt = out / "checkpoints" / "ckpt-0000006.npz"
    assert ckpt.exists()
    assert main(["sample", "--checkpoint", str(ckpt), "--n", "50", "--out", str(tmp_path / "s.png")]) == 0
    assert (tmp_path / "s.png").read_bytes()[:8] == PNG


def test_conditional_digits_sample_by_label(tmp_path, capsys):
    out = tmp_path / "cond"
    assert main(["train", "--conditional", "--steps", "1", "--batch-size", "8", "--no-progress",
                 "--score-n", "40", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "scores at step 1, 40 samples" in printed and "label accuracy" in printed
    scores = json.loads((out / "scores.json").read_text())
    assert scores["step"] == 1 and scores["n"] == 40
    assert 0 <= scores["label_accuracy"] <= 1 and len(scores["label_accuracy_per_class"]) == 10
    ckpt = next((out / "checkpoints").glob("*.npz"))
    png = tmp_path / "labels.png"
    assert main(["sample", "--checkpoint", str(ckpt), "--labels", "3,7", "--n", "20",
                 "--out", str(png)]) == 0
    assert main(["sample", "--checkpoint", str(ckpt), "--interpolate", "--n", "20",
                 "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == PNG
    # one label for every row of a 3-row interpolation (it was cut to the first row's 10)
    assert main(["sample", "--checkpoint", str(ckpt), "--interpolate", "--labels", "4",
                 "--n", "30", "--out", str(png)]) == 0


def test_errors_are_named_and_exit_nonzero(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text("lerning_rate = 0.1\n")
    assert main(["train", "--config", str(bad), "--out", str(tmp_path / "x")]) == 1
    assert "unknown config key 'lerning_rate'" in capsys.readouterr().err
    assert main(["train", "--batch-size", "0", "--out", str(tmp_path / "x")]) == 1
    assert "'batch_size' must be >= 2" in capsys.readouterr().err
    corrupt = tmp_path / "c.npz"
    corrupt.write_bytes(b"not a zip")
    assert main(["sample", "--checkpoint", str(corrupt)]) == 1
    assert "corrupted or truncated" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["train", "--no-such-option"])


def test_gradcheck_verb(capsys):
    assert main(["gradcheck", "--op", "conv2d", "--op", "batch_norm_grad"]) == 0
    out = capsys.readouterr().out
    assert "conv2d" in out and "4 passed, 0 failed" in out
