"""Issue 26: no command writes over an input, a run's own files or a file scratchgan did
not write (``gan/outputs.py``); a resume takes the run's own settings."""
import json

import numpy as np
import pytest

from scratchgan import viz
from scratchgan.cli import main
from scratchgan.gan.config import ConfigError, TrainConfig, make_config, saved_config
from scratchgan.gan.outputs import OutputPathError, check_output_file, written_by_scratchgan
from scratchgan.gan.sample import parse_labels


def test_what_scratchgan_writes_carries_its_mark(tmp_path):
    grid = viz.save_image_grid(np.zeros((4, 1, 8, 8)), tmp_path / "g.png", nrow=2)
    assert written_by_scratchgan(grid)
    other = tmp_path / "other.png"
    other.write_bytes(grid.read_bytes().replace(b"scratchgan", b"someoneelse"))
    assert not written_by_scratchgan(other)
    (tmp_path / "a.json").write_text(json.dumps({"written_by": "scratchgan eval"}))
    (tmp_path / "b.json").write_text(json.dumps({"fd": 1.0}))
    (tmp_path / "c.json").write_text("[1, 2]")
    assert written_by_scratchgan(tmp_path / "a.json")
    assert not written_by_scratchgan(tmp_path / "b.json")
    assert not written_by_scratchgan(tmp_path / "c.json")
    assert not written_by_scratchgan(tmp_path / "missing.png")


def test_an_output_is_checked_against_the_inputs_and_the_suffix(tmp_path):
    source = tmp_path / "in.png"
    viz.save_image_grid(np.zeros((1, 1, 8, 8)), source, nrow=1)
    with pytest.raises(OutputPathError, match="is an input of this command"):
        check_output_file(source, "--out", (".png",), inputs=[source])
    with pytest.raises(OutputPathError, match="must end in .png"):
        check_output_file(tmp_path / "x.PNG.txt", "--out", (".png",))
    assert check_output_file(tmp_path / "x.PNG", "--out", (".png",)) == tmp_path / "x.PNG"


def test_sample_replaces_its_own_grid_and_a_users_file_only_with_overwrite(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "8",
                 "--no-progress", "--score-n", "0", "--out", str(out)]) == 0
    ckpt = str(out / "checkpoints" / "ckpt-0000002.npz")
    grid = tmp_path / "s.png"
    for _ in range(2):                                   # the second replaces the first
        assert main(["sample", "--checkpoint", ckpt, "--out", str(grid)]) == 0
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"\x89PNG\r\n\x1a\n the user's")
    assert main(["sample", "--checkpoint", ckpt, "--out", str(mine)]) == 1
    assert "pass --overwrite" in capsys.readouterr().err
    assert mine.read_bytes().endswith(b"the user's")
    assert main(["sample", "--checkpoint", ckpt, "--out", str(mine), "--overwrite"]) == 0
    assert written_by_scratchgan(mine)


def test_a_reversed_label_range_is_named():
    with pytest.raises(ValueError, match="the range 9-0 runs backwards; write 0-9"):
        parse_labels("9-0", 10)
    assert parse_labels("0-2,7", 10) == [0, 1, 2, 7]


def test_resume_takes_the_runs_own_settings(tmp_path, capsys):
    """The README's example: a conditional run resumed with only --steps."""
    out = str(tmp_path / "cond")
    first = ["train", "--conditional", "--ngf", "4", "--ndf", "4", "--steps", "2",
             "--batch-size", "8", "--no-progress", "--score-n", "0", "--out", out]
    assert main(first) == 0
    assert main(["train", "--out", out, "--steps", "3", "--resume", "--no-progress"]) == 0
    said = capsys.readouterr().out
    assert f"resuming {out} at step 2" in said and "done: 3 steps" in said
    assert "conditional = true" in (tmp_path / "cond" / "config.toml").read_text()
    # a key that may not change still may not: named as before
    assert main(["train", "--out", out, "--steps", "4", "--resume", "--ngf", "8"]) == 1
    assert "ngf: 4 there, 8 here" in capsys.readouterr().err


def test_a_config_files_wrong_type_is_named_even_when_overridden(tmp_path):
    bad = tmp_path / "c.toml"
    bad.write_text('lr_g = "fast"\n')
    with pytest.raises(ConfigError, match=r"'lr_g' must be a float, got 'fast' \(in "):
        make_config(bad, lr_g=1e-3)


@pytest.mark.parametrize("values, key", [
    ({"g_conditioning": "onehot"}, "g_conditioning"),
    ({"d_conditioning": "concat"}, "d_conditioning"),
    ({"direction": "BtoA"}, "direction"),
    ({"l1_weight": 5.0}, "l1_weight"),
    ({"loss": "hinge", "gp_weight": 5.0}, "gp_weight"),
    ({"loss": "lsgan", "clip": 0.1}, "clip"),
    ({"loss": "wgan-gp", "label_smoothing": 0.1}, "label_smoothing"),
    ({"task": "pix2pix", "dataset": "edges2digits", "nz": 8}, "nz"),
])
def test_an_option_that_does_nothing_is_refused(values, key):
    with pytest.raises(ConfigError, match=f"does not take {key} = "):
        TrainConfig(**values)


def test_a_saved_config_drops_what_did_nothing():
    """Checkpoints made before such keys were refused still load: the keys that did
    nothing in their run go back to their defaults."""
    config = saved_config({"loss": "hinge", "gp_weight": 5.0, "g_conditioning": "onehot",
                           "steps": 9, "a_key_from_later": 1})
    assert (config.loss, config.gp_weight, config.g_conditioning, config.steps) == \
        ("hinge", 10.0, "embedding", 9)


def test_sample_writes_a_folder_of_pngs_or_the_arrays(tmp_path, capsys):
    """Issue 25: --out DIR/ is the layout FID tools read (one PNG per sample), --out
    FILE.npz the arrays: images float32 NCHW in [-1, 1] and the labels."""
    from matplotlib.image import imread
    out = tmp_path / "cond"
    assert main(["train", "--conditional", "--ngf", "4", "--ndf", "4", "--steps", "1",
                 "--batch-size", "8", "--no-progress", "--score-n", "0", "--out", str(out)]) == 0
    ckpt = str(out / "checkpoints" / "ckpt-0000001.npz")
    assert main(["sample", "--checkpoint", ckpt, "--n", "12", "--labels", "3",
                 "--out", str(tmp_path / "s.npz")]) == 0
    with np.load(tmp_path / "s.npz") as npz:
        images, labels = npz["images"], npz["labels"]
    assert images.shape == (12, 1, 28, 28) and images.dtype == np.float32
    assert -1 <= images.min() and images.max() <= 1 and (labels == 3).all()
    assert main(["sample", "--checkpoint", ckpt, "--n", "12", "--labels", "3",
                 "--out", f"{tmp_path / 'pngs'}/"]) == 0
    files = sorted((tmp_path / "pngs").iterdir())
    assert [f.name for f in files] == [f"{i:05d}.png" for i in range(12)]
    first = imread(files[0])
    assert np.abs(first[..., 0] - (images[0, 0] + 1) / 2).max() <= 2 / 255   # 8-bit pixels
    ring = tmp_path / "ring"
    assert main(["train", "--dataset", "ring8", "--steps", "1", "--batch-size", "8",
                 "--no-progress", "--score-n", "0", "--out", str(ring)]) == 0
    assert main(["sample", "--checkpoint", str(ring / "checkpoints" / "ckpt-0000001.npz"),
                 "--out", f"{tmp_path / 'points'}/"]) == 1
    assert "2-D samples are points" in capsys.readouterr().err
