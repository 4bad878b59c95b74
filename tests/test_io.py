"""atomic_write: the whole file or nothing, no temporary file left behind."""
import os

import pytest

from scratchgan.io import atomic_write


def test_writes_bytes_and_text_and_creates_the_folder(tmp_path):
    with atomic_write(tmp_path / "a" / "b.bin") as fh:
        fh.write(b"\x00\x01")
    with atomic_write(tmp_path / "a" / "c.txt", "w") as fh:
        fh.write("h\u00e9\n")
    assert (tmp_path / "a" / "b.bin").read_bytes() == b"\x00\x01"
    assert (tmp_path / "a" / "c.txt").read_text(encoding="utf-8") == "h\u00e9\n"
    assert sorted(os.listdir(tmp_path / "a")) == ["b.bin", "c.txt"]


def test_the_temporary_file_sits_beside_the_target_until_the_rename(tmp_path):
    target = tmp_path / "x.json"
    with atomic_write(target, "w") as fh:
        fh.write("{}")
        assert os.path.dirname(fh.name) == str(tmp_path) and not target.exists()
    assert target.read_text() == "{}"


def test_an_error_keeps_the_old_file_and_removes_the_temporary_one(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_write(target, "w") as fh:
            fh.write("half")
            raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["x.txt"]


def test_an_unknown_mode_is_named(tmp_path):
    with pytest.raises(ValueError, match="mode must be 'wb' or 'w', got 'a'"):
        with atomic_write(tmp_path / "x", "a"):
            pass
