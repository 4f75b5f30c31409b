"""Atomic writes: an interrupted write leaves the old artifact (or nothing), never half of one."""

import pytest

from foldwise.io import artifacts


def test_atomic_dir_replaces_a_whole_folder_or_nothing(tmp_path):
    target = tmp_path / "model"
    with artifacts.atomic_dir(target) as folder:
        (folder / "weights").write_text("v1")
        (folder / "head.json").write_text("{}")
    assert sorted(p.name for p in target.iterdir()) == ["head.json", "weights"]

    with pytest.raises(KeyboardInterrupt), artifacts.atomic_dir(target) as folder:
        (folder / "weights").write_text("v2")
        raise KeyboardInterrupt  # killed between two files of the save
    assert (target / "weights").read_text() == "v1" and (target / "head.json").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary folder left

    with artifacts.atomic_dir(target) as folder:
        (folder / "weights").write_text("v3")
    assert [p.name for p in target.iterdir()] == ["weights"] and (target / "weights").read_text() == "v3"
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
