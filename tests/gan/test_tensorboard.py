"""``tensorboard = true``: the run's metrics, evaluations, scores and grids as TensorBoard
event files in <out>/tensorboard/, read back with TensorBoard's own event reader."""
import json
import os
import signal
import sys

import pytest

from scratchgan.cli import main
from scratchgan.gan.config import ConfigError, TrainConfig
from scratchgan.gan.run import Run, RunInterrupted
from scratchgan.gan.runfolder import clear_run_files, run_folder_holding

INSTALL = "pip install 'scratchgan[tensorboard]'"


def config(tmp_path, **kw):
    base = dict(dataset="ring8", steps=4, batch_size=8, log_every=1, sample_every=2,
                eval_every=2, eval_n=50, score_n=50, checkpoint_every=2,
                out=str(tmp_path / "run"), progress=False, seed=1, tensorboard=True)
    base.update(kw)
    return TrainConfig(**base)


def board(tmp_path):
    pytest.importorskip("tensorboardX")
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(tmp_path / "run" / "tensorboard"), size_guidance={"scalars": 0,
                                                                               "images": 0})
    acc.Reload()
    return acc


def steps(acc, tag, kind="scalars"):
    if tag not in acc.Tags()[kind]:
        return []
    events = acc.Scalars(tag) if kind == "scalars" else acc.Images(tag)
    return [e.step for e in events]


def read(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_run_writes_its_metrics_evaluations_scores_and_grids(tmp_path):
    pytest.importorskip("tensorboardX")
    Run(config(tmp_path)).run()
    acc = board(tmp_path)
    records = read(tmp_path / "run" / "metrics.jsonl")
    for key in ("loss_d", "loss_g", "d_real", "d_fake"):
        assert steps(acc, f"train/{key}") == [1, 2, 3, 4], key
        values = [e.value for e in acc.Scalars(f"train/{key}")]
        assert values == pytest.approx([r[key] for r in records], rel=1e-6), key
    grad = next(k for k in records[0] if k.startswith("grad_norm/G/"))
    ratio = next(k for k in records[0] if k.startswith("update_ratio/D/"))
    for tag in (grad, ratio, "d_input_grad/real", "d_input_grad/fake"):
        assert steps(acc, tag) == [1, 2, 3, 4], tag
    assert steps(acc, "eval/high_quality_fraction") == [2, 4]
    assert steps(acc, "eval/modes_captured") == [2, 4]
    scores = json.loads((tmp_path / "run" / "scores.json").read_text())
    assert steps(acc, "score/reverse_kl") == [4]
    assert acc.Scalars("score/reverse_kl")[0].value == pytest.approx(scores["reverse_kl"])
    assert steps(acc, "samples", "images") == [2, 4]
    assert steps(acc, "final_grid", "images") == [4]
    image = acc.Images("final_grid")[0]
    assert image.encoded_image_string.startswith(b"\x89PNG") and image.width > 100


def test_a_resume_hides_the_events_past_its_checkpoint(tmp_path):
    pytest.importorskip("tensorboardX")
    Run(config(tmp_path)).run()                   # steps 1-4, scored at 4
    # a crash lost the checkpoint of step 4: its events are a future the resume drops
    (tmp_path / "run" / "checkpoints" / "ckpt-0000004.npz").unlink()
    Run(config(tmp_path, steps=6, score_n=0, eval_every=0), resume=True).run()
    assert len(list((tmp_path / "run" / "tensorboard").iterdir())) == 2
    acc = board(tmp_path)
    assert steps(acc, "train/loss_d") == [1, 2, 3, 4, 5, 6]
    values = [e.value for e in acc.Scalars("train/loss_d")]
    records = read(tmp_path / "run" / "metrics.jsonl")          # the resumed run's 3-6
    assert values == pytest.approx([r["loss_d"] for r in records], rel=1e-6)
    # what only the lost future wrote is gone, what the resumed run kept stays
    assert steps(acc, "score/reverse_kl") == []
    assert steps(acc, "eval/high_quality_fraction") == [2]
    assert steps(acc, "samples", "images") == [2, 4, 6]


def test_the_event_files_are_run_files_that_overwrite_replaces(tmp_path):
    pytest.importorskip("tensorboardX")
    short = dict(steps=2, eval_every=0, score_n=0)
    Run(config(tmp_path, **short)).run()
    folder = tmp_path / "run"
    (old,) = (folder / "tensorboard").iterdir()
    assert run_folder_holding(old) == folder
    mine = folder / "tensorboard" / "notes.txt"
    mine.write_text("not a run file")
    Run(config(tmp_path, **short), overwrite=True).run()
    (new,) = set((folder / "tensorboard").iterdir()) - {mine}
    assert new != old and not old.exists() and mine.exists()
    clear_run_files(folder)
    assert list((folder / "tensorboard").iterdir()) == [mine]


def test_without_tensorboardx_the_run_is_refused_before_anything_is_written(
        tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)      # import fails
    with pytest.raises(ConfigError, match="tensorboardX") as error:
        Run(config(tmp_path))
    assert INSTALL in str(error.value) and "\n" not in str(error.value)
    assert not (tmp_path / "run").exists()
    code = main(["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "8",
                 "--out", str(tmp_path / "run"), "--no-progress", "--tensorboard"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and INSTALL in err
    assert not (tmp_path / "run").exists()


def test_without_the_key_nothing_is_imported_or_written(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    Run(config(tmp_path, steps=2, eval_every=0, score_n=0, tensorboard=False)).run()
    assert not (tmp_path / "run" / "tensorboard").exists()


def test_the_events_are_on_disk_as_each_record_is_logged(tmp_path):
    pytest.importorskip("tensorboardX")
    run = Run(config(tmp_path, steps=5, eval_every=0, score_n=0))
    step, seen = run.trainer.train_step, {}

    def reading_step():
        if run.trainer.step == 3:                # steps 1-3 logged, the run going on
            seen["loss_d"] = steps(board(tmp_path), "train/loss_d")
        return step()

    run.trainer.train_step = reading_step
    run.run()
    assert seen["loss_d"] == [1, 2, 3]


def test_a_signal_closes_the_events_and_the_resume_continues_them(tmp_path):
    pytest.importorskip("tensorboardX")
    run = Run(config(tmp_path, steps=50, eval_every=0, score_n=0, sample_every=1000))
    step = run.trainer.train_step

    def signalled_step():
        record = step()
        if run.trainer.step == 3:
            os.kill(os.getpid(), signal.SIGINT)
        return record

    run.trainer.train_step = signalled_step
    with pytest.raises(RunInterrupted):
        run.run()
    assert run.board is None and steps(board(tmp_path), "train/loss_d") == [1, 2, 3]
    Run(config(tmp_path, steps=5, eval_every=0, score_n=0, sample_every=1000),
        resume=True).run()
    acc = board(tmp_path)
    assert steps(acc, "train/loss_d") == [1, 2, 3, 4, 5]
    assert steps(acc, "final_grid", "images") == [5]
