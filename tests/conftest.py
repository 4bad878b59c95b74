import os
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis.database import DirectoryBasedExampleDatabase

# "ci" keeps the suite inside its time budget on 2 cores; "thorough" draws more. Failing
# examples are kept beside the tests, not in whatever folder the suite runs from.
_EXAMPLES = DirectoryBasedExampleDatabase(str(Path(__file__).parent.parent / ".hypothesis"))
settings.register_profile("ci", max_examples=40, deadline=None, database=_EXAMPLES)
settings.register_profile("thorough", max_examples=200, deadline=None, database=_EXAMPLES)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def user_folder(tmp_path_factory):
    """The folder a user runs the tests in after the README's first command: it holds
    runs/default with a whole run in it (config, logs, samples, checkpoints)."""
    from scratchgan.cli import main
    root = tmp_path_factory.mktemp("user_folder")
    code = main(["train", "--dataset", "ring8", "--steps", "2", "--batch-size", "8",
                 "--no-progress", "--score-n", "0", "--out", str(root / "runs" / "default")])
    assert code == 0
    return root


def _tree(folder: Path) -> list[tuple[str, int, int]]:
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*"))


@pytest.fixture(autouse=True)
def runs_in_a_user_folder(user_folder, monkeypatch):
    """Every test runs in ``user_folder`` and must leave it as it was: no test reads a
    default path such as runs/default or writes into the working directory (tests write
    under tmp_path), so a user's own runs/ can neither break the suite nor be changed."""
    before = _tree(user_folder)
    monkeypatch.chdir(user_folder)
    yield
    assert _tree(user_folder) == before, (
        f"the test changed the working directory {user_folder}: write under tmp_path")
