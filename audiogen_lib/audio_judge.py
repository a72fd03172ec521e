"""A second judge, of another kind than the CNN: MFCC statistics of the 8 kHz waveform and a linear classifier.

The CNN of :mod:`audiogen_lib.classifier` reads the normalised log-spectrogram images the
generators produce, so a generator can pass it by producing what it likes. This judge hears
the sound instead, through features no generator makes: the waveform resampled to the
recordings' own 8 kHz, 20-ish MFCCs and their deltas, summarised over the voiced part (mean
and standard deviation, plus the mean of each of a few equal time segments, which keeps the
order of the sounds), standardised, then a multinomial logistic regression.

It is trained on takes 10-49 in the pipeline's domain: each clip as loaded at the config's
rate *and* as rebuilt from its true magnitude by the library's default phase reconstruction
(the ceiling), so that phase reconstruction alone is not held against a model. Every setting
is chosen on validation (takes 5-9); test (takes 0-4) is scored once, after. It ships without
pickle: the scaler's mean and scale and the model's coefficients in
``pretrained/audio_judge[_speaker]_<config>.npz``, with a card ``.json`` beside it.

Public names
------------
TARGETS              ``("digit", "speaker")``: what a judge recognises
AudioJudge           the shipped arrays and settings; prediction is a few lines of numpy
audio_features       waveforms ``(N, n)`` at ``sr`` -> ``(N, d)`` MFCC statistics (unstandardised)
fit_audio_judge      features and labels -> (judge, the scikit-learn pipeline it was exported from)
train_audio_judge    the whole recipe: ceiling audio, the validation grid, the final fit, the card
load_audio_judge     the shipped judge (its ``.npz`` checked against its card's sha256)
audio_probabilities  judge + waveforms at ``sr`` -> ``(N, classes)``
audio_embedding      judge + waveforms at ``sr`` -> ``(N, d)`` standardised features, for distances
ceiling_audio        a FeatureSet's clips rebuilt from their true magnitudes by the default phase method (cached)
ship_audio_judge     write a judge's ``.npz`` and card into ``pretrained/``; ``judge_path`` says where

Run ``python -m audiogen_lib.audio_judge --target digit --ship`` (or ``--target speaker``).

Notebook: notebooks/08_judges.ipynb, notebooks/10_generation.ipynb
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import AudiogenError

TARGETS = ("digit", "speaker")
JUDGE_SR = 8000  # the recordings' own rate: the judge hears 0-4 kHz, as FSDD was recorded
MIN_SECONDS = 0.1
FEATURES = {"sr": JUDGE_SR, "n_fft": 256, "hop_length": 80, "n_mels": 40, "n_mfcc": 20, "n_segments": 4,
            "top_db": 30.0}
# The validation grid: every setting of the shipped judges was chosen from it (see the cards' "selection").
GRID = {"n_mfcc": (13, 20, 30), "n_segments": (3, 4), "C": (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0)}
HERE = Path(__file__).resolve().parent / "pretrained"


@dataclass
class AudioJudge:
    """A standardiser and a linear softmax classifier over :func:`audio_features`, as plain arrays."""

    target: str
    config: str                 # the feature config of the pipeline whose domain it was trained in
    classes: np.ndarray         # (K,) digits 0-9 or speaker names
    settings: dict              # the feature settings (FEATURES, with the chosen n_mfcc and n_segments)
    mean: np.ndarray            # (d,) StandardScaler.mean_
    scale: np.ndarray           # (d,) StandardScaler.scale_
    coef: np.ndarray            # (K, d) LogisticRegression.coef_
    intercept: np.ndarray       # (K,)
    card: dict = field(default_factory=dict, repr=False)

    def save(self, path: str | Path) -> str:
        """Write the arrays to ``path`` (``.npz``, no pickle), atomically; return the file's sha256."""
        from .files import atomic_write

        with atomic_write(path, "wb") as f:
            np.savez(f, target=np.array(self.target), config=np.array(self.config), classes=self.classes,
                     settings=np.array(json.dumps(self.settings, sort_keys=True)), mean=self.mean,
                     scale=self.scale, coef=self.coef, intercept=self.intercept)
        return _sha256(path)

    @classmethod
    def read(cls, path: str | Path, card: dict | None = None) -> "AudioJudge":
        with np.load(path, allow_pickle=False) as z:
            return cls(str(z["target"]), str(z["config"]), z["classes"], json.loads(str(z["settings"])),
                       z["mean"], z["scale"], z["coef"], z["intercept"], card or {})


def _sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _check_audio(y, sr) -> np.ndarray:
    """Waveforms as ``(N, n)`` float32, or :class:`AudiogenError` naming what is wrong."""
    if isinstance(sr, bool) or not isinstance(sr, (int, np.integer)) or sr < JUDGE_SR:
        raise AudiogenError(f"sample rate sr={sr!r}: the audio judge takes waveforms at an integer rate of at "
                            f"least {JUDGE_SR} Hz (it hears 0-{JUDGE_SR // 2} Hz); pass the rate the waveforms "
                            f"were made at, e.g. sr=config.sr (22050 for the 'paper' config)")
    y = np.asarray(y, dtype=np.float32)
    if y.ndim == 1:
        y = y[None]
    if y.ndim != 2 or y.shape[0] == 0:
        raise AudiogenError(f"waveforms of shape {y.shape}: the audio judge takes a non-empty batch (N, n_samples) "
                            f"or one waveform (n_samples,)")
    if y.shape[1] < MIN_SECONDS * sr:
        raise AudiogenError(f"waveforms of {y.shape[1]} samples at {sr} Hz ({y.shape[1] / sr:.3f} s): the audio "
                            f"judge needs at least {MIN_SECONDS} s of audio a clip")
    if not np.isfinite(y).all():
        raise AudiogenError(f"{int((~np.isfinite(y).any(axis=1)).sum())} of {len(y)} waveforms hold NaN or "
                            f"infinite samples; the audio judge needs finite audio")
    return y


def audio_features(y: np.ndarray, sr: int, *, settings: dict | None = None) -> np.ndarray:
    """Waveforms ``(N, n)`` (or one ``(n,)``) at ``sr`` Hz -> ``(N, 4 n_mfcc + n_segments n_mfcc + 1)``.

    1. resample to 8 kHz (``librosa.resample``, soxr);
    2. MFCCs (``n_mfcc``, ``n_mels`` mel bands, 32 ms windows every 10 ms) and their deltas;
    3. the voiced part: from the first to the last frame whose RMS is within ``top_db`` of the clip's loudest;
    4. over it: mean and std of the MFCCs and of the deltas, the MFCC mean of each of ``n_segments`` equal
       segments in order, and the log of its duration in seconds.

    Deterministic: the same waveforms give the same numbers.
    """
    import librosa

    s = {**FEATURES, **(settings or {})}
    y = _check_audio(y, sr)
    if sr != s["sr"]:
        y = librosa.resample(y, orig_sr=int(sr), target_sr=s["sr"], res_type="soxr_hq", axis=-1)
    mfcc = librosa.feature.mfcc(y=y, sr=s["sr"], n_mfcc=s["n_mfcc"], n_fft=s["n_fft"], hop_length=s["hop_length"],
                                n_mels=s["n_mels"])
    delta = librosa.feature.delta(mfcc, axis=-1, mode="nearest")
    rms = librosa.feature.rms(y=y, frame_length=s["n_fft"], hop_length=s["hop_length"])[:, 0]
    rms_db = 20 * np.log10(np.maximum(rms, 1e-10))
    k = s["n_segments"]
    out = []
    for m, d, level in zip(mfcc, delta, rms_db):
        voiced = np.flatnonzero(level >= level.max() - s["top_db"])
        a, b = voiced[0], voiced[-1] + 1
        m, d = m[:, a:b], d[:, a:b]
        seg = np.repeat(m, k, axis=1) if m.shape[1] < k else m  # fewer frames than segments: each repeated
        segments = [part.mean(axis=1) for part in np.array_split(seg, k, axis=1)]
        duration = (b - a) * s["hop_length"] / s["sr"]
        out.append(np.concatenate([m.mean(1), m.std(1), d.mean(1), d.std(1), *segments, [np.log(duration)]]))
    return np.asarray(out, dtype=np.float64)


def fit_audio_judge(X: np.ndarray, labels, *, C: float, settings: dict, target: str = "digit",
                    config: str = "paper", seed: int = 0):
    """Features ``X`` (from :func:`audio_features` with ``settings``) and labels -> ``(AudioJudge, pipeline)``.

    The pipeline is scikit-learn's ``StandardScaler`` then ``LogisticRegression(C)`` (multinomial);
    the judge holds its arrays, and predicts what it predicts.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    labels = np.asarray(labels)
    if len(np.unique(labels)) < 3:
        raise AudiogenError(f"labels with {len(np.unique(labels))} classes: the audio judge is a multinomial "
                            f"classifier of at least 3 classes (digits or speakers)")
    pipe = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=5000, random_state=seed))
    pipe.fit(X, labels)
    scaler, lr = pipe[0], pipe[-1]
    judge = AudioJudge(target, config, lr.classes_, dict(settings), scaler.mean_.copy(), scaler.scale_.copy(),
                       lr.coef_.copy(), lr.intercept_.copy())
    return judge, pipe


def _standardise(judge: AudioJudge, X: np.ndarray) -> np.ndarray:
    return (X - judge.mean) / judge.scale


def _softmax_of_features(judge: AudioJudge, X: np.ndarray) -> np.ndarray:
    logits = _standardise(judge, X) @ judge.coef.T + judge.intercept
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    return p / p.sum(axis=1, keepdims=True)


def audio_probabilities(judge: AudioJudge, waveforms: np.ndarray, sr: int) -> np.ndarray:
    """Waveforms ``(N, n)`` at ``sr`` -> ``(N, K)`` probabilities of ``judge.classes`` (digits 0-9 or speakers)."""
    return _softmax_of_features(judge, audio_features(waveforms, sr, settings=judge.settings))


def audio_embedding(judge: AudioJudge, waveforms: np.ndarray, sr: int) -> np.ndarray:
    """Waveforms ``(N, n)`` at ``sr`` -> ``(N, d)`` features standardised by the judge's training statistics:
    the space in which :mod:`audiogen_lib.distances` measures KID, Fréchet and nearest-neighbour distances."""
    return _standardise(judge, audio_features(waveforms, sr, settings=judge.settings))


# --- shipped judges --------------------------------------------------------------------------------

def judge_path(target: str = "digit", config: str = "paper", directory: str | Path | None = None) -> Path:
    """``pretrained/audio_judge_<config>.npz`` (digits) or ``audio_judge_speaker_<config>.npz``."""
    if target not in TARGETS:
        raise AudiogenError(f"unknown audio judge target {target!r}; use one of {TARGETS}")
    stem = "audio_judge" if target == "digit" else "audio_judge_speaker"
    return Path(directory or HERE) / f"{stem}_{config}.npz"


def load_audio_judge(target: str = "digit", config: str = "paper", *,
                     directory: str | Path | None = None) -> AudioJudge:
    """The shipped judge of ``target`` for ``config``; its ``.npz`` must hash to its card's ``npz_sha256``."""
    path = judge_path(target, config, directory)
    card_path = path.with_suffix(".json")
    make = f"python -m audiogen_lib.audio_judge --target {target} --config {config} --ship"
    for p in (path, card_path):
        if not p.is_file():
            raise AudiogenError(f"no shipped audio judge of {target}s for config {config!r}: {p} is missing. "
                                f"Train and ship it with `{make}`")
    card = json.loads(card_path.read_text())
    if _sha256(path) != card.get("npz_sha256"):
        raise AudiogenError(f"{path} does not match its card {card_path} (sha256 {_sha256(path)[:12]}..., the "
                            f"card says {str(card.get('npz_sha256'))[:12]}...): restore both from git, or retrain "
                            f"with `{make}`")
    return AudioJudge.read(path, card)


# --- training ----------------------------------------------------------------------------------------

def ceiling_audio(features, *, chunk: int = 64, cache: str | Path | None = None) -> np.ndarray:
    """A FeatureSet's clips rebuilt from their true magnitudes by the default phase reconstruction
    (``reconstruction.features_to_audio``, chunk ``k`` seeded ``k``), cached beside the feature cache."""
    from .data import manifest_hash
    from .features import cache_dir
    from .files import atomic_write
    from .reconstruction import DEFAULT_METHOD, features_to_audio, settings

    config = features.config
    key = hashlib.sha256(json.dumps([config.to_dict(), DEFAULT_METHOD, settings(config), chunk,
                                     features.normalisation], sort_keys=True).encode()).hexdigest()[:12]
    path = Path(cache or cache_dir()) / f"ceiling-{config.name}-{key}-{manifest_hash()}-{features.clips_hash()}.npy"
    if path.is_file():
        return np.load(path, allow_pickle=False)
    out = np.concatenate([features_to_audio(features.x[i:i + chunk], config=config, db_min=features.db_min[i:i + chunk],
                                            db_max=features.db_max[i:i + chunk], seed=k)
                          for k, i in enumerate(range(0, len(features), chunk))]).astype(np.float32)
    with atomic_write(path, "wb") as f:
        np.save(f, out)
    return out


def _labels(features, target: str) -> np.ndarray:
    return features.digits if target == "digit" else np.array(features.speakers)


def _accuracy(p: np.ndarray, classes: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(classes[p.argmax(1)] == labels))


def _log_loss(p: np.ndarray, classes: np.ndarray, labels: np.ndarray) -> float:
    index = np.searchsorted(classes, labels)
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(p)), index], 1e-15))))


def train_audio_judge(config: str = "paper", target: str = "digit", *, grid: dict | None = None, seed: int = 0,
                      data_dir=None, command: str | None = None) -> AudioJudge:
    """Train the judge of ``target`` (``"digit"`` or ``"speaker"``) in ``config``'s domain; returns it with its card.

    Training data: the 2,400 clips of takes 10-49, each as loaded and as its ceiling reconstruction
    (:func:`ceiling_audio`). Every combination of ``grid`` (default :data:`GRID`: ``n_mfcc``, ``n_segments``,
    ``C``) is fitted on them and scored on the 300 validation clips, real and ceiling; the setting with the
    best mean of the two accuracies wins, ties going to the lower validation log loss. Test is scored once,
    on the chosen judge, for the card.
    """
    import time

    import librosa

    from .config import get_config
    from .data import N_TEST_TAKES, N_VALIDATION_TAKES, manifest_hash
    from .features import load_features
    from .reconstruction import DEFAULT_METHOD, settings as phase_settings
    from .runtime import cpu_model, git_state

    if target not in TARGETS:
        raise AudiogenError(f"unknown audio judge target {target!r}; use one of {TARGETS}")
    cfg = get_config(config)
    grid = {**GRID, **(grid or {})}
    start = time.perf_counter()
    sets = {name: load_features(name, config=cfg, data_dir=data_dir) for name in ("train", "validation")}
    audio = {}
    for name, fs in sets.items():  # resampled to 8 kHz once; the grid then varies only the MFCC settings
        for kind, y in (("real", fs.waveforms), ("ceiling", ceiling_audio(fs))):
            audio[name, kind] = librosa.resample(np.asarray(y, np.float32), orig_sr=cfg.sr, target_sr=JUDGE_SR,
                                                 res_type="soxr_hq", axis=-1)
    labels = {name: _labels(fs, target) for name, fs in sets.items()}
    y_train = np.concatenate([labels["train"], labels["train"]])
    rows, best = [], None
    for n_mfcc in grid["n_mfcc"]:
        for n_segments in grid["n_segments"]:
            s = {**FEATURES, "n_mfcc": n_mfcc, "n_segments": n_segments}
            X = {key: audio_features(y, JUDGE_SR, settings=s) for key, y in audio.items()}
            X_train = np.concatenate([X["train", "real"], X["train", "ceiling"]])
            for C in grid["C"]:
                judge, _ = fit_audio_judge(X_train, y_train, C=C, settings=s, target=target, config=cfg.name, seed=seed)
                p = {kind: _softmax_of_features(judge, X["validation", kind]) for kind in ("real", "ceiling")}
                row = {"n_mfcc": n_mfcc, "n_segments": n_segments, "C": C,
                       **{f"validation_{kind}_accuracy": _accuracy(p[kind], judge.classes, labels["validation"])
                          for kind in p},
                       "validation_log_loss": float(np.mean([_log_loss(p[k], judge.classes, labels["validation"])
                                                             for k in p]))}
                row["validation_mean_accuracy"] = (row["validation_real_accuracy"]
                                                   + row["validation_ceiling_accuracy"]) / 2
                rows.append(row)
                key = (-row["validation_mean_accuracy"], row["validation_log_loss"])
                if best is None or key < best[0]:
                    best = (key, row, judge)
    _, chosen, judge = best
    fit_seconds = time.perf_counter() - start
    # Test: scored once, on the judge validation chose.
    test = load_features("test", config=cfg, data_dir=data_dir)
    final = {k: v for k, v in chosen.items() if k.startswith("validation_")}
    for kind, y in (("real", test.waveforms), ("ceiling", ceiling_audio(test))):
        final[f"test_{kind}_accuracy"] = _accuracy(audio_probabilities(judge, y, cfg.sr), judge.classes,
                                                   _labels(test, target))
    commit, dirty = git_state()
    judge.card = {
        "kind": "audio_judge", "target": target, "config": cfg.name,
        "command": command or f"python -m audiogen_lib.audio_judge --target {target} --config {cfg.name} --ship",
        "git_commit": commit, "git_dirty": dirty, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "data_manifest": manifest_hash(), "feature_config": cfg.to_dict(),
        "classes": [c.item() if hasattr(c, "item") else c for c in judge.classes],
        "split": {"train": {"takes": f"{N_TEST_TAKES + N_VALIDATION_TAKES}-49", "clips": len(sets["train"]),
                            "used_for": "fitting: each clip as loaded and as its ceiling reconstruction"},
                  "validation": {"takes": f"{N_TEST_TAKES}-{N_TEST_TAKES + N_VALIDATION_TAKES - 1}",
                                 "clips": len(sets["validation"]), "used_for": "every choice (the grid below)"},
                  "test": {"takes": f"0-{N_TEST_TAKES - 1}", "clips": len(test),
                           "used_for": "final scores only, once, after the choice"}},
        "ceiling": {"method": DEFAULT_METHOD, "settings": phase_settings(cfg), "seeds": "chunk k of 64 clips: seed k"},
        "model": "StandardScaler + LogisticRegression (multinomial, lbfgs)", "seed": seed,
        "settings": {**judge.settings, "C": chosen["C"]},
        "selection": {"rule": "highest mean of the validation accuracies on real clips and on their ceiling "
                              "reconstructions; ties to the lower validation log loss (mean of the two)",
                      "grid": {k: list(v) for k, v in grid.items()}, "results": rows, "chosen": chosen},
        "final": final, "n_features": int(judge.mean.size),
        "wall_time_s": round(fit_seconds, 1),
        "machine": f"{cpu_model()}; librosa {librosa.__version__}",
    }
    return judge


def ship_audio_judge(judge: AudioJudge, *, directory: str | Path | None = None) -> Path:
    """Write ``judge`` (``.npz``) and its card (``.json``, with the npz's sha256) atomically; return the npz path."""
    from .files import atomic_write

    path = judge_path(judge.target, judge.config, directory)
    judge.card["npz_sha256"] = judge.save(path)
    with atomic_write(path.with_suffix(".json")) as f:
        json.dump(judge.card, f, indent=1)
        f.write("\n")
    return path


def main(argv=None) -> None:
    """``python -m audiogen_lib.audio_judge --target digit|speaker [--config paper] [--ship]``."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m audiogen_lib.audio_judge", description=main.__doc__)
    parser.add_argument("--target", choices=TARGETS, default="digit")
    parser.add_argument("--config", default="paper")
    parser.add_argument("--ship", action="store_true", help="write pretrained/audio_judge[_speaker]_<config>.npz/.json")
    args = parser.parse_args(argv)
    command = " ".join(["python -m audiogen_lib.audio_judge", *(sys.argv[1:] if argv is None else argv)])
    judge = train_audio_judge(args.config, args.target, command=command)
    print(json.dumps({"settings": judge.card["settings"], "final": judge.card["final"],
                      "wall_time_s": judge.card["wall_time_s"]}, indent=1))
    if args.ship:
        print("shipped", ship_audio_judge(judge))


if __name__ == "__main__":
    main()
