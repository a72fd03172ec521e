"""The one atomic write: all or nothing, and nothing left behind when it fails."""

import json
import os
import stat

import numpy as np
import pytest

from audiogen_lib.files import atomic_path, atomic_write


class Boom(Exception):
    pass


def test_atomic_write_writes_text_and_bytes(tmp_path):
    with atomic_write(tmp_path / "sub" / "a.json") as f:
        json.dump({"x": "é"}, f)
    assert json.loads((tmp_path / "sub" / "a.json").read_text(encoding="utf8")) == {"x": "é"}
    with atomic_write(tmp_path / "b.npz", "wb") as f:
        np.savez(f, a=np.arange(3))
    with np.load(tmp_path / "b.npz") as z:
        assert z["a"].tolist() == [0, 1, 2]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.npz", "sub"]


def test_a_failure_leaves_nothing_behind_and_the_old_file_as_it_was(tmp_path):
    target = tmp_path / "a.json"
    with pytest.raises(Boom):
        with atomic_write(target) as f:
            f.write("half a fi")
            raise Boom
    assert list(tmp_path.iterdir()) == []                 # no target, no temporary file
    target.write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(target) as f:
            f.write("new")
            raise KeyboardInterrupt
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_the_file_is_not_there_until_the_block_ends(tmp_path):
    target = tmp_path / "r.txt"
    with atomic_write(target) as f:
        f.write("x")
        assert not target.exists() and len(list(tmp_path.iterdir())) == 1
    assert target.read_text() == "x"


def test_atomic_path_keeps_the_suffix_for_writers_that_read_it(tmp_path):
    import soundfile as sf

    with atomic_path(tmp_path / "tone.wav") as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".") and tmp.suffix == ".wav"
        sf.write(tmp, np.zeros(80), 8000)                  # soundfile picks WAV from the name
    assert sf.info(tmp_path / "tone.wav").format == "WAV" and len(list(tmp_path.iterdir())) == 1


def test_a_writer_that_writes_nothing_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing was written"):
        with atomic_path(tmp_path / "x.keras"):
            pass
    assert list(tmp_path.iterdir()) == []


def test_new_files_get_the_usual_permissions(tmp_path):
    umask = os.umask(0o022)
    try:
        with atomic_write(tmp_path / "p.txt") as f:
            f.write("x")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "p.txt").stat().st_mode) == 0o644     # not mkstemp's 0o600


def test_a_folder_is_written_whole_or_not_at_all(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(Boom):
        with atomic_path(out, directory=True) as tmp:
            (tmp / "one.txt").write_text("1")
            raise Boom
    assert list(tmp_path.iterdir()) == []
    out.mkdir()                                            # an empty folder is replaced
    with atomic_path(out, directory=True) as tmp:
        (tmp / "one.txt").write_text("1")
    assert [p.name for p in out.iterdir()] == ["one.txt"] and list(tmp_path.iterdir()) == [out]
    with pytest.raises(OSError):                           # a folder with something in it is not
        with atomic_path(out, directory=True) as tmp:
            (tmp / "two.txt").write_text("2")
    assert [p.name for p in out.iterdir()] == ["one.txt"] and list(tmp_path.iterdir()) == [out]


def test_modes_that_would_not_write_a_new_file_are_refused(tmp_path):
    for mode in ("a", "r", "w+"):
        with pytest.raises(ValueError, match="mode"):
            with atomic_write(tmp_path / "x", mode):
                pass
    assert list(tmp_path.iterdir()) == []
