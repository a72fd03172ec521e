"""Waveform -> normalised log-spectrogram, and back to a magnitude spectrogram.

The study's pipeline (config ``"paper"``): load at 22,050 Hz, pad or trim to 0.74 s,
STFT (n_fft 512, hop 256), drop the Nyquist bin -> (256, 64), amplitude to dB,
min-max normalise to [0, 1]. Every step has its inverse beside it.

Public names
------------
load_audio              one file -> mono float32 waveform at the config's rate
load_recording          any recording (a path or an upload's bytes) -> a :class:`LoadedRecording`: the pipeline's
                        waveform and a note of each thing done to it (mixed to mono, resampled, trimmed, padded)
fix_length              zero-pad or trim to the config's duration (``librosa.util.fix_length``)
stft_magnitude          waveforms -> magnitude spectrograms (Nyquist dropped where the config says)
amplitude_to_db         magnitude -> dB, each clip floored at its max minus ``top_db``
db_to_amplitude         the inverse of :func:`amplitude_to_db` (above the floor)
normalise               dB -> [0, 1], per clip (``"clip"``, the study's) or over a fixed range (``"global"``)
denormalise             the inverse of :func:`normalise`
waveform_to_features    waveforms -> model input (N, n_bins, n_frames, 1) and each clip's dB range
features_to_magnitude   model input or output -> magnitude with the dropped bin restored, for Griffin-Lim
FeatureSet, load_features   the FSDD split as features, cached on disk

Notebook: notebooks/05_data_pipeline.ipynb
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError

NORMALISATIONS = ("clip", "global")


def _read(source, *, name: str):
    """``(samples (n, channels) float32, sample rate)`` of a file libsndfile reads, or AudiogenError naming it."""
    import io

    import soundfile as sf

    if isinstance(source, (bytes, bytearray, memoryview)):
        if len(source) == 0:
            raise AudiogenError(f"audio file {name} is empty (0 bytes); record or export it again")
        source = io.BytesIO(bytes(source))
    elif isinstance(source, (str, os.PathLike)):
        path = Path(source)
        if not path.is_file():
            raise AudiogenError(f"audio file {name} does not exist; check the path")
        if path.stat().st_size == 0:
            raise AudiogenError(f"audio file {name} is empty (0 bytes); record or export it again")
    try:
        y, native_sr = sf.read(source, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, OSError, TypeError) as err:
        raise AudiogenError(f"cannot read audio file {name}: {err}; it is not audio that libsndfile reads "
                            f"(wav, flac, ogg, ...) or it is corrupt: export it again as a 16-bit wav") from err
    if y.shape[0] == 0:
        raise AudiogenError(f"audio file {name} holds no samples; remove it or record it again")
    if not np.all(np.isfinite(y)):
        raise AudiogenError(f"audio file {name} holds NaN or Inf samples; it is corrupt, replace it")
    return y, int(native_sr)


def load_audio(path: str | os.PathLike, *, sr: int) -> np.ndarray:
    """Read a wav (or any file libsndfile reads) as a mono float32 waveform at ``sr`` Hz.

    Stereo and multichannel files are mixed down to mono (the mean of the channels);
    other sample rates are resampled to ``sr`` (soxr, high quality), as librosa does.
    Unreadable, empty or non-finite files raise :class:`AudiogenError`.
    """
    import librosa

    path = Path(path)
    y, native_sr = _read(path, name=str(path))
    y = y.mean(axis=1) if y.shape[1] > 1 else y[:, 0]
    if native_sr != sr:
        y = librosa.resample(y, orig_sr=native_sr, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


# The quietest FSDD recording peaks at -39.6 dBFS. Below MIN_PEAK_DBFS a recording is refused:
# per-clip normalisation would stretch its noise floor into a full-contrast image (a 0.5 s file
# of 1-LSB dither, peak -90 dBFS, became a bright noise spectrogram). Between the two it is used
# with a note.
MIN_PEAK_DBFS = -60.0
QUIET_PEAK_DBFS = -40.0


@dataclass(frozen=True)
class LoadedRecording:
    """A recording made ready for the models, and what was done to it.

    ``y`` has the config's ``n_samples`` at ``config.sr``; ``length`` of them are the
    recording (the rest is zero padding); ``notes`` says in words what was converted,
    trimmed or padded, in order.
    """

    name: str
    y: np.ndarray
    config: FeatureConfig
    length: int
    source_sr: int
    channels: int
    source_seconds: float
    peak_dbfs: float
    notes: tuple[str, ...]


def load_recording(source, *, config: FeatureConfig | str = "paper", name: str | None = None,
                   top_db: float = 40.0, min_peak_dbfs: float = MIN_PEAK_DBFS) -> LoadedRecording:
    """Any recording -> the waveform the models take, as the FSDD clips were made, with a note of each step.

    ``source`` is a path, or the bytes of an uploaded file (``name`` then names it in
    messages). In order:

    1. read it (any format libsndfile reads); an empty, corrupt or non-audio file raises
       :class:`AudiogenError` naming it;
    2. mix stereo or multichannel to mono (the mean of the channels);
    3. refuse silence, and a peak below ``min_peak_dbfs`` (-60 dBFS; the quietest FSDD clip
       peaks at -39.6 dBFS), naming the file's level; note a peak below -40 dBFS;
    4. resample to ``config.sr`` (soxr, high quality) if it was recorded at another rate;
    5. remove leading silence (everything before the first frame within ``top_db`` of the
       loudest; FSDD's clips start at the word);
    6. trim to ``config.duration`` if longer, or zero-pad if shorter, as :func:`fix_length` does.

    Notebook: notebooks/09_listening_experiments.ipynb (your own recording)
    """
    import librosa

    config = get_config(config)
    name = name or (str(source) if isinstance(source, (str, os.PathLike)) else "<uploaded audio>")
    y, source_sr = _read(source, name=name)
    channels, n_source = y.shape[1], y.shape[0]
    notes = []
    if channels > 1:
        y = y.mean(axis=1)
        notes.append(f"mixed {channels} channels to mono")
    else:
        y = y[:, 0]
    peak = float(np.max(np.abs(y)))
    if peak == 0.0:
        mixed = " after mixing its channels (they cancel out)" if channels > 1 else ""
        raise AudiogenError(f"audio file {name} is silent{mixed}: every sample is zero; record the digit again")
    peak_dbfs = 20.0 * np.log10(peak)
    if peak_dbfs < min_peak_dbfs:
        raise AudiogenError(
            f"audio file {name} is nearly silent: its peak is {peak_dbfs:.1f} dBFS, below {min_peak_dbfs:.0f} dBFS "
            f"(the quietest FSDD recording peaks at -39.6 dBFS). Per-clip normalisation would turn its noise "
            f"into a full-contrast spectrogram; record it louder (closer to the microphone, more input gain)")
    if peak_dbfs < QUIET_PEAK_DBFS:
        notes.append(f"quiet: peaks at {peak_dbfs:.1f} dBFS, below every FSDD recording (-39.6 dBFS the quietest); "
                     f"its noise is stretched with it by the per-clip normalisation")
    if source_sr != config.sr:
        y = librosa.resample(y, orig_sr=source_sr, target_sr=config.sr, res_type="soxr_hq")
        notes.append(f"resampled from {source_sr:,} Hz to {config.sr:,} Hz")
    frame = min(config.n_fft, y.size)
    _, (start, _) = librosa.effects.trim(y, top_db=top_db, frame_length=frame, hop_length=max(1, frame // 4))
    start = max(0, int(start) - frame // 2)  # trim marks the first loud frame's centre: keep the onset
    if start >= config.sr // 100:  # 10 ms or more
        y = y[start:]
        notes.append(f"removed {start / config.sr:.2f} s of leading silence (quieter than {top_db:.0f} dB below the peak)")
    length = min(y.size, config.n_samples)
    if y.size > config.n_samples:
        notes.append(f"trimmed from {y.size / config.sr:.2f} s to the config's {config.duration} s "
                     f"(config {config.name!r}: the models take {config.duration} s)")
    elif y.size < config.n_samples:
        notes.append(f"zero-padded from {y.size / config.sr:.2f} s to the config's {config.duration} s")
    y = fix_length(y.astype(np.float32), config=config)
    return LoadedRecording(name, np.ascontiguousarray(y, dtype=np.float32), config, length, source_sr, channels,
                     n_source / source_sr, round(peak_dbfs, 1), tuple(notes))


def fix_length(y: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """Zero-pad at the end, or trim, the last axis to ``config.n_samples`` (``librosa.util.fix_length``)."""
    import librosa

    return librosa.util.fix_length(np.asarray(y), size=get_config(config).n_samples, axis=-1)


def _check_waveforms(y: np.ndarray, config: FeatureConfig) -> np.ndarray:
    y = np.asarray(y, dtype=np.float32)
    if y.ndim not in (1, 2) or y.shape[-1] != config.n_samples:
        raise AudiogenError(
            f"waveforms must have shape (n_samples,) or (N, n_samples) with n_samples={config.n_samples} "
            f"for config {config.name!r}, got {y.shape}; pass them through fix_length first"
        )
    if not np.all(np.isfinite(y)):
        raise AudiogenError("waveforms hold NaN or Inf; clean the audio before computing features")
    return y


def stft_magnitude(y: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """Magnitude STFT (Hann window, centred frames) of waveforms ``(..., n_samples)``.

    Returns ``(..., n_bins, n_frames)``: the Nyquist bin is dropped when
    ``config.drop_nyquist`` (the study's 257 -> 256).
    """
    import librosa

    config = get_config(config)
    S = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=config.n_fft, hop_length=config.hop_length))
    return S[..., : config.n_bins, :]


def amplitude_to_db(S: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """``20 log10(max(S, amin))``, floored per clip at its maximum minus ``top_db``.

    Same as ``librosa.amplitude_to_db(S, ref=1.0)`` applied to each clip on its own
    (librosa's own ``top_db`` would use the maximum of the whole batch).
    """
    config = get_config(config)
    S_db = 20.0 * np.log10(np.maximum(config.amin, np.asarray(S, dtype=np.float64)))
    floor = S_db.max(axis=(-2, -1), keepdims=True) - config.top_db
    return np.maximum(S_db, floor).astype(np.float32)


def db_to_amplitude(S_db: np.ndarray) -> np.ndarray:
    """``10 ** (S_db / 20)``: the inverse of :func:`amplitude_to_db` above its floor."""
    return np.power(10.0, np.asarray(S_db, dtype=np.float64) / 20.0).astype(np.float32)


def _check_mode(mode: str) -> None:
    if mode not in NORMALISATIONS:
        raise AudiogenError(f"unknown normalisation {mode!r}; use one of {NORMALISATIONS}")


def normalise(S_db: np.ndarray, *, config: FeatureConfig, mode: str = "clip"):
    """Map dB spectrograms ``(..., n_bins, n_frames)`` to [0, 1].

    ``mode="clip"`` (the study's): each clip's own min and max become 0 and 1.
    ``mode="global"``: the fixed ``config.global_db_range`` becomes [0, 1] (values
    outside are clipped), so any image in [0, 1], a VAE sample included, has a loudness.

    Returns ``(x, db_min, db_max)``, with ``db_min`` and ``db_max`` of shape ``S_db.shape[:-2]``,
    which :func:`denormalise` takes back.
    """
    config = get_config(config)
    _check_mode(mode)
    S_db = np.asarray(S_db, dtype=np.float32)
    if not np.all(np.isfinite(S_db)):
        raise AudiogenError("dB spectrogram holds NaN or Inf; check the audio it came from")
    if mode == "global":
        lo, hi = config.global_db_range
        db_min = np.full(S_db.shape[:-2], lo, np.float32)
        db_max = np.full(S_db.shape[:-2], hi, np.float32)
        x = np.clip((S_db - lo) / (hi - lo), 0.0, 1.0)
        return x.astype(np.float32), db_min, db_max
    db_min = S_db.min(axis=(-2, -1))
    db_max = S_db.max(axis=(-2, -1))
    flat = np.flatnonzero(np.broadcast_to(db_max == db_min, db_min.shape))
    if flat.size:
        raise AudiogenError(
            f"clip {flat[0]} (of {db_min.size}) is silent or constant ({db_min.flat[flat[0]]:.1f} dB everywhere): "
            f"per-clip min-max normalisation would divide by zero; drop the clip or use mode='global'"
        )
    x = (S_db - db_min[..., None, None]) / (db_max - db_min)[..., None, None]
    return x.astype(np.float32), db_min, db_max


def denormalise(x: np.ndarray, db_min, db_max) -> np.ndarray:
    """Map normalised spectrograms ``(..., n_bins, n_frames)`` back to dB.

    ``db_min`` and ``db_max`` are what :func:`normalise` returned (one value per clip,
    or scalars, e.g. ``config.global_db_range`` for a VAE sample).
    """
    x = np.asarray(x, dtype=np.float32)
    db_min = np.asarray(db_min, dtype=np.float32)[..., None, None]
    db_max = np.asarray(db_max, dtype=np.float32)[..., None, None]
    return x * (db_max - db_min) + db_min


def _as_images(x: np.ndarray, config: FeatureConfig) -> np.ndarray:
    """Accept ``(n_bins, n_frames)``, ``(N, n_bins, n_frames)`` or with a trailing channel; return ``(..., bins, frames)``."""
    x = np.asarray(x, dtype=np.float32)
    if x.ndim >= 3 and x.shape[-1] == 1 and x.shape[-3:-1] == (config.n_bins, config.n_frames):
        x = x[..., 0]
    if x.ndim not in (2, 3) or x.shape[-2:] != (config.n_bins, config.n_frames):
        raise AudiogenError(
            f"spectrogram of shape {x.shape} does not match config {config.name!r}: expected "
            f"({config.n_bins}, {config.n_frames}), (N, {config.n_bins}, {config.n_frames}) or "
            f"(N, {config.n_bins}, {config.n_frames}, 1); was it made with another config?"
        )
    if not np.all(np.isfinite(x)):
        raise AudiogenError("spectrogram holds NaN or Inf; check the model output or the input features")
    return x


def waveform_to_features(y: np.ndarray, *, config: FeatureConfig, mode: str = "clip"):
    """Waveforms ``(N, n_samples)`` -> ``(x, db_min, db_max)`` with ``x`` float32 ``(N, n_bins, n_frames, 1)``."""
    config = get_config(config)
    y = _check_waveforms(y, config)
    single = y.ndim == 1
    S_db = amplitude_to_db(stft_magnitude(np.atleast_2d(y), config=config), config=config)
    x, db_min, db_max = normalise(S_db, config=config, mode=mode)
    x = x[..., None]
    return (x[0], db_min[0], db_max[0]) if single else (x, db_min, db_max)


def restore_nyquist(S: np.ndarray, *, config: FeatureConfig) -> np.ndarray:
    """Append a zero Nyquist row where the config dropped it, giving ``n_fft // 2 + 1`` rows."""
    config = get_config(config)
    if not config.drop_nyquist:
        return S
    pad = [(0, 0)] * (S.ndim - 2) + [(0, 1), (0, 0)]
    return np.pad(S, pad)


def features_to_magnitude(x: np.ndarray, *, config: FeatureConfig, db_min, db_max) -> np.ndarray:
    """Normalised spectrograms -> linear magnitude ``(..., n_fft // 2 + 1, n_frames)`` for Griffin-Lim.

    Undoes :func:`normalise` with ``db_min``/``db_max``, converts dB to amplitude and
    restores the dropped Nyquist bin (as zeros).
    """
    config = get_config(config)
    x = _as_images(x, config)
    return restore_nyquist(db_to_amplitude(denormalise(x, db_min, db_max)), config=config)


# --- the FSDD as features, cached -------------------------------------------------------------


@dataclass
class FeatureSet:
    """One split of FSDD as model inputs, with everything needed to turn them back into sound."""

    config: FeatureConfig
    normalisation: str
    x: np.ndarray          # (N, n_bins, n_frames, 1) float32 in [0, 1]
    db_min: np.ndarray     # (N,) each clip's dB range (the global range for "global")
    db_max: np.ndarray
    waveforms: np.ndarray  # (N, n_samples) the padded or trimmed audio at config.sr
    recordings: list = field(repr=False)
    lengths: np.ndarray | None = None  # (N,) samples of speech in each waveform (the rest is padding)

    def __len__(self) -> int:
        return len(self.recordings)

    @property
    def digits(self) -> np.ndarray:
        return np.array([r.digit for r in self.recordings])

    @property
    def speakers(self) -> list[str]:
        return [r.speaker for r in self.recordings]

    def magnitude(self) -> np.ndarray:
        """The magnitude the features encode (Nyquist restored), ready for Griffin-Lim."""
        return features_to_magnitude(self.x, config=self.config, db_min=self.db_min, db_max=self.db_max)

    def clips_hash(self) -> str:
        """A short hash of which clips these are, in order: part of every cache key built on them."""
        import hashlib

        return hashlib.sha256("\n".join(r.name for r in self.recordings).encode()).hexdigest()[:16]

    def take(self, index) -> "FeatureSet":
        """A subset by integer index array."""
        index = np.asarray(index)
        return FeatureSet(self.config, self.normalisation, self.x[index], self.db_min[index], self.db_max[index],
                          self.waveforms[index], [self.recordings[i] for i in index],
                          None if self.lengths is None else self.lengths[index])

    def subset(self, n: int | None, *, seed: int = 0) -> "FeatureSet":
        """``n`` clips chosen at random (seeded) with every digit equally represented; all if ``n`` is None."""
        if n is None or n >= len(self):
            return self
        rng = np.random.default_rng(seed)
        digits = self.digits
        per_digit = [rng.permutation(np.flatnonzero(digits == d)) for d in np.unique(digits)]
        order = [i for group in zip(*per_digit) for i in group]  # round-robin over digits
        return self.take(np.sort(order[:n]))


def cache_dir() -> Path:
    """Where feature caches go: ``$AUDIOGEN_CACHE`` or ``~/.cache/audiogen/features``."""
    env = os.environ.get("AUDIOGEN_CACHE")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "audiogen" / "features"


def _cache_path(config: FeatureConfig, directory: Path) -> Path:
    from .data import manifest_hash

    return directory / f"fsdd-{config.name}-{config.fingerprint()}-{manifest_hash()}.npz"


def _compute_all(config: FeatureConfig, data_dir) -> dict:
    from .data import list_recordings, locate_fsdd
    from .runtime import progress

    rec_dir = locate_fsdd(data_dir)
    recs = list_recordings("all")
    waves = np.empty((len(recs), config.n_samples), np.float32)
    lengths = np.empty(len(recs), np.int32)
    for i, r in enumerate(progress(recs, desc=f"FSDD -> {config.name} features", unit="clip")):
        y = load_audio(rec_dir / r.name, sr=config.sr)
        lengths[i] = y.size
        waves[i] = fix_length(y, config=config)
    S_db = amplitude_to_db(stft_magnitude(waves, config=config), config=config)
    return {"waveforms": waves, "S_db": S_db, "lengths": lengths, "names": np.array([r.name for r in recs])}


def _write_atomic_npz(path: Path, arrays: dict) -> None:
    from .files import atomic_write

    with atomic_write(path, "wb") as f:
        np.savez(f, **arrays)


def load_all_spectrograms(config: str | FeatureConfig = "paper", *, data_dir=None, cache: Path | None = None) -> dict:
    """Waveforms and dB spectrograms of all 3,000 clips, from the cache or computed and cached.

    The cache file name holds the config's fingerprint and the data manifest's hash,
    so a change to either builds a new cache; it is written atomically.
    """
    from .data import manifest_hash

    config = get_config(config)
    path = _cache_path(config, Path(cache) if cache else cache_dir())
    if path.exists() and _file_key(path) in _IN_MEMORY:
        return _IN_MEMORY[_file_key(path)]
    if path.exists():
        try:
            with np.load(path) as z:
                meta = json.loads(str(z["meta"]))
                if meta == {"config": config.to_dict(), "manifest": manifest_hash()}:
                    return _remember(path, {k: z[k] for k in ("waveforms", "S_db", "lengths", "names")})
        except (OSError, ValueError, KeyError):
            pass  # unreadable or stale: rebuilt below
    arrays = _compute_all(config, data_dir)
    arrays["meta"] = np.array(json.dumps({"config": config.to_dict(), "manifest": manifest_hash()}))
    _write_atomic_npz(path, arrays)
    arrays.pop("meta")
    return _remember(path, arrays)


_IN_MEMORY: dict[tuple, dict] = {}  # one copy per process: chapters load train and test separately


def _file_key(path: Path) -> tuple:
    st = path.stat()
    return (str(path), st.st_mtime_ns, st.st_size)


# Each split as load_features made it from the arrays in _IN_MEMORY (normalising 2,400 clips anew
# on every call took a chapter's or a test's time); cleared with them.
_SPLITS: dict[tuple, "FeatureSet"] = {}


def _remember(path: Path, arrays: dict) -> dict:
    for a in arrays.values():
        a.setflags(write=False)
    _IN_MEMORY.clear()  # keep at most one config's arrays (about 400 MB for "paper")
    _SPLITS.clear()
    _IN_MEMORY[_file_key(path)] = arrays
    return arrays


def load_features(split: str = "train", *, config: str | FeatureConfig = "paper", normalisation: str = "clip",
                  data_dir=None, cache: Path | None = None) -> FeatureSet:
    """FSDD ``split`` (``"train"``: 2,400 clips, ``"validation"``: 300, ``"test"``: 300, ``"all"``) as a :class:`FeatureSet`.

    >>> train = load_features("train", config="paper")   # doctest: +SKIP
    >>> train.x.shape, train.x.dtype
    ((2400, 256, 64, 1), dtype('float32'))
    """
    from .data import list_recordings

    config = get_config(config)
    _check_mode(normalisation)
    arrays = load_all_spectrograms(config, data_dir=data_dir, cache=cache)
    key = (id(arrays), split, normalisation)
    if key not in _SPLITS:
        recs = list_recordings(split)
        position = {r.name: i for i, r in enumerate(list_recordings("all"))}
        index = np.array([position[r.name] for r in recs])
        x, db_min, db_max = normalise(arrays["S_db"][index], config=config, mode=normalisation)
        fs = FeatureSet(config, normalisation, x[..., None], db_min, db_max, arrays["waveforms"][index], recs,
                        np.minimum(arrays["lengths"][index], config.n_samples))
        for a in (fs.x, fs.db_min, fs.db_max, fs.waveforms, fs.lengths):
            a.setflags(write=False)
        _SPLITS[key] = fs
    fs = _SPLITS[key]
    return dataclasses.replace(fs, recordings=list(fs.recordings))  # shared read-only arrays, its own object
