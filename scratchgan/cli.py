"""The ``scratchgan`` command line: train, sample, translate, eval, export, bench, gradcheck,
explain."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import scratchgan_kernels
from scratchgan.backend import GPU_BACKEND, cpu_backends
from scratchgan.config import using_config


class _Parser(argparse.ArgumentParser):
    """argparse with its errors in one line (no usage block): ``scratchgan train: argument
    --steps: invalid int value: 'x' (see scratchgan train --help)``, exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _at_least(minimum: int, most: int | None = None):
    """An argparse type: an int in [minimum, most]."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer, got {text!r}") from None
        if value < minimum or (most is not None and value > most):
            bound = f"between {minimum} and {most}" if most is not None else f">= {minimum}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {value}")
        return value
    parse.__name__ = "int"
    return parse


# the CPU kernel backends by name (which of them run here is asked when a command runs:
# probing them while building the parser would import Numba, and CuPy for the GPU's)
_CPU_BACKEND_NAMES = [b for b in scratchgan_kernels.BACKENDS if b != GPU_BACKEND]


def _backend_unavailable(verb: str, backend: str) -> bool:
    """True, after one line on stderr naming ``backend`` and the CPU kernel backends that
    run here, when ``backend`` is not one of them; False when it is."""
    available = cpu_backends()
    if backend in available:
        return False
    print(f"scratchgan {verb}: CPU kernel backend {backend!r} is not available here; "
          f"available: {', '.join(available)}", file=sys.stderr)
    return True


def _gradcheck(args: argparse.Namespace) -> int:
    from scratchgan.gradcheck_report import format_table, run
    if _backend_unavailable("gradcheck", args.backend):
        return 2
    orders = (1, 2) if args.order is None else (args.order,)
    try:
        with using_config("cpu_kernels", args.backend):
            rows = run(args.op, orders, draws=args.draws, seed=args.seed)
    except KeyError as e:
        print(f"scratchgan gradcheck: {e.args[0]}", file=sys.stderr)
        return 2
    print(f"finite-difference checks in float64, backend {args.backend}, "
          f"{args.draws} random draws per op")
    print(format_table(rows))
    return 0 if all(r.ok for r in rows) else 1


def _explain(args: argparse.Namespace) -> int:
    from scratchgan.gan.checkpoint import CheckpointError
    from scratchgan.gan.outputs import check_output_file
    from scratchgan.inspect.explain import explain, explain_checkpoint
    if args.checkpoint and (args.loss or args.model):
        print("scratchgan explain: --checkpoint takes the loss and the model from the "
              "checkpoint's config; leave out --loss and --model", file=sys.stderr)
        return 2
    if _backend_unavailable("explain", args.backend):
        return 2
    options = dict(side=args.side, batch=args.batch, seed=args.seed, check=not args.no_check,
                   formulas=not args.no_formulas)
    try:
        if args.dot:
            check_output_file(args.dot, "--dot", (".dot", ".gv"), overwrite=args.overwrite,
                              inputs=[args.checkpoint] if args.checkpoint else [])
        with using_config("cpu_kernels", args.backend):
            if args.checkpoint:
                result = explain_checkpoint(args.checkpoint, **options)
            else:
                result = explain(args.loss or "wgan-gp", args.model or "dcgan", **options)
    except CheckpointError as e:
        print(f"scratchgan explain: {e}", file=sys.stderr)
        return 1
    except ValueError as e:
        print(f"scratchgan explain: {e}", file=sys.stderr)
        return 2
    print(result.to_text())
    if args.dot:
        from scratchgan.io import MARK, atomic_write
        with atomic_write(args.dot, "w") as fh:
            fh.write(f"// written by {MARK} explain\n")
            fh.write(result.graph.to_dot(formulas=not args.no_formulas))
        print(f"wrote the graph as Graphviz source to {args.dot} (render: dot -Tsvg {args.dot})")
    return 0 if result.check is None or result.check.ok else 1


def _os_error(e: OSError) -> str:
    """An OSError in one line: the path and the cause (disk full, permission denied, ...);
    for a failed rename of a temporary file, the target's path."""
    name = e.filename2 if e.filename2 is not None else e.filename
    where = f"{name}: " if name is not None else ""
    return f"{where}{e.strerror or e}"


def _train(args: argparse.Namespace) -> int:
    from scratchgan.gan.checkpoint import CheckpointError
    from scratchgan.gan.config import ConfigError, TrainConfig, make_config
    from scratchgan.distributed.launch import start_run
    from scratchgan.gan.run import RunInterrupted
    from scratchgan.gan.runfolder import RunFolderError
    from scratchgan.gan.trainer import TrainingDiverged
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(TrainConfig)}
    run = config = None

    def last_good() -> str:
        """What a stopped run keeps: its last good checkpoint, named."""
        from scratchgan.gan.checkpoint import Checkpoints
        try:
            if run is not None and getattr(run, "trainer", None) is not None:
                return f"; {run.trainer.checkpoints.describe_latest()}"
            if config is not None:
                return f"; {Checkpoints(Path(config.out) / 'checkpoints', 1).describe_latest()}"
        except RunFolderError as e:       # its checkpoints/ replaced by a file meanwhile
            return f"; {e}"
        return ""
    try:
        if args.resume and args.overwrite:
            raise ConfigError("--resume and --overwrite contradict each other: --resume "
                              "continues the run in --out, --overwrite replaces it")
        config = make_config(args.config, base=_resumed_settings(args), **overrides)
        run = start_run(config, resume=args.resume, overwrite=args.overwrite)  # Run; MPI: rank 0's
        for note in run.notes:
            print(note)
        if run.resumed:
            print(f"resuming {config.out} at step {run.trainer.step}")
        for change in run.changes:
            print(f"  {change['key']}: {change['from']!r} -> {change['to']!r} from step "
                  f"{change['step']} (recorded in {config.out}/changes.jsonl)")
        trainer = run.run()
    except RunInterrupted as e:
        print(f"scratchgan train: {e}", file=sys.stderr)
        return e.exit_status
    except KeyboardInterrupt:
        print(f"scratchgan train: interrupted again, stopped at once without a checkpoint"
              f"{last_good()}", file=sys.stderr)
        return 130
    except (ConfigError, CheckpointError, RunFolderError, FileExistsError, TrainingDiverged,
            ValueError) as e:
        if getattr(e, "anomaly", None):     # --detect-anomaly: the op that made the NaN
            print(e.anomaly, file=sys.stderr)
        print(f"scratchgan train: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"scratchgan train: {_os_error(e)}{last_good()}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"scratchgan train: out of memory (try a smaller --batch-size or model)"
              f"{last_good()}", file=sys.stderr)
        return 1
    if run.scores is not None:
        _print_scores(run.scores, f"{config.out}/scores.json")
    print(f"done: {trainer.step} steps; samples, curves and checkpoints in {config.out}/")
    return 0


def _resumed_settings(args: argparse.Namespace) -> dict | None:
    """For ``--resume``: the settings of the run being resumed, from its folder's
    config.toml (where it has one), so that the command line names only what changes;
    None for a new run. Where the folder is and how the run is shown come from this
    command, not the file."""
    from scratchgan.gan.config import UNRECORDED_KEYS, make_config, read_config_file, saved_config
    if not args.resume:
        return None
    out = args.out or make_config(args.config).out
    saved = Path(out) / "config.toml"
    if not saved.is_file():
        return None
    values = saved_config(read_config_file(saved)).to_dict()
    return {k: v for k, v in values.items() if k not in UNRECORDED_KEYS}


def _print_scores(scores: dict, where: str) -> None:
    from scratchgan.gan.evaluate import format_table
    from scratchgan.gan.translate import format_translation
    what = "held-out pairs" if scores["kind"] == "translation" else "samples"
    print(f"scores at step {scores['step']}, {scores['n']} {what}, {scores['seconds']} s "
          f"({where}):")
    print(format_translation(scores) if scores["kind"] == "translation" else format_table(scores))


def _sample(args: argparse.Namespace) -> int:
    from scratchgan.gan.checkpoint import CheckpointError
    from scratchgan.gan.outputs import check_output
    from scratchgan.gan.sample import sample, write_samples
    try:
        check_output(args.out, (".png", ".npz"), [args.checkpoint], args.overwrite)
        wrote = write_samples(sample(args.checkpoint, args.n, args.labels, args.interpolate,
                                     args.seed), args.out, args.overwrite)
    except (CheckpointError, ValueError) as e:
        print(f"scratchgan sample: {e}", file=sys.stderr)
        return 1
    print(f"wrote {wrote}")
    return 0


def _translate(args: argparse.Namespace) -> int:
    from scratchgan.gan.checkpoint import CheckpointError
    from scratchgan.gan.outputs import check_new_files, check_output_file, check_output_folder
    from scratchgan.gan.translate import (as_translate, check_inputs, load_translator,
                                          output_paths, read_images, translate_in_batches,
                                          write_translations)
    to_npz = Path(args.out).suffix.lower() == ".npz"
    try:
        if to_npz:
            check_output_file(args.out, "--out", (".npz",), [args.input, args.checkpoint],
                              args.overwrite)
        else:
            check_output_folder(args.out, "--out", inputs=[args.input])
        G, state = load_translator(args.checkpoint)
        images, names = read_images(args.input)
        if not to_npz:
            check_new_files(output_paths(names, args.out), "--out", args.overwrite)
        outputs = translate_in_batches(as_translate(G), check_inputs(images, G, args.input),
                                       args.batch_size)
        write_translations(outputs, names, args.out)
    except (CheckpointError, FileNotFoundError, ValueError) as e:  # data errors are ValueErrors
        print(f"scratchgan translate: {e}", file=sys.stderr)
        return 1
    print(f"translated {len(outputs)} images with {args.checkpoint} (step {state.get('step')}, "
          f"{state['config']['dataset']}) into {args.out}{'' if to_npz else '/'}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from scratchgan.gan.checkpoint import CheckpointError
    from scratchgan.gan.evaluate import evaluate, evaluate_real, format_table, write_json_atomically
    from scratchgan.gan.outputs import check_output_file
    from scratchgan.io import json_mark
    options = dict(n=args.n, data_dir=args.data_dir, seed=args.seed, batch_size=args.batch_size,
                   reference_n=args.reference_n)
    json_path = args.json or (Path(args.checkpoint).with_suffix(".eval.json")
                              if args.checkpoint else None)
    try:
        if json_path:
            check_output_file(json_path, "--json", (".json",), overwrite=args.overwrite,
                              inputs=[args.checkpoint] if args.checkpoint else [],
                              command_writes=("ckpt-*.eval.json",))
        if args.checkpoint:
            result = evaluate(args.checkpoint, **options)
        else:
            result = evaluate_real(args.real, **options)
    except (CheckpointError, FileNotFoundError, ValueError) as e:  # data errors are ValueErrors
        print(f"scratchgan eval: {e}", file=sys.stderr)
        return 1
    result = {**result, **json_mark("eval")}
    if result["kind"] == "translation":
        from scratchgan.gan.translate import format_translation
        print(f"{result['dataset']}: {args.checkpoint} (step {result['step']}), translating "
              f"{result['n']} held-out pairs (seed {args.seed})")
        print(format_translation(result))
        print(f"wrote {write_json_atomically(json_path, result)}")
        return 0
    source = (f"{args.checkpoint} (step {result['step']})" if args.checkpoint
              else f"{result['n']} real images of the {args.real} training split")
    print(f"{result['dataset']}: {source}, {result['n']} samples, seed {args.seed}")
    if result["kind"] == "image":
        note = ("" if result["classifier"] == result["dataset"] else
                f" (the {result['dataset']} dataset holds 28x28 digits framed like MNIST's, "
                f"so the {result['classifier']} classifier scores them)")
        print(f"features and probabilities from the {result['classifier']} classifier{note}, "
              f"against {result['reference_size']} test images")
    print(format_table(result))
    if json_path:
        print(f"wrote {write_json_atomically(json_path, result)}")
    return 0


def _bench(args: argparse.Namespace) -> int:
    from scratchgan.bench.run import run_from_args
    return run_from_args(args)


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    from scratchgan.gan.config import TrainConfig
    parser.add_argument("--config", metavar="FILE.toml", help="TOML file of config keys; "
                        "command-line options override it")
    parser.add_argument("--resume", action="store_true",
                        help="continue the run in --out from its newest checkpoint (with "
                             "none, a new run starts and says so); learning rates, betas, "
                             "steps, intervals, EMA decay, threads may change and are recorded "
                             "in changes.jsonl; architecture, loss and data may not")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace the run files (config, logs, samples, checkpoints) of a "
                             "non-empty --out that is not resumed")
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        meta = f.metadata
        help_text = f"{meta['help']} (default {f.default!r})"
        if f.type == "bool":
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                                default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=f.name, type={"int": int, "float": float}.get(f.type, str),
                                choices=meta["choices"], default=None, help=help_text)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="scratchgan", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)

    train = verbs.add_parser("train", help="train a GAN (default: DCGAN on the embedded digits), "
                                             "or a translator with --task pix2pix")
    _add_train_options(train)
    train.set_defaults(run=_train)

    smp = verbs.add_parser("sample", help="draw samples from a checkpoint into a PNG")
    smp.add_argument("--checkpoint", required=True, help="a ckpt-*.npz file")
    smp.add_argument("--n", type=_at_least(1, 100_000), default=100,
                     help="number of samples, 1 to 100000 (default 100)")
    smp.add_argument("--labels", help="for a conditional model: e.g. 0-9, 3 or 1,4,7")
    smp.add_argument("--interpolate", action="store_true",
                     help="rows interpolate between two random noise vectors")
    smp.add_argument("--seed", type=_at_least(0), default=0)
    smp.add_argument("--out", default="samples.png",
                     help="a .png: one grid (default samples.png); a folder (ending in /): "
                          "one PNG per sample, as FID tools read them; an .npz: the arrays "
                          "(images float32 NCHW in [-1, 1], labels where the model has them)")
    smp.add_argument("--overwrite", action="store_true",
                     help="replace an existing output file that scratchgan did not write")
    smp.set_defaults(run=_sample)

    tr = verbs.add_parser("translate", help="translate images with a pix2pix checkpoint "
                                            "(scratchgan train --task pix2pix)")
    tr.add_argument("--checkpoint", required=True, help="a ckpt-*.npz file of a pix2pix run")
    tr.add_argument("--input", required=True, metavar="FOLDER_OR_NPZ",
                    help="a folder of PNG or JPEG images, or an .npz of images (under 'images' "
                         "or 'x'), of the size and channels the run trained on")
    tr.add_argument("--out", required=True, metavar="FOLDER_OR_NPZ",
                    help="a folder: one translated PNG per input, named after it (not the "
                         "input folder); an .npz: the arrays, images float32 NCHW in "
                         "[-1, 1] and the input names")
    tr.add_argument("--overwrite", action="store_true",
                    help="replace existing PNGs in --out that scratchgan did not write")
    tr.add_argument("--batch-size", type=_at_least(1), default=200,
                    help="images per batch (default 200)")
    tr.set_defaults(run=_translate)

    ev = verbs.add_parser("eval", help="score a checkpoint's generator: FD, IS, KID, precision, "
                                       "recall, classes covered (images) or modes (2-D "
                                       "mixtures); a pix2pix checkpoint: L1, PSNR and digit "
                                       "accuracy on held-out pairs")
    source = ev.add_mutually_exclusive_group(required=True)
    source.add_argument("--checkpoint", help="a ckpt-*.npz file")
    source.add_argument("--real", metavar="DATASET",
                        help="score real training images instead: the real-vs-real baseline")
    ev.add_argument("--n", type=_at_least(1), default=10000, help="samples (pix2pix: held-out pairs) to "
                                                         "score (default 10000)")
    ev.add_argument("--reference-n", type=_at_least(1),
                    help="test images to score against (default: the whole test split)")
    ev.add_argument("--data-dir", help="folder holding the dataset's files (e.g. mnist/*.gz)")
    ev.add_argument("--json", help="write the results here (default: beside the checkpoint, "
                                   "as <checkpoint name>.eval.json)")
    ev.add_argument("--overwrite", action="store_true",
                    help="replace an existing output file that scratchgan did not write")
    ev.add_argument("--seed", type=_at_least(0), default=0, help="noise, labels and KID subsets")
    ev.add_argument("--batch-size", type=_at_least(1), default=200,
                    help="images per generator and classifier batch (default 200)")
    ev.set_defaults(run=_eval)

    from scratchgan.gan.export import add_parsers as add_export_parser
    add_export_parser(verbs)

    from scratchgan.bench_options import add_arguments as add_bench_options
    bench = verbs.add_parser("bench", help="time the kernels and training steps side by side "
                                           "with PyTorch (where installed) on this machine")
    add_bench_options(bench)
    bench.set_defaults(run=_bench)

    gc = verbs.add_parser("gradcheck", help="check every op's first and second derivatives "
                                            "against finite differences")
    gc.add_argument("--op", action="append", metavar="NAME",
                    help="check only this op (repeatable); default: all")
    gc.add_argument("--order", type=int, choices=(1, 2), help="only this order; default: both")
    gc.add_argument("--draws", type=_at_least(1), default=3,
                    help="random shape draws per op (default 3)")
    gc.add_argument("--seed", type=_at_least(0), default=0)
    gc.add_argument("--backend", default="numpy", metavar="|".join(_CPU_BACKEND_NAMES),
                    help="CPU kernel backend (default numpy, the reference; the GPU's "
                         "gradchecks are the gpu-marked tests)")
    gc.set_defaults(run=_gradcheck)

    from scratchgan.gan.losses import LOSSES
    ex = verbs.add_parser("explain", help="one training step of a recipe on a tiny batch: the "
                                          "loss's backward graph with each node's formula and "
                                          "shapes, then a finite-difference check of every node")
    ex.add_argument("--loss", choices=list(LOSSES), help="the GAN loss (default wgan-gp)")
    ex.add_argument("--model", choices=("dcgan", "mlp"),
                    help="dcgan on the embedded digits or mlp on the ring of 8 Gaussians, at "
                         "tiny widths (default dcgan)")
    ex.add_argument("--checkpoint", metavar="P",
                    help="a ckpt-*.npz of a run: its loss, task and models (trained widths "
                         "and weights) from its config, on a batch of --batch of its data, "
                         "instead of --loss/--model")
    ex.add_argument("--side", default="d", choices=("d", "g"),
                    help="the D update's loss (with its penalties) or the G update's")
    ex.add_argument("--batch", type=_at_least(1), default=2, help="batch size (default 2)")
    ex.add_argument("--seed", type=_at_least(0), default=0)
    ex.add_argument("--no-check", action="store_true", help="print the graph only")
    ex.add_argument("--no-formulas", action="store_true", help="leave the formulas out")
    ex.add_argument("--dot", metavar="FILE.dot", help="also write the graph as Graphviz source")
    ex.add_argument("--overwrite", action="store_true",
                    help="replace an existing output file that scratchgan did not write")
    ex.add_argument("--backend", default="numpy", metavar="|".join(_CPU_BACKEND_NAMES),
                    help="CPU kernel backend (default numpy, the reference)")
    ex.set_defaults(run=_explain)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except OSError as e:           # a file the command reads or writes: named, one line
        print(f"scratchgan {args.verb}: {_os_error(e)}", file=sys.stderr)
        return 1
    except MemoryError:
        print(f"scratchgan {args.verb}: out of memory (ask for fewer samples or a smaller "
              f"batch)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"scratchgan {args.verb}: interrupted", file=sys.stderr)
        return 130
    except SystemError as e:       # Ctrl-C inside a Numba kernel's call can arrive wrapped
        if isinstance(e.__cause__, KeyboardInterrupt):
            print(f"scratchgan {args.verb}: interrupted", file=sys.stderr)
            return 130
        raise


if __name__ == "__main__":
    sys.exit(main())
