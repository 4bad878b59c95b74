"""``scratchgan explain``: one training step of a recipe, its graph and a live check.

Builds G and D of the recipe (``dcgan`` on the embedded digits, ``mlp`` on the ring of
eight Gaussians) at tiny widths, computes what one D update (or G update) of a training
run computes (``GANTask.d_loss`` / ``g_loss``, the loss's penalties included) on a tiny
batch, and prints the loss's backward graph with each node's formula and shapes, then the
finite-difference check of every node (first order; second order at the nodes a
gradient penalty differentiates). The step runs under ``detect_anomaly(check_nan=False)``,
so the graph says which Functions were made by which backward. :func:`explain_checkpoint`
does the same for a saved run (``scratchgan explain --checkpoint P``): its loss, task and
models from the checkpoint's config, with its trained weights, on a tiny batch.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from scratchgan.autograd.tensor import Tensor
from scratchgan.inspect.anomaly import detect_anomaly
from scratchgan.inspect.check import GraphCheck, check_graph
from scratchgan.inspect.graph import Graph, graph

MODELS = ("dcgan", "mlp")


@dataclass
class Explained:
    """What ``explain`` computed: the loss, its graph, the check and a description."""
    loss: Tensor
    graph: Graph
    check: GraphCheck | None
    title: str
    formulas: bool = True

    def to_text(self) -> str:
        parts = [self.title, "", self.graph.to_text(self.formulas)]
        if self.check is not None:
            parts += ["", self.check.to_text()]
        return "\n".join(parts)


def build_step(loss_name: str, model: str = "dcgan", side: str = "d", batch: int = 2,
               seed: int = 0) -> tuple[Tensor, dict, str]:
    """(L_D or L_G of one step, {"G": G, "D": D}, a one-line description)."""
    from scratchgan.data import load_dataset
    from scratchgan.gan.losses import make_loss
    from scratchgan.gan.models import (DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,
                                       MLPGenerator)
    from scratchgan.gan.tasks import GANTask
    from scratchgan.random import manual_seed

    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")
    if side not in ("d", "g"):
        raise ValueError(f"side must be 'd' or 'g', got {side!r}")
    loss = make_loss(loss_name)
    manual_seed(seed)
    if model == "dcgan":
        dataset, nz = load_dataset("digits", "train", seed, n=batch), 8
        G = DCGANGenerator(28, 1, nz=nz, ngf=2)
        D = DCGANDiscriminator(28, 1, ndf=2, batchnorm=loss.batchnorm_in_d)
        sizes = "DCGAN at widths ngf = ndf = 2, nz = 8, on the embedded digits"
    else:
        dataset, nz = load_dataset("ring8", "train", seed, n=batch), 2
        G = MLPGenerator(nz, hidden=4, depth=1, out_dim=2)
        D = MLPDiscriminator(2, hidden=4, depth=1)
        sizes = "MLPs of one hidden layer of 4 units, nz = 2, on the ring of 8 Gaussians"
    task = GANTask(dataset, nz, 0, batch, "cpu", seed)
    rng = np.random.default_rng(seed)
    data = task.place((dataset.data[:batch], None))
    if side == "d":
        L, _ = task.d_loss(G, D, loss, data, rng)
        what = "L_D, one critic update" if not loss.reads_probabilities else "L_D, one D update"
    else:
        L, _ = task.g_loss(G, D, loss, data, rng)
        what = "L_G, one G update"
    title = f"{loss_name}: {what} on a batch of {batch}; {sizes}"
    return L, {"G": G, "D": D}, title


def explain(loss_name: str, model: str = "dcgan", side: str = "d", batch: int = 2,
            seed: int = 0, check: bool = True, formulas: bool = True) -> Explained:
    """Build the step (:func:`build_step`) with creation sites recorded, its graph, and
    (``check``) the live check of every node."""
    with detect_anomaly(check_nan=False):
        L, modules, title = build_step(loss_name, model, side, batch, seed)
    g = graph(L, names=modules)
    report = check_graph(L, names=modules, seed=seed) if check else None
    return Explained(L, g, report, title, formulas)


def build_checkpoint_step(path: str, side: str = "d", batch: int = 2,
                          seed: int = 0) -> tuple[Tensor, dict, str]:
    """(L_D or L_G of one step, {"G": G, "D": D}, a one-line description) of the run saved in
    the checkpoint at ``path``: its loss, task and models from the checkpoint's config (at
    their trained widths, with their trained weights, G's and not its EMA's), on a batch of
    ``batch`` drawn by the run's own loader, on the CPU."""
    import dataclasses
    import tempfile

    from scratchgan.distributed.comm import SingleProcess
    from scratchgan.gan import checkpoint
    from scratchgan.gan.build import build_trainer
    from scratchgan.gan.config import saved_config
    from scratchgan.random import manual_seed

    if side not in ("d", "g"):
        raise ValueError(f"side must be 'd' or 'g', got {side!r}")
    state = checkpoint.load(path)
    saved = state.get("config")
    if not isinstance(saved, dict) or "G" not in state or "D" not in state:
        raise checkpoint.CheckpointError(f"{path} has no config, G or D to explain")
    with tempfile.TemporaryDirectory() as out:   # the trainer's folder: nothing is written
        config = dataclasses.replace(saved_config(saved), batch_size=batch, ema=0.0, out=out,
                                     progress=False, device="cpu", eval_every=0)
        t = build_trainer(config, comm=SingleProcess())
    try:
        t.G.load_state_dict(state["G"])
        t.D.load_state_dict(state["D"])
    except (KeyError, ValueError) as e:
        raise checkpoint.CheckpointError(f"{path}: its weights do not fit its config: {e}") from None
    manual_seed(seed)
    rng = np.random.default_rng(seed)
    data = t.task.place(next(t.batches))
    if side == "d":
        L, _ = t.task.d_loss(t.G, t.D, t.loss, data, rng)
        what = "L_D, one D update" if t.loss.reads_probabilities else "L_D, one critic update"
    else:
        L, _ = t.task.g_loss(t.G, t.D, t.loss, data, rng)
        what = "L_G, one G update"
    model = state.get("model", config.model)
    title = (f"{config.loss}: {what} on a batch of {batch}; {model} of {path} (step "
             f"{state.get('step')}), {config.dataset}")
    return L, {"G": t.G, "D": t.D}, title


def explain_checkpoint(path: str, side: str = "d", batch: int = 2, seed: int = 0,
                       check: bool = True, formulas: bool = True) -> Explained:
    """:func:`explain` on a saved run (:func:`build_checkpoint_step`)."""
    with detect_anomaly(check_nan=False):
        L, modules, title = build_checkpoint_step(path, side, batch, seed)
    g = graph(L, names=modules)
    report = check_graph(L, names=modules, seed=seed) if check else None
    return Explained(L, g, report, title, formulas)


DOC_COMMAND = ("wgan-gp", "mlp")   # the walk-through in docs/studying-gradients.md and README


def formula_table(g: Graph, derivatives: str = "derivatives.md") -> str:
    """A Markdown table of the Functions in ``g``: each one's formula, linked to its
    family's table in docs/derivatives.md."""
    from scratchgan.docgen import functions_by_family
    family = {cls.__name__: fam for fam, classes in functions_by_family().items()
              for cls in classes}
    lines = ["| Function | nodes | gradients (from its docstring) | table |",
             "| --- | --- | --- | --- |"]
    for name, count in sorted(g.counts().items()):
        formula = next(n.formula for n in g if n.name == name).replace("|", "\\|")
        where = family.get(name)
        link = f"[{where}]({derivatives}#{where})" if where else "(not a shipped op)"
        lines.append(f"| `{name}` | {count} | {formula} | {link} |")
    return "\n".join(lines)


def docs_page() -> str:
    """docs/studying-gradients.md: the walk-through's command, its full output, and every
    formula it shows linked to docs/derivatives.md."""
    loss, model = DOC_COMMAND
    result = explain(loss, model)
    command = f"scratchgan explain --loss {loss} --model {model}"
    return "\n".join([
        "# Studying gradients: `scratchgan explain` on WGAN-GP",
        "",
        f"Generated by `python -m scratchgan.inspect.explain` (it runs `{command}`); the "
        "README walks through it. The relative errors depend on the machine's floating-point "
        "library in their last digits.",
        "",
        "## Every formula in the graph",
        "",
        "Each Function of the graph below, the formula its node applies (its docstring's "
        "`Gradients:` section, which `to_text()` prints under the node), and its row in "
        "[derivatives.md](derivatives.md), where the shapes and the double-backward "
        "formulas are too.",
        "",
        formula_table(result.graph),
        "",
        "## The output",
        "",
        "```",
        f"$ {command}",
        result.to_text(),
        "```",
        ""])


def main() -> int:
    from scratchgan.docgen import DOC_PATH
    from scratchgan.io import atomic_write
    path = DOC_PATH.parent / "studying-gradients.md"
    with atomic_write(path, "w") as fh:
        fh.write(docs_page())
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
