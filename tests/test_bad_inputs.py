"""A table of bad command lines (issue 12): each exits non-zero with one line on stderr
that names the input and the problem, and never a traceback. In-process (``main``) for
speed; the folder lock and Ctrl-C, which need a second process, have their own tests
(tests/gan/test_run_folder.py, test_interrupt below)."""
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from scratchgan.cli import main
from scratchgan.gan.build import build_trainer
from scratchgan.gan.config import TrainConfig


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    t = build_trainer(TrainConfig(dataset="ring8", steps=2, batch_size=8, progress=False,
                                  out=str(root / "run")))
    t.train_step()
    ckpt = t.save_checkpoint()
    (root / "a_file").write_text("x")
    (root / "folder").mkdir()
    (root / "latin1.toml").write_bytes(b'dataset = "caf\xe9"\n')
    (root / "bad.toml").write_text("steps = \n")
    (root / "not_a_zip.npz").write_bytes(b"PK nope")
    images = np.zeros((4, 8, 8), np.uint8)
    np.savez(root / "huge_label.npz", images=images, labels=np.array([0, 1, 2, 10 ** 9]))
    np.savez(root / "past_k.npz", images=images, labels=np.array([0, 1, 2, 5]),
             num_classes=np.array(3))
    return {"ROOT": str(root), "CKPT": str(ckpt)}


TRAIN = ["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "8", "--no-progress"]

CASES = [  # (argv with {ROOT}/{CKPT}/{OUT} filled in, what the line must say)
    (TRAIN + ["--lr-g", "inf"], "'lr_g' must be a finite number"),
    (TRAIN + ["--lr-d", "nan"], "'lr_d' must be a finite number"),
    (TRAIN + ["--lr-g", "-1"], "'lr_g' must be >= 0"),
    (TRAIN + ["--ema", "1.5"], "'ema' must be < 1"),
    (TRAIN + ["--label-smoothing", "2"], "'label_smoothing' must be < 1"),
    (TRAIN + ["--beta2", "1"], "'beta2' must be < 1"),
    (TRAIN + ["--out", ""], "'out' must not be empty"),
    (TRAIN + ["--steps", "0"], "'steps' must be >= 1"),
    (TRAIN + ["--nz", "100000"], "'nz' must be <= 4096"),
    (TRAIN + ["--steps", "many"], "argument --steps: invalid int value: 'many'"),
    (TRAIN + ["--loss", "nope"], "argument --loss: invalid choice: 'nope'"),
    (TRAIN + ["--dataset", "nosuch"], "nosuch"),
    (TRAIN + ["--dataset", "npz:{ROOT}/missing.npz"], "missing.npz"),
    (TRAIN + ["--dataset", "npz:{ROOT}/huge_label.npz", "--conditional"],
     "labels must be class numbers 0..K-1 with K at most 10000, found 1000000000"),
    (TRAIN + ["--dataset", "npz:{ROOT}/past_k.npz", "--conditional"],
     "labels must lie in 0..2 (num_classes = 3), found 5"),
    (TRAIN + ["--config", "{ROOT}/folder"], "config file {ROOT}/folder is a folder"),
    (TRAIN + ["--config", "{ROOT}/latin1.toml"], "config file {ROOT}/latin1.toml is not UTF-8"),
    (TRAIN + ["--config", "{ROOT}/bad.toml"], "config file {ROOT}/bad.toml is not valid TOML"),
    (TRAIN + ["--config", "{ROOT}/none.toml"], "config file {ROOT}/none.toml does not exist"),
    (TRAIN + ["--out", "{ROOT}/a_file/run"], "{ROOT}/a_file"),
    (TRAIN + ["--out", "{ROOT}/run"], "already holds checkpoints"),
    (["sample", "--checkpoint", "{CKPT}", "--n", "0"], "argument --n: must be between 1"),
    (["sample", "--checkpoint", "{CKPT}", "--n", "-3"], "argument --n: must be between 1"),
    (["sample", "--checkpoint", "{ROOT}/none.npz"], "checkpoint {ROOT}/none.npz does not exist"),
    (["sample", "--checkpoint", "{ROOT}/not_a_zip.npz"], "corrupted or truncated"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/folder"], "{ROOT}/folder"),
    (["sample", "--checkpoint", "{CKPT}", "--labels", "3"], "--labels needs a conditional"),
    (["gradcheck", "--draws", "0"], "argument --draws: must be >= 1"),
    (["gradcheck", "--op", "no_such_op"], "no_such_op"),
    (["eval", "--checkpoint", "{CKPT}", "--n", "0"], "argument --n: must be >= 1"),
    (["eval", "--checkpoint", "{CKPT}", "--n", "50", "--json", "{ROOT}/folder"], "{ROOT}/folder"),
    (["translate", "--checkpoint", "{CKPT}", "--input", "{ROOT}", "--out", "{ROOT}/t",
      "--batch-size", "0"], "argument --batch-size: must be >= 1"),
    (["translate", "--checkpoint", "{CKPT}", "--input", "{ROOT}", "--out", "{ROOT}/t"],
     "not a pix2pix translator"),
    (["explain", "--batch", "0"], "argument --batch: must be >= 1"),
]


@pytest.mark.parametrize("argv, says", CASES, ids=[" ".join(a[len(TRAIN) if a[0] == "train"
                                                                else 0:])[-60:] for a, _ in CASES])
def test_a_bad_input_gets_one_named_line(files, argv, says, capsys):
    argv = [a.format(**files) for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:          # argparse's errors
        code = e.code
    out, err = capsys.readouterr()
    assert code not in (0, None), out
    assert "Traceback" not in err + out
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("scratchgan"), err
    assert says.format(**files) in lines[0], err
    assert not list(__import__("pathlib").Path(files["ROOT"]).rglob("*.tmp"))


def test_an_npz_may_give_its_number_of_classes(tmp_path):
    from scratchgan.data.image_files import load_npz_images
    np.savez(tmp_path / "k.npz", images=np.zeros((4, 8, 8), np.uint8),
             labels=np.array([0, 1, 1, 0]), num_classes=np.array(5))
    assert load_npz_images(tmp_path / "k.npz")[2] == 5


FULL_DISK = """
import resource, sys
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[1]), int(sys.argv[1])))
from scratchgan.cli import main
sys.exit(main(["train", "--dataset", "ring8", "--steps", "4", "--batch-size", "8",
               "--no-progress", "--checkpoint-every", "2", "--out", sys.argv[2]]))
"""


@pytest.mark.parametrize("limit", [300, 20_000])
def test_a_full_disk_is_named_and_leaves_no_temporary_file(tmp_path, limit):
    """A file-size limit (EFBIG, as a full disk gives ENOSPC) while the run writes its
    config, samples or checkpoints: one line naming the path and the cause, and the last
    good checkpoint; no .tmp left behind."""
    out = tmp_path / "run"
    proc = subprocess.run([sys.executable, "-c", FULL_DISK, str(limit), str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"scratchgan train: {out}") and "File too large" in line
    assert "no checkpoint was written yet" in line or "the last good checkpoint is" in line
    assert not list(out.rglob("*.tmp"))
