"""scratchgan explain: one step of a recipe, its graph with formulas, the live check."""
from scratchgan.cli import main


def test_explain_wgan_gp_prints_the_graph_with_formulas_and_the_live_check(capsys, tmp_path):
    dot = tmp_path / "graph.dot"
    assert main(["explain", "--loss", "wgan-gp", "--model", "mlp", "--dot", str(dot)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("wgan-gp: L_D, one critic update on a batch of 2")
    assert "#0 Add -> () float32" in out
    assert "Sqrt -> (2,) float32" in out and "Gradients: gx = gy / (2 y)" in out
    assert "LeakyReLUGrad" in out and "(from the backward of #" in out   # the penalty's graph
    assert "leaf D.body.0.weight (4, 2) float32" in out
    assert "at second order (the nodes a penalty differentiates)" in out
    assert "all nodes agree" in out and "FAIL" not in out
    assert dot.read_text().startswith("// written by scratchgan explain\ndigraph backward {")


def test_explain_dcgan_generator_side_without_the_check(capsys):
    assert main(["explain", "--loss", "nonsaturating", "--side", "g", "--no-check"]) == 0
    out = capsys.readouterr().out
    assert "L_G, one G update" in out and "ConvTranspose2d" in out and "live" not in out


def test_explain_rejects_an_unknown_loss(capsys):
    try:
        main(["explain", "--loss", "nope"])
    except SystemExit as e:
        assert e.code == 2
    assert "invalid choice" in capsys.readouterr().err


def _train(tmp_path, *options):
    out = tmp_path / "run"
    assert main(["train", "--steps", "2", "--checkpoint-every", "2", "--no-progress",
                 "--score-n", "0", "--out", str(out), *options]) == 0
    return out / "checkpoints" / "ckpt-0000002.npz"


def test_explain_a_checkpoint_takes_loss_and_model_from_its_config(capsys, tmp_path):
    path = _train(tmp_path, "--dataset", "ring8", "--loss", "wgan-gp", "--batch-size", "16")
    capsys.readouterr()
    assert main(["explain", "--checkpoint", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"wgan-gp: L_D, one critic update on a batch of 2; mlp of {path} "
                          f"(step 2), ring8")
    assert "Sqrt -> (2,) float32" in out and "LeakyReLUGrad" in out   # the penalty's graph
    assert "leaf D.body.0.weight" in out and "at second order" in out
    assert "all nodes agree" in out and "FAIL" not in out


def test_explain_a_conditional_dcgan_checkpoint_generator_side(capsys, tmp_path):
    path = _train(tmp_path, "--loss", "hinge", "--conditional", "--batch-size", "8", "--ema", "0")
    capsys.readouterr()
    assert main(["explain", "--checkpoint", str(path), "--side", "g", "--batch", "3",
                 "--no-check"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("hinge: L_G, one G update on a batch of 3; dcgan of")
    assert "ConvTranspose2d" in out and "leaf G.label_input.embed.weight (10, 50)" in out
    assert "leaf G.body.4.weight (128, 64, 4, 4)" in out      # the trained widths (ngf 32)


def test_explain_checkpoint_refuses_loss_or_model_and_names_a_bad_file(capsys, tmp_path):
    assert main(["explain", "--checkpoint", str(tmp_path / "x.npz"), "--loss", "hinge"]) == 2
    assert "takes the loss and the model from the checkpoint" in capsys.readouterr().err
    assert main(["explain", "--checkpoint", str(tmp_path / "x.npz")]) == 1
    assert "x.npz does not exist" in capsys.readouterr().err
