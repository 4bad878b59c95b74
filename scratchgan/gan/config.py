"""The training configuration: one dataclass, filled from defaults, a TOML file
and command-line overrides, in that order; every key and value is checked with a
message that names it."""
from __future__ import annotations

import dataclasses
import math
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

from scratchgan.backend import CPU, DEVICE_NAMES
from scratchgan.gan.losses import LOSSES


def _opt(help: str, choices: tuple | None = None, minimum: float | None = None,
         below: float | None = None, maximum: float | None = None) -> dict:
    """A key's help and range: ``minimum <= value``, ``value < below``, ``value <= maximum``
    (floats must also be finite; strings must not be empty)."""
    return {"help": help, "choices": choices, "minimum": minimum, "below": below,
            "maximum": maximum}


@dataclass
class TrainConfig:
    dataset: str = field(default="digits", metadata=_opt(
        "dataset: digits, ring8, grid25, mnist, fashion-mnist, cifar10, npz:FILE.npz "
        "(your images in an .npz) or folder:DIR (a folder of PNGs, optionally DIR/<class>/*.png); "
        "for --task pix2pix a paired one: edges2digits, masked2digits, edges2mnist, masked2mnist "
        "or paired:DIR (the pix2pix layout: train/ and val/, each image A and B side by side)"))
    data_dir: str = field(default="", metadata=_opt(
        "folder holding the mnist, fashion-mnist or cifar10 files, directly or in a <dataset>/ "
        "subfolder; empty: $SCRATCHGAN_DATA, then the cache, then download"))
    model: str = field(default="auto", metadata=_opt(
        "dcgan, mlp, or auto (dcgan for images, mlp for 2-D points)", ("auto", "dcgan", "mlp")))
    task: str = field(default="gan", metadata=_opt(
        "what to train: gan (generation from noise, optionally class-conditional) or pix2pix "
        "(image-to-image translation on a paired dataset)", ("gan", "pix2pix")))
    loss: str = field(default="nonsaturating", metadata=_opt("GAN loss", tuple(LOSSES)))
    conditional: bool = field(default=False, metadata=_opt("condition G and D on the labels"))
    g_conditioning: str = field(default="embedding", metadata=_opt(
        "how G takes the label", ("embedding", "onehot")))
    d_conditioning: str = field(default="projection", metadata=_opt(
        "how D takes the label", ("projection", "concat")))
    spectral_norm: bool = field(default=False, metadata=_opt("spectral norm on D's weights"))
    steps: int = field(default=1700, metadata=_opt("generator updates to run", minimum=1))
    batch_size: int = field(default=64, metadata=_opt(
        "samples per batch (at least 2: batch norm normalises over the batch)", minimum=2))
    nz: int = field(default=0, metadata=_opt("noise size; 0 = model default (100 dcgan, 2 mlp)",
                                            minimum=0, maximum=4096))
    direction: str = field(default="AtoB", metadata=_opt(
        "pix2pix: translate A to B (AtoB: edge map or masked digit -> digit) or B to A",
        ("AtoB", "BtoA")))
    l1_weight: float = field(default=100.0, metadata=_opt(
        "pix2pix: lambda of the L1 term, L_G = adversarial + lambda * L1(G(x), y)", minimum=0))
    ngf: int = field(default=32, metadata=_opt(
        "generator width: DCGAN's G has 4 ngf, 2 ngf, ngf channels (28x28), pix2pix's "
        "U-Net ngf channels at its first level (the MLP for points has PacGAN's 400 units)",
        minimum=1, maximum=1024))
    ndf: int = field(default=32, metadata=_opt(
        "discriminator width: DCGAN's D has ndf, 2 ndf channels (28x28), pix2pix's "
        "PatchGAN ndf channels at its first layer (the MLP for points has PacGAN's 200 "
        "units)", minimum=1, maximum=1024))
    pack: int = field(default=1, metadata=_opt(
        "PacGAN packing: D scores packs of this many samples, the batch split into "
        "batch_size / pack groups concatenated along the channels (images) or features "
        "(points); 1 = no packing", minimum=1, maximum=64))
    maxout: int = field(default=0, metadata=_opt(
        "MLP discriminator: maxout units of this many pieces (PacGAN's D) in place of "
        "LeakyReLU; 0 = LeakyReLU(0.2)", minimum=0, maximum=16))
    d_batchnorm: bool = field(default=True, metadata=_opt(
        "the DCGAN D keeps batch norm in its hidden layer (never under a gradient penalty); "
        "false: no normalisation (SNGAN's D, with spectral_norm)"))
    g_upsample: str = field(default="transposed", metadata=_opt(
        "how the DCGAN G doubles its resolution: transposed (a k4 s2 transposed conv) or "
        "resize (nearest-neighbour x2, then a 3x3 conv)", ("transposed", "resize")))
    minibatch_std: bool = field(default=False, metadata=_opt(
        "D sees the standard deviation of the batch it scores as one more feature of its "
        "last hidden layer (Karras et al. 2018); not with a gradient penalty"))
    init_from: str = field(default="", metadata=_opt(
        "a .safetensors weights file (scratchgan export, or PyTorch's tensors of the reference "
        "DCGAN) to start G (and D, and the EMA, when it holds them) from, each tensor's shape "
        "checked; a new run only: a resume continues from its checkpoint and must keep the "
        "run's value; empty: initialise afresh"))
    lr_g: float = field(default=2e-3, metadata=_opt("generator learning rate", minimum=0))
    lr_d: float = field(default=2e-3, metadata=_opt("discriminator learning rate (TTUR: differ)",
                                                   minimum=0))
    lr_decay: str = field(default="linear", metadata=_opt(
        "learning-rate schedule: none, or linear (full rate for the first half of the steps, "
        "then linearly down to 0 at the last)", ("none", "linear")))
    beta1: float = field(default=0.5, metadata=_opt("Adam beta1", minimum=0, below=1))
    beta2: float = field(default=0.999, metadata=_opt("Adam beta2", minimum=0, below=1))
    optimizer: str = field(default="adam", metadata=_opt("optimizer", ("adam", "rmsprop")))
    n_critic: int = field(default=1, metadata=_opt("D updates per G update", minimum=1))
    gp_weight: float = field(default=10.0, metadata=_opt("WGAN-GP lambda", minimum=0))
    r1_weight: float = field(default=0.0, metadata=_opt("R1 gamma (0 = off)", minimum=0))
    clip: float = field(default=0.01, metadata=_opt("WGAN weight clipping bound", minimum=0))
    label_smoothing: float = field(default=0.0, metadata=_opt(
        "one-sided: real target = 1 - this", minimum=0, below=1))
    ema: float = field(default=0.999, metadata=_opt("EMA decay of G's weights (0 = off)",
                                                    minimum=0, below=1))
    seed: int = field(default=0, metadata=_opt("seed of every random draw", minimum=0))
    out: str = field(default="runs/default", metadata=_opt("run folder"))
    log_every: int = field(default=50, metadata=_opt("steps between metric records", minimum=1))
    sample_every: int = field(default=200, metadata=_opt("steps between sample grids", minimum=1))
    checkpoint_every: int = field(default=200, metadata=_opt("steps between checkpoints",
                                                             minimum=1))
    keep_checkpoints: int = field(default=3, metadata=_opt("checkpoints kept", minimum=1))
    eval_every: int = field(default=0, metadata=_opt(
        "steps between quality evaluations written to eval.jsonl (0 = off; image datasets "
        "need a classifier, see scratchgan eval)", minimum=0))
    eval_n: int = field(default=2000, metadata=_opt("samples per evaluation", minimum=10))
    score_n: int = field(default=5000, metadata=_opt(
        "samples the run scores when it ends against as many test images, written to "
        "scores.json and printed (image datasets whose classifier ships, the 2-D mixtures; "
        "pix2pix: held-out pairs, at most this many); 0 = off", minimum=0, maximum=10000))
    kernels: str = field(default="default", metadata=_opt(
        "CPU kernel backend: numba, numpy (the reference), or default"))
    threads: int = field(default=0, metadata=_opt(
        "CPU threads of the kernels (0 = one per available core); the matrix products inside "
        "run on one BLAS thread each, so results do not depend on it (see scratchgan.threads)",
        minimum=0))
    sync_bn: bool = field(default=True, metadata=_opt(
        "under MPI (mpiexec -n K): batch norm with the statistics of the global batch, "
        "allreduced over the ranks (off: each rank normalises with its own share's)"))
    device: str = field(default=CPU.name, metadata=_opt(" or ".join(DEVICE_NAMES), DEVICE_NAMES))
    tf32: bool = field(default=False, metadata=_opt(
        "on the GPU, let float32 matrix products round to TF32 (faster, about 3 digits)"))
    progress: bool = field(default=True, metadata=_opt("show a progress bar"))
    tensorboard: bool = field(default=False, metadata=_opt(
        "also write the losses, D's outputs, the gradient statistics, the evaluations, the "
        "scores and the sample grids as TensorBoard event files in <out>/tensorboard/ "
        "(needs tensorboardX: pip install 'scratchgan[tensorboard]')"))
    detect_anomaly: bool = field(default=False, metadata=_opt(
        "when the NaN guard stops the run, re-run from the last good checkpoint to the "
        "failing step with scratchgan.inspect.detect_anomaly on and name the op (file and "
        "line) that first produced NaN or Inf"))

    def __post_init__(self) -> None:
        for f in fields(self):
            setattr(self, f.name, check_value(f.name, getattr(self, f.name)))
        if self.maxout == 1:
            raise ConfigError("config key 'maxout' must be 0 (LeakyReLU) or at least 2: a "
                              "maxout of 1 piece leaves D with no nonlinearity")
        unused = inapplicable_keys(self)
        if unused:
            raise ConfigError(unused[0])
        if self.pack > 1 and self.conditional:
            raise ConfigError("config key 'pack': packing scores packs of unlabelled samples; "
                              "it does not combine with conditional = true")
        if self.batch_size % self.pack:
            raise ConfigError(f"config key 'batch_size' ({self.batch_size}) must be a multiple "
                              f"of 'pack' ({self.pack}): D scores the batch in packs")
        if self.batch_size // self.pack < 2:
            raise ConfigError(f"config key 'batch_size' ({self.batch_size}) must give D at "
                              f"least 2 packs of {self.pack}: batch norm needs 2 samples")
        if self.loss == "wgan" and self.optimizer == "adam" and self.clip <= 0:
            raise ConfigError("loss 'wgan' needs clip > 0 (weight clipping)")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_toml(self) -> str:
        def value(v: Any) -> str:
            if isinstance(v, bool):
                return "true" if v else "false"
            return repr(v) if not isinstance(v, str) else '"' + v.replace('"', '\\"') + '"'
        return "".join(f"{k} = {value(v)}\n" for k, v in self.to_dict().items())


_TYPES = {"str": str, "int": int, "float": float, "bool": bool}  # the annotations, as strings
#: string keys that must not be empty
_NON_EMPTY = ("dataset", "out", "kernels")


class ConfigError(ValueError):
    """A configuration key or value is wrong; the message names it."""


_FIELDS = {f.name: f for f in fields(TrainConfig)}


def check_value(key: str, value: Any) -> Any:
    """``value`` checked for config key ``key``: its type (an int is taken for a float),
    its choices and its range (floats finite, listed strings not empty); a ConfigError
    naming the key otherwise."""
    f = _FIELDS[key]
    want = _TYPES[f.type]
    if want is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ConfigError(f"config key {key!r} must be a {want.__name__}, got {value!r}")
    meta = f.metadata
    choices, minimum, below, maximum = (meta["choices"], meta["minimum"], meta["below"],
                                        meta["maximum"])
    if choices and value not in choices:
        raise ConfigError(f"config key {key!r} must be one of {', '.join(choices)}; "
                          f"got {value!r}")
    if want is float and not math.isfinite(value):
        raise ConfigError(f"config key {key!r} must be a finite number, got {value!r}")
    if want is str and not value.strip() and key in _NON_EMPTY:
        raise ConfigError(f"config key {key!r} must not be empty")
    if minimum is not None and value < minimum:
        raise ConfigError(f"config key {key!r} must be >= {minimum}, got {value!r}")
    if below is not None and value >= below:
        raise ConfigError(f"config key {key!r} must be < {below}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"config key {key!r} must be <= {maximum}, got {value!r}")
    return value


#: keys that do something only in some runs: key -> (whether it applies, the runs it
#: applies to). A key that does not apply must keep its default, so that no option is
#: taken and then silently ignored.
_APPLIES_TO: dict[str, tuple[Callable[[TrainConfig], bool], str]] = {
    "g_conditioning": (lambda c: c.conditional, "conditional runs (--conditional)"),
    "d_conditioning": (lambda c: c.conditional, "conditional runs (--conditional)"),
    "direction": (lambda c: c.task == "pix2pix", "task pix2pix"),
    "l1_weight": (lambda c: c.task == "pix2pix", "task pix2pix"),
    "nz": (lambda c: c.task == "gan", "task gan (pix2pix's U-Net takes no noise)"),
    "gp_weight": (lambda c: c.loss == "wgan-gp", "loss wgan-gp (the gradient penalty)"),
    "clip": (lambda c: c.loss == "wgan", "loss wgan (weight clipping)"),
    "label_smoothing": (lambda c: c.loss in ("minimax", "nonsaturating"),
                        "the BCE losses, minimax and nonsaturating"),
    **{key: (lambda c: c.task == "gan", "task gan (pix2pix trains a U-Net and a PatchGAN)")
       for key in ("conditional", "spectral_norm", "model", "pack", "maxout",
                   "minibatch_std", "g_upsample")},
}


def inapplicable_keys(config: TrainConfig) -> list[str]:
    """One message per key of ``config`` that is set away from its default in a run it
    does nothing in (``_APPLIES_TO``); empty when every key set does something."""
    return [f"config key {key!r}: this run does not take {key} = {getattr(config, key)!r}, "
            f"which does nothing here; it applies to {runs} only (leave it out)"
            for key, (applies, runs) in _APPLIES_TO.items()
            if getattr(config, key) != _FIELDS[key].default and not applies(config)]


def saved_config(saved: dict[str, Any]) -> TrainConfig:
    """The TrainConfig of a run's saved config (a checkpoint's or a config.toml): keys this
    version does not know are left out, and keys that did nothing in that run (set before
    such keys were refused) go back to their defaults."""
    values = {k: v for k, v in saved.items() if k in _FIELDS}
    probe = dataclasses.replace(TrainConfig(), **{k: v for k, v in values.items()
                                                  if k in ("task", "loss", "conditional")})
    for key, (applies, _) in _APPLIES_TO.items():
        if not applies(probe):
            values.pop(key, None)
    return TrainConfig(**values)


#: config keys that must agree between a checkpoint and the run resuming it
RESUME_KEYS = ("task", "dataset", "model", "loss", "conditional", "g_conditioning",
               "d_conditioning", "spectral_norm", "d_batchnorm", "g_upsample", "nz",
               "direction", "ngf", "ndf", "pack", "maxout", "minibatch_std", "optimizer",
               "seed", "batch_size", "init_from")
#: ``init_from`` is read when a run starts, never on a resume (its file may be gone): a
#: resume that names another file is refused rather than taken and ignored
#: config keys a resume takes from the command, not the run: where the folder is and how
#: the run is shown (never recorded as changes)
UNRECORDED_KEYS = ("out", "progress", "detect_anomaly")
#: keeping an EMA of G or not must agree too; its decay, like every key not listed, may
#: change on a resume, takes effect and is recorded (``changes.jsonl``)


#: what checkpoints written before a key existed were made with (the key's value then,
#: which a later default must not change)
_BEFORE_THE_KEY = {"task": "gan", "direction": "AtoB", "ngf": 64, "ndf": 64, "pack": 1,
                   "maxout": 0, "minibatch_std": False, "d_batchnorm": True,
                   "g_upsample": "transposed"}


def resume_key_default(key: str) -> Any:
    """The value of a RESUME_KEYS key in a checkpoint that does not record it: what runs
    were made with before the key existed (``task``, ``direction``, ``ngf``, ``ndf``,
    ``pack``, ``maxout``, ``minibatch_std``, ``d_batchnorm``, ``g_upsample``), else the
    key's default."""
    if key in _BEFORE_THE_KEY:
        return _BEFORE_THE_KEY[key]
    return next(f.default for f in fields(TrainConfig) if f.name == key)


def known_keys() -> list[str]:
    return [f.name for f in fields(TrainConfig)]


def read_config_file(file: str | Path) -> dict[str, Any]:
    """The keys of a TOML config file, each checked (``check_value``): a wrong key or
    value names the file even where a command-line option will override it."""
    path = Path(file)
    try:
        values = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a folder, not a TOML file") from None
    except UnicodeDecodeError as e:
        raise ConfigError(f"config file {path} is not UTF-8 text (byte {e.start + 1}: "
                          f"{e.reason}); TOML files are UTF-8") from None
    except OSError as e:
        raise ConfigError(f"config file {path} cannot be read: {e.strerror or e}") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config file {path} is not valid TOML: {e}") from None
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"unknown config key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))} in {path}; known keys: "
                          f"{', '.join(known_keys())}")
    try:
        return {key: check_value(key, value) for key, value in values.items()}
    except ConfigError as e:
        raise ConfigError(f"{e} (in {path})") from None


def make_config(file: str | Path | None = None, base: dict[str, Any] | None = None,
                **overrides: Any) -> TrainConfig:
    """``base`` (default: the defaults), then the TOML ``file``, then ``overrides`` (None
    values are skipped). A resume passes the run's own config.toml as ``base``."""
    values: dict[str, Any] = dict(base or {})
    if file is not None:
        values.update(read_config_file(file))
    values.update({k: v for k, v in overrides.items() if v is not None})
    unknown = sorted(set(values) - set(_FIELDS))
    if unknown:
        raise ConfigError(f"unknown config key{'s' if len(unknown) > 1 else ''} "
                          f"{', '.join(map(repr, unknown))}; known keys: "
                          f"{', '.join(known_keys())}")
    return TrainConfig(**values)
