"""The ``scratchgan`` command line."""
from __future__ import annotations

import argparse
import sys

import scratchgan_kernels
from scratchgan.config import using_config


def _gradcheck(args: argparse.Namespace) -> int:
    from scratchgan.gradcheck_report import format_table, run
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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchgan", description=__doc__)
    verbs = parser.add_subparsers(dest="verb", required=True)
    gc = verbs.add_parser("gradcheck", help="check every op's first and second derivatives "
                                            "against finite differences")
    gc.add_argument("--op", action="append", metavar="NAME",
                    help="check only this op (repeatable); default: all")
    gc.add_argument("--order", type=int, choices=(1, 2), help="only this order; default: both")
    gc.add_argument("--draws", type=int, default=3, help="random shape draws per op (default 3)")
    gc.add_argument("--seed", type=int, default=0)
    gc.add_argument("--backend", default="numpy", choices=scratchgan_kernels.available_backends(),
                    help="CPU kernel backend (default numpy, the reference)")
    gc.set_defaults(run=_gradcheck)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
