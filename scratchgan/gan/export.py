"""Weights out and in, in safetensors (https://github.com/huggingface/safetensors): a
header of tensor names, dtypes and shapes and a str -> str metadata table, then the raw
bytes; never pickle, so a file from a stranger cannot run code when loaded.

``export_weights(checkpoint, out, what)`` writes one module of a checkpoint (``G``,
``D``, ``G_ema``: G's exponential moving average with its own batch-norm statistics) or
``all`` of them, each tensor's name prefixed with its module's (``G.``, ``D.``,
``G_ema.``). ``import_weights(path, G, D, G_ema)`` loads such a file (or one PyTorch
wrote for the reference DCGAN) into built modules, each tensor's shape checked and named;
``init_trainer`` is the ``init_from`` config key: a new run starts from the file's weights.

Names. The unconditional DCGAN-28 with transposed upsampling, batch norm in D, no
spectral norm and no minibatch standard deviation (exactly
``shared/reference/dcgan_torch.py``'s architecture) is written in that file's PyTorch
names, so that ``Generator(nz, ngf).load_state_dict`` and
``Discriminator(ndf).load_state_dict`` take the tensors as they are:

    G  (ours -> PyTorch)                        D  (ours -> PyTorch)
    body.0.weight  -> fc.weight   (4ngf*49, nz)  features.0.weight -> c1.weight (ndf, 1, 4, 4)
    body.1.*       -> bn0.*       (4ngf*49,)     features.0.bias   -> c1.bias   (ndf,)
    body.4.weight  -> ct1.weight  (4ngf, 2ngf, 4, 4)  features.2.weight -> c2.weight (2ndf, ndf, 4, 4)
    body.5.*       -> bn1.*       (2ngf,)        features.3.*      -> bn2.*     (2ndf,)
    body.7.weight  -> ct2.weight  (2ngf, ngf, 4, 4)   fc.weight   -> fc.weight (1, 2ndf*49)
    body.8.*       -> bn2.*       (ngf,)         fc.bias           -> fc.bias   (1,)
    body.10.weight -> conv.weight (1, ngf, 3, 3)
    body.10.bias   -> conv.bias   (1,)

where ``*`` is a batch norm's ``weight`` (gamma), ``bias`` (beta), ``running_mean``,
``running_var`` (as PyTorch keeps them: the batch means and unbiased batch variances,
averaged with momentum 0.1; eval mode normalises with them and eps 1e-5) and
``num_batches_tracked``. The layouts are PyTorch's, which
are ours, so no array is transposed: Linear weight (out, in) with y = x W^T + b; Conv2d
weight (out, in, kH, kW); ConvTranspose2d weight (in, out, kH, kW). Floating tensors are
float32, ``num_batches_tracked`` int64 of shape (). Whether a model has that architecture
is read off its tensors: after renaming, the names and shapes must be exactly the
reference modules' for the nz, ngf (ndf) its shapes imply. Any other model (conditional,
resize upsampling, spectral norm, a critic without batch norm, 32x32, the MLPs, pix2pix's
U-Net and PatchGAN) keeps scratchgan's own ``state_dict`` names, the same layouts.

Metadata (all strings): ``format`` "scratchgan", ``written_by`` "scratchgan export" (the
mark that lets a rewrite go without ``--overwrite``), ``version`` "1", ``what`` (G, D,
G_ema, all), ``modules`` (the modules in the file, comma-separated), ``naming``
("torch-dcgan" or "scratchgan"), ``model``, ``step`` and ``config``: a JSON object of
what rebuilds the modules (``task``, ``model``, ``data_shape`` or ``input_shape`` and
``target_shape``, ``num_classes`` and the architecture's config keys, ``ARCH_KEYS``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from scratchgan import nn
from scratchgan.gan import checkpoint
from scratchgan.gan.config import resume_key_default
from scratchgan.io import MARK, atomic_write

FORMAT = "scratchgan"
VERSION = "1"
WHAT = ("G", "D", "G_ema", "all")
#: the modules of ``all``, in file order
MODULES = ("G", "D", "G_ema")
#: config keys that, with the checkpoint's shapes, say how to rebuild its modules
ARCH_KEYS = ("task", "model", "loss", "conditional", "g_conditioning", "d_conditioning",
             "spectral_norm", "d_batchnorm", "g_upsample", "nz", "ngf", "ndf", "pack",
             "maxout", "minibatch_std")
#: what the trainer records beside the config to rebuild G (and pix2pix's D)
_SHAPE_KEYS = ("data_shape", "num_classes", "input_shape", "target_shape", "batchnorm_in_d")
INSTALL = "pip install 'scratchgan[safetensors]'"

#: our DCGAN-28 layers -> the reference's (``shared/reference/dcgan_torch.py``), by module
TORCH_DCGAN = {
    "G": {"body.0": "fc", "body.1": "bn0", "body.4": "ct1", "body.5": "bn1", "body.7": "ct2",
          "body.8": "bn2", "body.10": "conv"},
    "D": {"features.0": "c1", "features.2": "c2", "features.3": "bn2", "fc": "fc"},
}
_KIND = {"G": "G", "G_ema": "G", "D": "D"}   # which table a module's names follow


class WeightsError(ValueError):
    """A weights file is missing, not safetensors, or does not fit; the message says which."""


def _safetensors() -> Any:
    try:
        import safetensors
        import safetensors.numpy
    except ImportError:
        raise WeightsError(f"weights files need the safetensors package: {INSTALL}") from None
    return safetensors


def torch_dcgan_shapes(kind: str, nz: int = 100, ngf: int = 64, ndf: int = 64
                       ) -> dict[str, tuple[int, ...]]:
    """The state_dict shapes of the reference's ``Generator(nz, ngf)`` (``kind`` "G") or
    ``Discriminator(ndf)`` ("D"), by PyTorch name."""
    def bn(name: str, c: int) -> dict[str, tuple[int, ...]]:
        return {f"{name}.weight": (c,), f"{name}.bias": (c,), f"{name}.running_mean": (c,),
                f"{name}.running_var": (c,), f"{name}.num_batches_tracked": ()}
    if kind == "G":
        return {"fc.weight": (4 * ngf * 49, nz), **bn("bn0", 4 * ngf * 49),
                "ct1.weight": (4 * ngf, 2 * ngf, 4, 4), **bn("bn1", 2 * ngf),
                "ct2.weight": (2 * ngf, ngf, 4, 4), **bn("bn2", ngf),
                "conv.weight": (1, ngf, 3, 3), "conv.bias": (1,)}
    return {"c1.weight": (ndf, 1, 4, 4), "c1.bias": (ndf,), "c2.weight": (2 * ndf, ndf, 4, 4),
            **bn("bn2", 2 * ndf), "fc.weight": (1, 2 * ndf * 49), "fc.bias": (1,)}


def _rename(names: list[str], table: dict[str, str]) -> dict[str, str] | None:
    """name -> the name with its layer (all but the last part) looked up in ``table``;
    None when a layer is not in it."""
    out = {}
    for name in names:
        layer, _, leaf = name.rpartition(".")
        if layer not in table:
            return None
        out[name] = f"{table[layer]}.{leaf}"
    return out


def _torch_names(kind: str, weights: dict[str, np.ndarray]) -> dict[str, str] | None:
    """Our name -> the reference's for a module of ``kind`` ("G", "D") whose tensors are
    exactly the reference module's (names and shapes, for the nz, ngf or ndf its shapes
    imply); None for any other architecture."""
    renamed = _rename(list(weights), TORCH_DCGAN[kind])
    if renamed is None:
        return None
    shapes = {renamed[k]: tuple(v.shape) for k, v in weights.items()}
    try:
        sizes = ({"nz": shapes["fc.weight"][1], "ngf": shapes["conv.weight"][1]} if kind == "G"
                 else {"ndf": shapes["c1.weight"][0]})
    except (KeyError, IndexError):
        return None
    return renamed if shapes == torch_dcgan_shapes(kind, **sizes) else None


def _module(state: dict[str, Any], key: str, path: Path) -> dict[str, np.ndarray]:
    """The checkpoint's weights of module ``key``: finite arrays, or a CheckpointError."""
    if key not in state:
        hint = (" (the run kept no EMA of G: ema = 0); export --what G" if key == "G_ema"
                else "")
        raise checkpoint.CheckpointError(f"{path} holds no {key} weights{hint}")
    weights = state[key]
    if (not isinstance(weights, dict) or not weights
            or not all(isinstance(v, np.ndarray) for v in weights.values())):
        raise checkpoint.CheckpointError(f"{path}: '{key}' must be a table of arrays")
    checkpoint.require_finite(weights, str(path), key)
    return weights


def _rebuild(state: dict[str, Any]) -> dict[str, Any]:
    """What rebuilds the checkpoint's modules: its shapes and its architecture keys."""
    cfg = state.get("config") if isinstance(state.get("config"), dict) else {}
    out = {"task": state.get("task", cfg.get("task", resume_key_default("task")))}
    out.update({k: state[k] for k in _SHAPE_KEYS if k in state})
    out.update({k: cfg.get(k, resume_key_default(k)) for k in ARCH_KEYS if k != "task"})
    out["model"] = state.get("model", out["model"])
    return out


def export_weights(checkpoint_path: str | Path, out_path: str | Path,
                   what: str = "G_ema") -> Path:
    """Write module ``what`` (G, D, G_ema, or all of those the checkpoint holds, prefixed
    "G.", "D.", "G_ema.") of the checkpoint to the safetensors file ``out_path``
    (atomically), in the reference's PyTorch names for the DCGAN-28 that has them and in
    ours otherwise (the module docstring). The caller checks ``out_path`` first
    (``gan.outputs.check_output_file``)."""
    if what not in WHAT:
        raise WeightsError(f"--what must be one of {', '.join(WHAT)}, got {what!r}")
    st = _safetensors()
    path = Path(checkpoint_path)
    state = checkpoint.load(path)
    keys = [k for k in MODULES if k in state] if what == "all" else [what]
    modules = {k: _module(state, k, path) for k in keys}
    torch_names = {k: _torch_names(_KIND[k], w) for k, w in modules.items()}
    naming = "torch-dcgan" if all(v is not None for v in torch_names.values()) else "scratchgan"
    tensors: dict[str, np.ndarray] = {}
    for key, weights in modules.items():
        prefix = f"{key}." if what == "all" else ""
        for name, array in weights.items():
            out = torch_names[key][name] if naming == "torch-dcgan" else name
            # C order, shape kept (a 0-d num_batches_tracked stays 0-d)
            tensors[prefix + out] = np.array(array, np.float32 if array.dtype.kind == "f"
                                             else array.dtype, order="C")
    rebuild = _rebuild(state)
    metadata = {"format": FORMAT, "written_by": f"{MARK} export", "version": VERSION,
                "what": what, "modules": ",".join(keys), "naming": naming,
                "model": str(rebuild["model"]), "step": str(state.get("step", "")),
                "config": json.dumps(rebuild, sort_keys=True)}
    with atomic_write(out_path) as fh:
        fh.write(st.numpy.save(tensors, metadata=metadata))
    return Path(out_path)


@dataclass
class Weights:
    """A weights file read back: ``modules`` maps G, D, G_ema to their tensors under our
    ``state_dict`` names; ``names`` gives each tensor's name in the file (for messages);
    ``metadata`` is the file's table (empty for a file scratchgan did not write)."""

    modules: dict[str, dict[str, np.ndarray]]
    names: dict[str, dict[str, str]]
    metadata: dict[str, str]


def _split_modules(tensors: dict[str, np.ndarray], modules: list[str], prefixed: bool
                   ) -> dict[str, dict[str, tuple[str, np.ndarray]]]:
    """module -> {name without the module's prefix: (name in the file, array)}."""
    if not prefixed:
        return {modules[0]: {k: (k, v) for k, v in tensors.items()}}
    out: dict[str, dict[str, tuple[str, np.ndarray]]] = {m: {} for m in modules}
    for name, array in tensors.items():
        module, _, rest = name.partition(".")
        if module not in out:
            raise WeightsError(f"tensor {name} belongs to none of the modules "
                               f"{', '.join(modules)}")
        out[module][rest] = (name, array)
    return out


def _foreign_modules(tensors: dict[str, np.ndarray]) -> dict[str, dict[str, tuple[str, np.ndarray]]]:
    """The modules of a file scratchgan did not write: the reference's Generator and/or
    Discriminator, alone or prefixed "G."/"D." (PyTorch's ``save_file(G.state_dict())``)."""
    prefixes = {name.partition(".")[0] for name in tensors}
    if prefixes <= set(MODULES) and all("." in n for n in tensors):
        parts = _split_modules(tensors, sorted(prefixes), True)
    else:
        g = set(torch_dcgan_shapes("G"))
        parts = {"G" if set(tensors) == g else "D": {k: (k, v) for k, v in tensors.items()}}
    for module, entries in parts.items():
        if set(entries) != set(torch_dcgan_shapes(_KIND[module])):
            raise WeightsError(
                "it was not written by scratchgan export, and its tensors are not the "
                "reference DCGAN's Generator (fc, bn0, ct1, bn1, ct2, bn2, conv) or "
                "Discriminator (c1, c2, bn2, fc), alone or prefixed G. and D.")
    return parts


def read_weights(path: str | Path) -> Weights:
    """The weights file at ``path`` in our names: one scratchgan export wrote (its naming
    from its metadata), or PyTorch's tensors of the reference DCGAN (names in the module
    docstring). A WeightsError naming ``path`` for a missing file, one that is not
    safetensors, a tensor NumPy cannot hold or a non-finite one."""
    st = _safetensors()
    path = Path(path)
    if path.is_dir():
        raise WeightsError(f"weights file {path} is a folder; give a .safetensors file")
    if not path.is_file():
        raise WeightsError(f"weights file {path} does not exist")
    try:
        with st.safe_open(str(path), framework="np") as fh:
            metadata = dict(fh.metadata() or {})
            tensors = {name: fh.get_tensor(name) for name in fh.keys()}
    except (st.SafetensorError, OSError, TypeError, ValueError) as e:
        raise WeightsError(f"{path} is not a safetensors weights file ({e})") from None
    if not tensors:
        raise WeightsError(f"{path} holds no tensors")
    try:
        if metadata.get("format") == FORMAT:
            modules = metadata.get("modules", "").split(",")
            if not set(modules) <= set(MODULES) or metadata.get("what") not in WHAT:
                raise WeightsError(f"its metadata names modules {metadata.get('modules')!r}, "
                                   f"what {metadata.get('what')!r}")
            parts = _split_modules(tensors, modules, metadata["what"] == "all")
            torch_named = metadata.get("naming") == "torch-dcgan"
        else:
            parts, torch_named = _foreign_modules(tensors), True
    except WeightsError as e:
        raise WeightsError(f"{path}: {e}") from None
    weights = Weights({}, {}, metadata)
    for module, entries in parts.items():
        back = (_rename(list(entries), {v: k for k, v in TORCH_DCGAN[_KIND[module]].items()})
                if torch_named else None) or {}
        ours = {back.get(name, name): entry for name, entry in entries.items()}
        for key, (file_name, array) in ours.items():
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise WeightsError(f"{path}: tensor {file_name} holds NaN or Inf values")
        weights.modules[module] = {k: a for k, (_, a) in ours.items()}
        weights.names[module] = {k: n for k, (n, _) in ours.items()}
    return weights


def _written_for(metadata: dict[str, str]) -> str:
    """"; the file was written for model dcgan, data_shape [1, 28, 28], ..." ('' when its
    metadata has no config)."""
    try:
        built = json.loads(metadata.get("config", ""))
    except ValueError:
        return ""
    shown = [f"{k} {built[k]}" for k in ("model", "data_shape", "input_shape", "num_classes",
                                         "nz", "ngf", "ndf") if k in built]
    return f"; the file was written for {', '.join(shown)}" if shown else ""


def _fitted(path: Path, weights: Weights, source: str, target: str,
            module: nn.Module) -> dict[str, np.ndarray]:
    """The file's module ``source`` as a state for ``module`` (this run's ``target``):
    every tensor present, of the module's shape, cast to its dtype; a WeightsError naming
    the tensors otherwise."""
    have, names = weights.modules[source], weights.names[source]
    want = module.state_dict()
    missing = [k for k in want if k not in have]
    unexpected = [names[k] for k in have if k not in want]
    if missing or unexpected:
        parts = ([f"no tensor for its {', '.join(missing[:4])}"
                  + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")]
                 if missing else [])
        parts += ([f"tensors it lacks: {', '.join(unexpected[:4])}"
                   + (f" and {len(unexpected) - 4} more" if len(unexpected) > 4 else "")]
                  if unexpected else [])
        raise WeightsError(f"{path}: its {source} is not this run's {target} ("
                           f"{'; '.join(parts)}){_written_for(weights.metadata)}")
    state = {}
    for key, target_array in want.items():
        array = have[key]
        if tuple(array.shape) != tuple(target_array.shape):
            raise WeightsError(f"{path}: tensor {names[key]} has shape {tuple(array.shape)} in "
                               f"the file but {tuple(target_array.shape)} in this run's "
                               f"{target} ({key})")
        if array.dtype.kind != target_array.dtype.kind and not (
                array.dtype.kind in "iu" and target_array.dtype.kind in "iu"):
            raise WeightsError(f"{path}: tensor {names[key]} is {array.dtype} in the file but "
                               f"{target_array.dtype} in this run's {target} ({key})")
        state[key] = array.astype(target_array.dtype)
    return state


def import_weights(path: str | Path, G: nn.Module | None = None, D: nn.Module | None = None,
                   G_ema: nn.Module | None = None) -> list[str]:
    """Load the weights file at ``path`` into the modules given: G from the file's G (its
    G_ema when it holds no G), D from its D, G_ema from its G_ema (else the generator G
    takes). Every tensor is checked before any is loaded: its name, its shape (a mismatch
    names the tensor and both shapes) and its kind (floats cast to the module's float
    dtype). Returns "G <- G_ema" lines, one per module loaded; a WeightsError when none
    of the modules given is in the file."""
    path = Path(path)
    weights = read_weights(path)
    generator = next((m for m in ("G", "G_ema") if m in weights.modules), None)
    plan = [(target, source, module) for target, source, module in (
        ("G", generator, G), ("D", "D" if "D" in weights.modules else None, D),
        ("G_ema", "G_ema" if "G_ema" in weights.modules else generator, G_ema))
        if module is not None and source is not None]
    if not plan:
        raise WeightsError(f"{path} holds {', '.join(weights.modules)} weights, none of "
                           f"the modules asked for")
    states = [(module, _fitted(path, weights, source, target, module))
              for target, source, module in plan]
    for module, state in states:
        try:
            module.load_state_dict(state)
        except ValueError as e:      # batch norm refuses impossible running statistics
            raise WeightsError(f"{path}: {e}") from None
    return [f"{target} <- {source}" for target, source, _ in plan]


def init_trainer(trainer: Any, path: str | Path) -> str:
    """``init_from``: start a new run's G (and D, and the EMA's average, when the file holds
    them) from the weights file at ``path``; the note the run prints."""
    ema = trainer.ema.average if trainer.ema is not None else None
    loaded = import_weights(path, G=trainer.G, D=trainer.D, G_ema=ema)
    return f"init_from {path}: {', '.join(loaded)}"


def add_parsers(verbs: Any) -> None:
    """The ``scratchgan export`` verb, added to the CLI's subparsers ``verbs``."""
    ex = verbs.add_parser("export", help="write a checkpoint's weights as a safetensors file "
                                         "(the DCGAN-28 in PyTorch's names, see README)")
    ex.add_argument("--checkpoint", required=True, help="a ckpt-*.npz file")
    ex.add_argument("--out", required=True, metavar="FILE.safetensors",
                    help="the weights file to write")
    ex.add_argument("--what", choices=WHAT, default="G_ema",
                    help="G, D, G_ema (G's moving average, the generator that samples; the "
                         "default) or all (each tensor prefixed G., D., G_ema.)")
    ex.add_argument("--overwrite", action="store_true",
                    help="replace an existing output file that scratchgan did not write")
    ex.set_defaults(run=run_export)


def run_export(args: Any) -> int:
    """``scratchgan export``: the output path and the safetensors package are checked
    before the checkpoint is read; each failure is one line on stderr, exit status 1."""
    import sys

    from scratchgan.gan.outputs import OutputPathError, check_output_file
    try:
        check_output_file(args.out, "--out", (".safetensors",), inputs=[args.checkpoint],
                          overwrite=args.overwrite)
        _safetensors()
        out = export_weights(args.checkpoint, args.out, args.what)
    except (checkpoint.CheckpointError, WeightsError, OutputPathError) as e:
        print(f"scratchgan export: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.what} of {args.checkpoint} to {out}")
    return 0
