"""Your own recording: load_recording converts what it must and says so; `audiogen reconstruct`
writes every model's reconstruction or nothing, and refuses empty, corrupt, non-audio, silent and
nearly silent files with a message naming them."""

import json
import os

import numpy as np
import pytest
import soundfile as sf

from audiogen_lib import AudiogenError, data
from audiogen_lib.cli import main
from audiogen_lib.config import CONFIGS
from audiogen_lib.features import load_recording

PAPER = CONFIGS["paper"]
CLIP = "7_jackson_0.wav"  # a test-split clip the shipped classifiers hear as 7


@pytest.fixture(scope="module")
def seven():
    """An FSDD recording of "seven" at its own 8 kHz."""
    y, sr = sf.read(data.locate_fsdd(download=False) / CLIP, dtype="float32")
    return y, sr


@pytest.fixture
def stereo_44k(seven, tmp_path):
    """The clip at 44.1 kHz in stereo (right channel at half level), after 0.5 s of silence, 1 s of silence after it."""
    import librosa

    y, sr = seven
    y = librosa.resample(y, orig_sr=sr, target_sr=44100)
    y = np.concatenate([np.zeros(22050, np.float32), y, np.zeros(44100, np.float32)])
    path = tmp_path / "seven stereo.wav"
    sf.write(path, np.stack([y, 0.5 * y], axis=1), 44100)
    return path


@pytest.fixture
def synthetic_16k(tmp_path):
    """A 0.4 s vowel-like sound at 16 kHz: a 140 Hz harmonic series under a smooth envelope."""
    sr = 16000
    t = np.arange(int(0.4 * sr)) / sr
    y = sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 20)) * np.sin(np.pi * t / 0.4) ** 2
    path = tmp_path / "vowel16k.wav"
    sf.write(path, (0.3 * y / np.abs(y).max()).astype(np.float32), sr, subtype="PCM_16")
    return path


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- load_recording ------------------------------------------------------------------------------

def test_load_recording_converts_and_says_what_it_did(stereo_44k):
    rec = load_recording(stereo_44k, config="paper")
    assert rec.y.shape == (PAPER.n_samples,) and rec.y.dtype == np.float32
    assert (rec.source_sr, rec.channels) == (44100, 2)
    notes = " | ".join(rec.notes)
    assert "mixed 2 channels to mono" in notes
    assert "resampled from 44,100 Hz to 22,050 Hz" in notes
    removed = float(notes.split("removed ")[1].split(" s")[0])
    assert 0.4 <= removed <= 0.5                     # the 0.5 s of silence, less the onset margin
    assert "trimmed from" in notes and "to the config's 0.74 s" in notes
    assert rec.length == PAPER.n_samples


def test_load_recording_pads_a_short_clip_at_the_native_rate(seven, tmp_path):
    y, sr = seven
    path = tmp_path / "short.wav"
    sf.write(path, y[:2000], sr)                     # 0.25 s at 8 kHz
    rec = load_recording(path, config="native8k")
    assert rec.notes == ("zero-padded from 0.25 s to the config's 1.02 s",)
    assert rec.length == 2000 and np.array_equal(rec.y[:2000], y[:2000]) and not rec.y[2000:].any()


def test_load_recording_reads_uploaded_bytes(stereo_44k):
    rec = load_recording(stereo_44k.read_bytes(), config="paper", name="upload.wav")
    assert rec.name == "upload.wav" and rec.channels == 2


def test_a_quiet_recording_is_used_with_a_note(seven, tmp_path):
    y, sr = seven
    path = tmp_path / "quiet.wav"
    sf.write(path, (y / np.abs(y).max() * 10 ** (-50 / 20)).astype(np.float32), sr, subtype="FLOAT")
    rec = load_recording(path, config="native8k")
    assert rec.peak_dbfs == pytest.approx(-50.0, abs=0.1)
    assert any(n.startswith("quiet: peaks at -50.0 dBFS") for n in rec.notes)


# --- files that are refused ----------------------------------------------------------------------

def _write_bad(kind: str, path) -> str:
    """Write a bad file of ``kind``; return what the error message must say."""
    sr = 16000
    if kind == "empty":
        path.write_bytes(b"")
        return "is empty"
    if kind == "silent":
        sf.write(path, np.zeros(sr // 2, np.float32), sr, subtype="PCM_16")
        return "is silent"
    if kind == "dither":  # 0.5 s of 1-LSB dither: peak -90.3 dBFS
        rng = np.random.default_rng(0)
        sf.write(path, rng.integers(-1, 2, sr // 2).astype(np.int16), sr, subtype="PCM_16")
        return r"nearly silent: its peak is -90\.3 dBFS"
    if kind == "not audio":
        path.write_text("this is not a wav file\n")
        return "cannot read audio file"
    if kind == "corrupt":  # a wav header whose data chunk was cut off
        sf.write(path, np.full(sr, 0.1, np.float32), sr, subtype="PCM_16")
        path.write_bytes(path.read_bytes()[:30])
        return "cannot read audio file|holds no samples"
    raise ValueError(kind)


BAD = ["empty", "silent", "dither", "not audio", "corrupt"]


@pytest.mark.parametrize("kind", BAD)
def test_load_recording_refuses_bad_files_naming_them(kind, tmp_path):
    path = tmp_path / f"{kind.replace(' ', '_')}.wav"
    message = _write_bad(kind, path)
    with pytest.raises(AudiogenError, match=message) as err:
        load_recording(path, config="paper")
    assert str(path) in str(err.value)


def test_a_stereo_file_whose_channels_cancel_is_silent(tmp_path):
    y = np.sin(np.linspace(0, 100, 8000)).astype(np.float32)
    path = tmp_path / "cancel.wav"
    sf.write(path, np.stack([y, -y], axis=1), 8000, subtype="FLOAT")
    with pytest.raises(AudiogenError, match="silent after mixing its channels"):
        load_recording(path, config="native8k")


# --- audiogen reconstruct ------------------------------------------------------------------------

def test_reconstruct_a_stereo_recording_at_another_rate(stereo_44k, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run(["reconstruct", str(stereo_44k), "--out", str(out)], capsys)
    assert code == 0
    names = {"input", "ceiling", "unet", "unet_noskip", "vae"}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [f"{n}.wav" for n in names] + ["spectrograms.png", "summary.json", "summary.txt"])
    for n in names:
        info = sf.info(out / f"{n}.wav")
        assert (info.samplerate, info.channels, info.frames) == (PAPER.sr, 1, PAPER.n_samples)
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["sounds"]) == names
    assert summary["sounds"]["input"]["digit"] == 7
    assert summary["sounds"]["unet"]["digit"] == 7
    for said in ("mixed 2 channels to mono", "resampled from 44,100 Hz", "leading silence", "trimmed from",
                 "heard as 7"):
        assert said in stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folder left


def test_reconstruct_a_synthetic_wav_at_16k_with_one_model(synthetic_16k, tmp_path, capsys):
    out = tmp_path / "out"
    code, stdout, _ = run(["reconstruct", str(synthetic_16k), "--model", "unet", "--config", "native8k",
                           "--out", str(out)], capsys)
    assert code == 0
    assert sorted(p.stem for p in out.glob("*.wav")) == ["ceiling", "input", "unet"]
    assert "resampled from 16,000 Hz to 8,000 Hz" in stdout and "zero-padded from 0.40 s" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["name"] == "native8k" and 0 <= summary["sounds"]["unet"]["digit"] <= 9


@pytest.mark.parametrize("kind", BAD)
def test_reconstruct_refuses_bad_files_and_writes_nothing(kind, tmp_path, capsys):
    path = tmp_path / f"{kind.replace(' ', '_')}.wav"
    message = _write_bad(kind, path)
    out = tmp_path / "out"
    code, stdout, stderr = run(["reconstruct", str(path), "--model", "unet", "--out", str(out)], capsys)
    assert code != 0
    assert stderr.startswith("audiogen: error: ") and str(path) in stderr
    assert __import__("re").search(message, stderr)
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_reconstruct_leaves_nothing_when_writing_fails(stereo_44k, tmp_path, capsys, monkeypatch):
    from audiogen_lib import recording

    def broken(result, path):
        raise OSError("disk full")

    monkeypatch.setattr(recording, "_figure", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        main(["reconstruct", str(stereo_44k), "--model", "unet", "--out", str(out)])
    assert sorted(p.name for p in tmp_path.iterdir()) == [stereo_44k.name]


def test_reconstruct_refuses_a_non_empty_output_folder_before_any_work(stereo_44k, tmp_path, capsys, monkeypatch):
    from audiogen_lib import recording

    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    monkeypatch.setattr(recording, "load_recording", lambda *a, **k: pytest.fail("work started"))
    code, _, stderr = run(["reconstruct", str(stereo_44k), "--out", str(out)], capsys)
    assert code != 0 and "not empty" in stderr and os.listdir(out) == ["keep.txt"]


def test_model_kinds_are_checked(stereo_44k):
    from audiogen_lib.recording import reconstruct_recording

    with pytest.raises(AudiogenError, match="unknown model kinds"):
        reconstruct_recording(stereo_44k, models=("gan",))
