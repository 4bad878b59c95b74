"""A table of bad command lines (issue 12): each exits non-zero with one line on stderr
that names the input and the problem, and never a traceback. In-process (``main``) for
speed; the folder lock and Ctrl-C, which need a second process, have their own tests
(tests/gan/test_run_folder.py, test_interrupt below)."""
import os
import signal
import subprocess
import sys
import time

import zipfile

import matplotlib.image
import numpy as np
import pytest

from scratchgan.cli import main
from scratchgan.gan.build import build_trainer
from scratchgan.gan.checkpoint import load as load_checkpoint, save as save_checkpoint
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
    (root / "fast.toml").write_text('lr_g = "fast"\n')
    (root / "mine.png").write_bytes(b"\x89PNG\r\n\x1a\n a picture of the user's")
    images = np.zeros((4, 8, 8), np.uint8)
    np.savez(root / "huge_label.npz", images=images, labels=np.array([0, 1, 2, 10 ** 9]))
    np.savez(root / "past_k.npz", images=images, labels=np.array([0, 1, 2, 5]),
             num_classes=np.array(3))
    np.savez(root / "sparse.npz", images=images, labels=np.array([0, 1000, 0, 1000]))
    with zipfile.ZipFile(root / "no_arrays.npz", "w") as z:
        z.writestr("readme.txt", "no arrays here")
    (root / "text.npz").write_text("images = 1, 2, 3\n")
    for split, side in (("train", 8), ("val", 4)):            # val/ of another size
        (root / "pairs" / split).mkdir(parents=True)
        matplotlib.image.imsave(root / "pairs" / split / "0.png", np.zeros((side, 2 * side)),
                                cmap="gray")
    c = build_trainer(TrainConfig(dataset="digits", conditional=True, ngf=4, ndf=4, steps=1,
                                  batch_size=8, progress=False, out=str(root / "cond")))
    cond = c.save_checkpoint()
    state = load_checkpoint(ckpt)                 # G's batch norm with a negative variance
    for weights in (state["G"], state["G_ema"]):
        name = next(k for k in weights if k.endswith("running_var"))
        weights[name] = -np.abs(weights[name]) - 1
    save_checkpoint(root / "negative_var.npz", state)
    return {"ROOT": str(root), "CKPT": str(ckpt), "COND": str(cond)}


TRAIN = ["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "8", "--no-progress",
         "--out", "{ROOT}/fresh"]   # never the working directory's runs/default

CASES = [  # (argv with {ROOT}/{CKPT}/{OUT} filled in, what the line must say)
    (TRAIN + ["--lr-g", "inf"], "'lr_g' must be a finite number"),
    (TRAIN + ["--lr-d", "nan"], "'lr_d' must be a finite number"),
    (TRAIN + ["--lr-g", "-1"], "'lr_g' must be >= 0"),
    (TRAIN + ["--ema", "1.5"], "'ema' must be < 1"),
    (TRAIN + ["--label-smoothing", "2"], "'label_smoothing' must be < 1"),
    (TRAIN + ["--beta2", "1"], "'beta2' must be < 1"),
    (TRAIN + ["--out", ""], "'out' must not be empty"),
    (TRAIN + ["--seed", "-1"], "'seed' must be >= 0"),
    (TRAIN + ["--batch-size", "1"], "'batch_size' must be >= 2"),
    (TRAIN + ["--pack", "4", "--batch-size", "4"], "must give D at least 2 packs of 4"),
    (TRAIN + ["--maxout", "1"], "'maxout' must be 0 (LeakyReLU) or at least 2"),
    (TRAIN + ["--config", "{ROOT}/fast.toml", "--lr-g", "1e-3"],
     "config key 'lr_g' must be a float, got 'fast' (in {ROOT}/fast.toml)"),
    (TRAIN + ["--g-conditioning", "onehot"], "does not take g_conditioning = 'onehot'"),
    (TRAIN + ["--direction", "BtoA"], "does not take direction = 'BtoA'"),
    (TRAIN + ["--l1-weight", "5"], "does not take l1_weight = 5.0"),
    (TRAIN + ["--loss", "hinge", "--gp-weight", "5"], "does not take gp_weight = 5.0"),
    (TRAIN + ["--task", "pix2pix", "--dataset", "edges2digits", "--nz", "8"],
     "does not take nz = 8"),
    (TRAIN + ["--resume", "--overwrite"], "--resume and --overwrite"),
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
    (TRAIN + ["--dataset", "npz:{ROOT}/sparse.npz", "--conditional"],
     "labels leave classes 1..999 with no images"),
    (TRAIN + ["--dataset", "npz:{ROOT}/no_arrays.npz"], "holds no arrays"),
    (TRAIN + ["--dataset", "npz:{ROOT}/text.npz"], "is not an .npz file"),
    (TRAIN + ["--dataset", "npz:{ROOT}/folder"], "is a folder, not an .npz file"),
    (TRAIN + ["--task", "pix2pix", "--dataset", "paired:{ROOT}/pairs"],
     "val/ must share train/'s size"),
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
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/folder"],
     "2-D samples are points, not images"),
    (["sample", "--checkpoint", "{CKPT}", "--labels", "3"], "--labels needs a conditional"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{CKPT}"], "is an input of this command"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/run"],
     "{ROOT}/run is a run folder"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/run/final_grid.png"],
     "is a file of the run folder {ROOT}/run"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/s.jpg"], "must end in .png or .npz"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/s.txt"], "must end in .png"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "-"], "standard output is not supported"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/nowhere/s.png"],
     "folder {ROOT}/nowhere does not exist"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/mine.png"],
     "{ROOT}/mine.png already exists and scratchgan did not write it: pass --overwrite"),
    (["sample", "--checkpoint", "{ROOT}/run/checkpoints"],
     "checkpoint {ROOT}/run/checkpoints is a folder"),
    (["sample", "--checkpoint", "{CKPT}", "--seed", "-1"], "argument --seed: must be >= 0"),
    (["sample", "--checkpoint", "{CKPT}", "--out", "{ROOT}/run/config.toml"], "must end in .png"),
    (["sample", "--checkpoint", "{COND}", "--labels", "9-0"], "the range 9-0 runs backwards"),
    (["sample", "--checkpoint", "{ROOT}/negative_var.npz"], "running_var"),
    (["translate", "--checkpoint", "{CKPT}", "--input", "{ROOT}", "--out", "{ROOT}"],
     "is the input folder"),
    (["eval", "--checkpoint", "{CKPT}", "--json", "{CKPT}"], "must end in .json"),
    (["eval", "--checkpoint", "{CKPT}", "--json", "{ROOT}/run/scores.json"],
     "is a file of the run folder {ROOT}/run"),
    (["eval", "--checkpoint", "{CKPT}", "--seed", "-2"], "argument --seed: must be >= 0"),
    (["explain", "--dot", "{ROOT}/folder"], "--dot {ROOT}/folder is a folder"),
    (["explain", "--seed", "-1"], "argument --seed: must be >= 0"),
    (["bench", "--json", "{ROOT}/folder"], "--json {ROOT}/folder is a folder"),
    (["bench", "--max-wait", "-1"], "--max-wait must be a finite number of seconds >= 0"),
    (["gradcheck", "--op", "tanh", "--seed", "-1"], "argument --seed: must be >= 0"),
    (["gradcheck", "--draws", "0"], "argument --draws: must be >= 1"),
    (["gradcheck", "--op", "no_such_op"], "no_such_op"),
    (["eval", "--checkpoint", "{CKPT}", "--n", "0"], "argument --n: must be >= 1"),
    (["eval", "--checkpoint", "{CKPT}", "--n", "50", "--json", "{ROOT}/folder"],
     "--json {ROOT}/folder is a folder"),
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
    assert not os.path.exists(f"{files['ROOT']}/fresh"), "a refused run wrote its folder"
    with open(files["CKPT"], "rb") as fh:
        assert fh.read(2) == b"PK", "the checkpoint was written over"


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


def test_ctrl_c_wrapped_by_numba_is_an_interrupt(monkeypatch, capsys):
    """Ctrl-C inside a Numba kernel's call can surface as a SystemError whose cause is the
    KeyboardInterrupt: still one line and status 130, not a traceback."""
    import scratchgan.gradcheck_report as report

    def interrupted(*args, **kwargs):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as e:
            raise SystemError("CPUDispatcher returned a result with an exception set") from e
    monkeypatch.setattr(report, "run", interrupted)
    assert main(["gradcheck", "--op", "tanh"]) == 130
    assert capsys.readouterr().err == "scratchgan gradcheck: interrupted\n"
