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
    assert dot.read_text().startswith("digraph backward {")


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
