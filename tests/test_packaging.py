"""pyproject.toml lists every package (a renamed folder defeats auto-discovery)."""
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib", reason="tomllib needs Python 3.11")

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_is_listed_in_pyproject():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    listed = set(config["packages"])
    folders = {"scratchgan": "scratchgan", "kernels": "scratchgan_kernels"}
    found = set()
    for folder, name in folders.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            rel = init.parent.relative_to(ROOT / folder).parts
            found.add(".".join((name,) + rel))
    assert found == listed, f"missing from pyproject: {found - listed}; stale: {listed - found}"


def test_kernels_never_import_scratchgan():
    for path in (ROOT / "kernels").rglob("*.py"):
        text = path.read_text()
        assert "import scratchgan\n" not in text and "from scratchgan." not in text \
            and "from scratchgan import" not in text, f"{path} imports scratchgan"
