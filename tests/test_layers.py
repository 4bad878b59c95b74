"""The import contract: every module imports only from its own layer and the layers
below it, in the order of the "Layers" table of docs/architecture.md.

The table is the contract: its rows are read here, lowest first, and the paths in its
"where" column map each module to a layer (the longest matching path wins, so a file
can sit in another layer than its folder). Every import statement counts, the ones
inside functions too: a lazy import hides a dependency from the import order, not from
the design."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ARCHITECTURE = ROOT / "docs" / "architecture.md"
# The import package of each source folder (kernels/ installs as scratchgan_kernels).
PACKAGES = {"scratchgan": "scratchgan", "scratchgan_kernels": "kernels"}


@dataclass(frozen=True)
class Layer:
    """One row of the table: its rank (0 = lowest), its name and its paths."""
    rank: int
    name: str
    paths: tuple[str, ...]


@dataclass(frozen=True)
class Import:
    """One imported module, resolved to its source file, with where it is imported and
    the private names (``_x``) taken from it."""
    target: str
    target_file: str
    line: int
    private: tuple[str, ...] = ()


def read_layers(text: str) -> list[Layer]:
    """The rows of the table under "## Layers", lowest first; a path is a backticked
    folder (ending in ``/``) or ``.py`` file in the "where" column."""
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")][2:]
    layers = []
    for rank, row in enumerate(rows):
        name, where = [cell.strip() for cell in row.strip("|").split("|")][:2]
        paths = tuple(p for p in re.findall(r"`([^`]+)`", where) if p.endswith(("/", ".py")))
        layers.append(Layer(rank, name, paths))
    return layers


def layer_of(path: str, layers: list[Layer]) -> Layer | None:
    """The layer whose longest path matches ``path`` (a file, relative to the root)."""
    matches = [(len(p), layer) for layer in layers for p in layer.paths
               if path == p or (p.endswith("/") and path.startswith(p))]
    return max(matches, key=lambda m: m[0])[1] if matches else None


def source_file(module: str) -> str | None:
    """The file, relative to the root, of a module of ours, or None."""
    top, *rest = module.split(".")
    if top not in PACKAGES:
        return None
    base = "/".join([PACKAGES[top], *rest])
    for candidate in (f"{base}.py", f"{base}/__init__.py"):
        if (ROOT / candidate).is_file():
            return candidate
    return None


def module_name(path: str) -> str:
    """The dotted name of the module in ``path``."""
    folder, *rest = Path(path).with_suffix("").parts
    parts = [next(k for k, v in PACKAGES.items() if v == folder), *rest]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(source: str, path: str) -> list[Import]:
    """Every module of ours that the file at ``path`` imports, anywhere in it:
    ``from a import b`` names the module ``a.b`` where it is one, else ``a``; relative
    imports are resolved against the file's package."""
    name = module_name(path)
    package = name if path.endswith("__init__.py") else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source, path)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            targets = [(f"{base}.{a.name}", ()) if source_file(f"{base}.{a.name}")
                       else (base, (a.name,) if a.name.startswith("_") else ())
                       for a in node.names]
        else:
            continue
        if isinstance(node, ast.Import):
            targets = [(target, ()) for target in targets]
        for target, private in targets:
            target_file = source_file(target)
            if target_file is not None:
                found.append(Import(target, target_file, node.lineno, private))
    return found


def source_files() -> list[str]:
    """Every module of the library and of the kernels, relative to the root."""
    return sorted(p.relative_to(ROOT).as_posix() for folder in PACKAGES.values()
                  for p in (ROOT / folder).rglob("*.py"))


LAYERS = read_layers(ARCHITECTURE.read_text())


def test_the_table_names_layers_and_paths_that_exist():
    assert len(LAYERS) > 5
    for layer in LAYERS:
        assert layer.paths, f"layer {layer.name!r} names no path"
        for p in layer.paths:
            assert (ROOT / p).exists(), f"layer {layer.name!r}: {p} does not exist"


def test_every_module_has_a_layer():
    unplaced = [p for p in source_files() if layer_of(p, LAYERS) is None]
    assert not unplaced, f"not in the Layers table of docs/architecture.md: {unplaced}"


def test_no_module_imports_from_a_layer_above_its_own():
    violations = []
    for path in source_files():
        own = layer_of(path, LAYERS)
        for imp in imports_of((ROOT / path).read_text(), path):
            other = layer_of(imp.target_file, LAYERS)
            if own is not None and other is not None and other.rank > own.rank:
                violations.append(f"{path}:{imp.line} ({own.name}) imports {imp.target} "
                                  f"({other.name})")
    assert not violations, "imports from a layer above:\n" + "\n".join(sorted(set(violations)))


def test_no_private_name_is_imported_from_another_layer():
    violations = []
    for path in source_files():
        own = layer_of(path, LAYERS)
        for imp in imports_of((ROOT / path).read_text(), path):
            if imp.private and layer_of(imp.target_file, LAYERS) is not own:
                violations.append(f"{path}:{imp.line} imports {', '.join(imp.private)} "
                                  f"from {imp.target}")
    assert not violations, "private names taken from another layer:\n" + "\n".join(violations)


def test_lazy_and_relative_imports_are_seen():
    source = ("def f():\n    from . import trainer\n    from .guard import x, _y\n"
              "    import scratchgan.cli\n    import numpy\n")
    found = {(i.target, i.line, i.private)
             for i in imports_of(source, "scratchgan/gan/replay.py")}
    assert found == {("scratchgan.gan.trainer", 2, ()), ("scratchgan.gan.guard", 3, ()),
                     ("scratchgan.gan.guard", 3, ("_y",)), ("scratchgan.cli", 4, ())}
