"""examples/gan_math.ipynb runs from top to bottom: every cell, its asserts included.

The notebook runs in a kernel of this interpreter (a kernelspec written under tmp_path
names sys.executable, so no user-wide "python3" kernel can stand in for it), with its
working directory in tmp_path, where it writes its pictures.
"""
import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="install the notebook extra: "
                                                  'pip install -e ".[notebook]"')
nbclient = pytest.importorskip("nbclient", reason="install the notebook extra")
pytest.importorskip("ipykernel", reason="install the notebook extra")

NOTEBOOK = Path(__file__).parent.parent / "examples" / "gan_math.ipynb"
KERNEL = "scratchgan-test-python"
ANSI = re.compile(r"\x1b\[[0-9;]*m")   # IPython colours its tracebacks


def test_the_stored_notebook_has_no_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code
    assert all(not cell.outputs and cell.execution_count is None for cell in code), (
        "clear the outputs before committing (Jupyter: Edit > Clear Outputs of All Cells)")


def test_the_notebook_runs_and_its_checks_pass(tmp_path, monkeypatch):
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "scratchgan tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, startup_timeout=60, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(work)}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        pytest.fail(ANSI.sub("", str(error)), pytrace=False)
    pictures = {p.name for p in work.iterdir()}
    assert {"optimal_d.png", "saturation.png", "ring8_step0.png", "ring8_step600.png",
            "ring8_curves.png"} <= pictures
