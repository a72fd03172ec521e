import hashlib
import http.server
import io
import os
import shutil
import threading
import zipfile
from functools import partial

import numpy as np
import pytest

from audiogen_lib import AudiogenError
from audiogen_lib import data


def test_manifest_lists_the_3000_recordings():
    m = data.manifest()
    assert len(m) == 3000 and all(len(v) == 64 for v in m.values())


def test_official_split_and_the_validation_split_carved_from_training():
    train, val, test = (data.list_recordings(s) for s in ("train", "validation", "test"))
    assert (len(train), len(val), len(test)) == (2400, 300, 300)
    assert {r.take for r in test} == set(range(5)) and {r.take for r in val} == set(range(5, 10))
    assert min(r.take for r in train) == 10
    for split in (val, test):  # every speaker says every digit five times
        assert {r.speaker for r in split} == set(data.speakers()) and len({r.digit for r in split}) == 10
    names = [{r.name for r in s} for s in (train, val, test)]
    assert not (names[0] & names[1] or names[0] & names[2] or names[1] & names[2])
    assert len(names[0] | names[1] | names[2]) == 3000


@pytest.mark.parametrize("name, parsed", [("7_jackson_32.wav", (7, "jackson", 32)),
                                          ("recordings/0_yweweler_0.wav", (0, "yweweler", 0))])
def test_parse_name(name, parsed):
    assert data.parse_name(name) == parsed


@pytest.mark.parametrize("name", ["jackson_7_32.wav", "7_jackson.wav", "77_jackson_3.wav", "7_jackson_3.mp3"])
def test_bad_names_are_refused(name):
    with pytest.raises(AudiogenError, match="not an FSDD file name"):
        data.parse_name(name)


def test_unknown_split_is_refused():
    with pytest.raises(AudiogenError, match="split 'valid'"):
        data.list_recordings("valid")


# --- the copy on disk -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def fsdd():
    return data.locate_fsdd(download=False)


def test_located_copy_is_complete_and_verified(fsdd):
    assert len(list(fsdd.glob("*.wav"))) == 3000
    assert data.verify_fsdd(fsdd) == fsdd


def test_recordings_are_mono_8k(fsdd):
    import soundfile as sf

    infos = [sf.info(fsdd / r.name) for r in data.list_recordings("test")]
    assert {(i.samplerate, i.channels, i.subtype) for i in infos} == {(8000, 1, "PCM_16")}


@pytest.fixture
def fsdd_copy(fsdd, tmp_path):
    dest = tmp_path / "fsdd" / "recordings"
    shutil.copytree(fsdd, dest)
    return dest


def test_checksum_mismatch_names_the_file(fsdd_copy, monkeypatch):
    victim = fsdd_copy / "3_theo_12.wav"
    raw = bytearray(victim.read_bytes())
    raw[-1] ^= 1
    victim.write_bytes(raw)
    with pytest.raises(AudiogenError, match="checksum mismatch for .*3_theo_12.wav"):
        data.verify_fsdd(fsdd_copy.parent)
    monkeypatch.setenv("AUDIOGEN_FSDD", str(fsdd_copy.parent))
    with pytest.raises(AudiogenError, match=r"\$AUDIOGEN_FSDD.*3_theo_12.wav"):
        data.locate_fsdd()


def test_missing_recording_is_reported(fsdd_copy):
    (fsdd_copy / "9_lucas_49.wav").unlink()
    with pytest.raises(AudiogenError, match="lacks 1 of the 3000.*9_lucas_49.wav"):
        data.verify_fsdd(fsdd_copy)


def test_missing_and_empty_folders_are_reported(tmp_path):
    with pytest.raises(AudiogenError, match="does not exist"):
        data.locate_fsdd(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(AudiogenError, match="holds no .wav files"):
        data.locate_fsdd(tmp_path / "empty")


def test_lookup_order(fsdd, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("AUDIOGEN_FSDD", str(tmp_path / "nowhere"))
    assert data.locate_fsdd(fsdd) == fsdd                 # an explicit path wins
    with pytest.raises(AudiogenError, match="AUDIOGEN_FSDD"):
        data.locate_fsdd()                                # then the variable, even if wrong
    monkeypatch.delenv("AUDIOGEN_FSDD")
    with pytest.raises(AudiogenError, match="allow the download"):
        data.locate_fsdd(download=False)                  # then the default folder
    assert data.default_data_dir().is_relative_to(tmp_path / "cache")


# --- downloading, from a local server -----------------------------------------------------------

SMALL = ["0_george_0.wav", "5_nicolas_7.wav", "9_yweweler_49.wav"]


def _archive(fsdd, names, *, truncate=False) -> bytes:
    """A zip laid out as GitHub's archive of the tag: a README and recordings/ under one top folder."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("free-spoken-digit-dataset-1.0.10/README.md", "FSDD\n")
        for n in names:
            z.write(fsdd / n, arcname=f"free-spoken-digit-dataset-1.0.10/recordings/{n}")
    raw = buf.getvalue()
    return raw[: len(raw) // 2] if truncate else raw


def _sha256(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def test_the_archive_is_pinned_by_its_sha256():
    """The release archive itself is pinned (the sha256 GitHub's zip of tag v1.0.10 has), not only its files."""
    assert data.FSDD_URL.endswith("/archive/refs/tags/v1.0.10.zip")
    assert data.FSDD_ARCHIVE_SHA256 == "c680098f5d2355ba7cc4bd8b0ca9e0a24c00ebe3b4c552208889a4d28d4fbc2b"
    import inspect

    assert inspect.signature(data.download_fsdd).parameters["known_hash"].default == data.FSDD_ARCHIVE_SHA256


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _expected(fsdd, names):
    return {n: hashlib.sha256((fsdd / n).read_bytes()).hexdigest() for n in names}


def test_download_extracts_and_verifies(fsdd, server, tmp_path):
    root, url = server
    raw = _archive(fsdd, SMALL)
    (root / "fsdd.zip").write_bytes(raw)
    out = data.download_fsdd(tmp_path / "dl", url=f"{url}/fsdd.zip", known_hash=_sha256(raw),
                             expected=_expected(fsdd, SMALL))
    assert sorted(p.name for p in out.iterdir()) == sorted(SMALL)
    assert os.listdir(tmp_path / "dl") == ["recordings"]  # no temporary leftovers


def test_download_of_another_archive_leaves_nothing(fsdd, server, tmp_path):
    """An archive whose sha256 is not the pinned one is refused before anything is unpacked."""
    root, url = server
    (root / "fsdd.zip").write_bytes(_archive(fsdd, SMALL))
    with pytest.raises(AudiogenError, match=r"is not the FSDD v1\.0\.10 release .*0{64}.*nothing was kept"):
        data.download_fsdd(tmp_path / "dl", url=f"{url}/fsdd.zip", known_hash="0" * 64, expected=_expected(fsdd, SMALL))
    assert os.listdir(tmp_path / "dl") == []


def test_download_with_bad_checksum_leaves_nothing(fsdd, server, tmp_path):
    root, url = server
    raw = _archive(fsdd, SMALL)
    (root / "fsdd.zip").write_bytes(raw)
    expected = {**_expected(fsdd, SMALL), SMALL[1]: "0" * 64}
    with pytest.raises(AudiogenError, match=f"checksum mismatch for .*{SMALL[1]}"):
        data.download_fsdd(tmp_path / "dl", url=f"{url}/fsdd.zip", known_hash=_sha256(raw), expected=expected)
    assert os.listdir(tmp_path / "dl") == []


def test_interrupted_download_leaves_nothing(fsdd, server, tmp_path):
    root, url = server
    (root / "fsdd.zip").write_bytes(_archive(fsdd, SMALL, truncate=True))
    with pytest.raises(AudiogenError, match="damaged.*nothing was kept"):
        data.download_fsdd(tmp_path / "dl", url=f"{url}/fsdd.zip", known_hash=None, expected=_expected(fsdd, SMALL))
    assert os.listdir(tmp_path / "dl") == []
    with pytest.raises(AudiogenError, match="is not the FSDD v1.0.10 release"):  # with the hash: caught earlier
        data.download_fsdd(tmp_path / "dl", url=f"{url}/fsdd.zip", expected=_expected(fsdd, SMALL))
    assert os.listdir(tmp_path / "dl") == []


def test_unreachable_server_is_reported(tmp_path):
    with pytest.raises(AudiogenError, match="download of FSDD .* failed.*AUDIOGEN_FSDD"):
        data.download_fsdd(tmp_path / "dl", url="http://127.0.0.1:9/fsdd.zip")
    assert os.listdir(tmp_path / "dl") == []
