"""Objective measures of how close a generated sound or spectrogram is to its target.

Public names
------------
rmse                   root mean square error between normalised spectrograms (the study's measure)
spectral_convergence   ||S - |STFT(y)|||_F / ||S||_F per clip: how well a waveform realises a magnitude
inception_score        exp E[KL(p(y|x) || p(y))] of classifier probabilities: 1 (useless) to 10 (ten clear digits)
log_spectral_distance  dB distance between magnitudes per clip, frames averaged, bins up to 4 kHz
lsd_from_audio         :func:`log_spectral_distance` of two waveform batches' STFT magnitudes
pesq_nb                PESQ narrow-band per clip at 8 kHz, in a standard process pool that survives a crash
stoi                   STOI per clip, on the clips with enough speech for it (46% of FSDD)
stoi_concatenated      STOI once over all clips joined end to end, short ones included
MetricResult           per-clip scores with the clips not scored and why; mean, counts, summary

Notebook: notebooks/04_griffin_lim.ipynb (spectral convergence),
notebooks/08_listening_experiments.ipynb (LSD, PESQ, STOI)
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError


def spectral_convergence(S: np.ndarray, y: np.ndarray, *, config: FeatureConfig | str) -> np.ndarray:
    """Spectral convergence of waveforms ``y`` to target magnitudes ``S`` (full STFT, Nyquist included).

    0 is a perfect match; Griffin-Lim minimises exactly this. Returns one value per clip.
    """
    import librosa

    config = get_config(config)
    S = np.asarray(S, dtype=np.float64)
    S_y = np.abs(librosa.stft(np.asarray(y, dtype=np.float32), n_fft=config.n_fft, hop_length=config.hop_length))
    return np.linalg.norm(S - S_y, axis=(-2, -1)) / np.linalg.norm(S, axis=(-2, -1))


def rmse(a: np.ndarray, b: np.ndarray, *, per_clip: bool = False):
    """``sqrt(mean((a - b)**2))`` over everything, or over each clip (all axes but the first)."""
    err = np.square(np.asarray(a, np.float64) - np.asarray(b, np.float64))
    if per_clip:
        return np.sqrt(err.reshape(len(err), -1).mean(axis=1))
    return float(np.sqrt(err.mean()))


def inception_score(probs: np.ndarray, *, eps: float = 1e-12) -> float:
    """``exp(mean_x KL(p(y|x) || p(y)))`` for classifier probabilities ``(N, n_classes)``.

    Between 1 (every sound gets the same distribution) and ``n_classes`` (each sound is
    one clear class and all classes are equally frequent). Salimans et al. (2016).
    """
    p = np.clip(np.asarray(probs, np.float64), eps, 1.0)
    p /= p.sum(axis=1, keepdims=True)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


# --- log-spectral distance -------------------------------------------------------------------


def _lsd_frames(S_ref, S_est, *, config: FeatureConfig, fmax: float, amin: float) -> np.ndarray:
    """Per-frame LSD ``(..., n_frames)`` of magnitudes ``(..., n_bins, n_frames)``."""
    S_ref = np.asarray(S_ref, dtype=np.float64)
    S_est = np.asarray(S_est, dtype=np.float64)
    rows = (config.n_stft_bins, config.n_stft_bins - 1)
    if S_ref.shape != S_est.shape or S_ref.ndim < 2 or S_ref.shape[-2] not in rows:
        raise AudiogenError(
            f"magnitudes must have the same shape (..., n_bins, n_frames) with n_bins {rows[0]} or {rows[1]} "
            f"(Nyquist dropped) for config {config.name!r}; got {S_ref.shape} and {S_est.shape}"
        )
    if not (np.all(np.isfinite(S_ref)) and np.all(np.isfinite(S_est))) or (S_ref < 0).any() or (S_est < 0).any():
        raise AudiogenError("magnitudes must be finite and non-negative; pass |STFT|, not dB or normalised images")
    if fmax <= 0 or amin <= 0:
        raise AudiogenError(f"fmax and amin must be positive, got fmax={fmax}, amin={amin}")
    freqs = np.arange(S_ref.shape[-2]) * config.bin_hz
    band = freqs <= fmax * (1 + 1e-9)  # native8k's top bin is 4000 Hz up to rounding
    diff = 20.0 * (np.log10(np.maximum(S_ref[..., band, :], amin)) - np.log10(np.maximum(S_est[..., band, :], amin)))
    return np.sqrt(np.mean(np.square(diff), axis=-2))


def log_spectral_distance(S_ref, S_est, *, config: FeatureConfig | str, fmax: float = 4000.0,
                          amin: float = 1e-5) -> np.ndarray:
    """Log-spectral distance in dB between magnitudes ``(..., n_bins, n_frames)``, one value per clip.

    For each frame, ``sqrt(mean_k (20 log10 S_ref[k] - 20 log10 S_est[k])**2)`` over
    the bins ``k`` at or below ``fmax`` (FSDD, recorded at 8 kHz, has nothing above
    4 kHz); then the mean over frames. Magnitudes are floored at ``amin`` (-100 dB).
    ``n_bins`` is ``n_fft // 2 + 1``, or one less where the Nyquist row was dropped.
    0 for identical magnitudes; ``S`` against ``2 * S`` gives 20 log10 2 = 6.02 dB.

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    config = get_config(config)
    return _lsd_frames(S_ref, S_est, config=config, fmax=fmax, amin=amin).mean(axis=-1)


def lsd_from_audio(y_ref, y_est, *, config: FeatureConfig | str, fmax: float = 4000.0, amin: float = 1e-5,
                   lengths=None) -> np.ndarray:
    """:func:`log_spectral_distance` of the STFT magnitudes (the config's n_fft and hop) of two waveform batches.

    ``lengths`` (samples at ``config.sr``, e.g. ``FeatureSet.lengths``) limits each
    clip's mean to the frames centred inside the speech. Pass them: in the padding the
    reference is digital silence (-100 dB), and any faint noise there dominates. On the
    test split, Griffin-Lim (32 it.) from the pipeline's magnitude, whose floor is 80 dB
    below each clip's peak, scores 16.4 dB without ``lengths`` and 2.8 dB with them.

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    import librosa

    config = get_config(config)
    single = np.ndim(y_ref) == 1
    y_ref, y_est, n = _clips(y_ref, y_est, sr=config.sr, lengths=lengths)

    def mag(y):
        return np.abs(librosa.stft(y.astype(np.float32), n_fft=config.n_fft, hop_length=config.hop_length))

    per_frame = _lsd_frames(mag(y_ref), mag(y_est), config=config, fmax=fmax, amin=amin)
    n_frames = np.minimum(-(-n // config.hop_length), per_frame.shape[-1])  # frames centred before the end
    out = np.array([f[:k].mean() for f, k in zip(per_frame, n_frames)])
    return out[0] if single else out


# --- results that can fail per clip -----------------------------------------------------------


@dataclass(frozen=True)
class MetricResult:
    """Scores of one measure over a set of clips, with the clips it could not score and why.

    ``values`` holds one score per clip (NaN where the clip was not scored) and
    ``reasons`` says why for each clip (``""`` where it was scored). A measure taken
    once over all clips joined end to end (:func:`stoi_concatenated`) has one value
    and ``pooled_clips`` set to the number of clips joined.

    ``float(result)`` is the mean over the scored clips; ``str(result)`` a table cell.

    Notebook: notebooks/08_listening_experiments.ipynb
    """

    name: str
    values: np.ndarray
    reasons: tuple[str, ...]
    higher_is_better: bool = True
    pooled_clips: int | None = None

    @classmethod
    def from_values(cls, name: str, values, *, higher_is_better: bool = True) -> "MetricResult":
        """Wrap per-clip scores (e.g. :func:`log_spectral_distance`'s); non-finite ones count as failed."""
        values = np.asarray(values, dtype=np.float64).ravel()
        reasons = tuple("" if np.isfinite(v) else "not finite" for v in values)
        return cls(name, np.where(np.isfinite(values), values, np.nan), reasons, higher_is_better)

    @property
    def scored(self) -> np.ndarray:
        """Boolean mask of the clips that got a score."""
        return np.array([not r for r in self.reasons], dtype=bool)

    @property
    def n_scored(self) -> int:
        return int(self.scored.sum())

    @property
    def n_failed(self) -> int:
        return len(self.reasons) - self.n_scored

    @property
    def mean(self) -> float:
        """Mean over the scored clips (NaN if none was scored)."""
        return float(np.mean(self.values[self.scored])) if self.n_scored else float("nan")

    @property
    def failures(self) -> dict[str, int]:
        """How many clips failed for each reason, most frequent first."""
        return dict(Counter(r for r in self.reasons if r).most_common())

    def __float__(self) -> float:
        return self.mean

    def to_dict(self) -> dict:
        """``{"metric", "mean", "n_scored", "n_failed", "failures"}`` for a table row."""
        return {"metric": self.name, "mean": self.mean, "n_scored": self.n_scored, "n_failed": self.n_failed,
                "failures": self.failures}

    def summary(self, digits: int = 2) -> str:
        """One line: ``PESQ-NB 3.52 (291 of 300 clips; failed: no utterances detected 9)``."""
        if self.pooled_clips is not None:
            what = f"one score on {self.pooled_clips} clips joined end to end"
        else:
            what = f"mean of {self.n_scored} of {len(self.reasons)} clips"
        text = f"{self.name} {self.mean:.{digits}f} ({what}"
        if self.n_failed:
            text += "; not scored: " + ", ".join(f"{reason} {n}" for reason, n in self.failures.items())
        return text + ")"

    __str__ = summary

    def __repr__(self) -> str:
        return f"MetricResult({self.summary(4)})"


def _clips(y_ref, y_est, *, sr: int, lengths=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Check a pair of waveform batches; return them as 2-D float64 and each clip's length in samples."""
    y_ref = np.asarray(y_ref, dtype=np.float64)
    y_est = np.asarray(y_est, dtype=np.float64)
    if y_ref.shape != y_est.shape or y_ref.ndim not in (1, 2) or y_ref.shape[-1] == 0:
        raise AudiogenError(
            f"reference and estimate must be waveforms of the same shape, (n_samples,) or (N, n_samples); "
            f"got {y_ref.shape} and {y_est.shape}; pad or trim the estimate to the reference's length"
        )
    if not (np.all(np.isfinite(y_ref)) and np.all(np.isfinite(y_est))):
        raise AudiogenError("waveforms hold NaN or Inf; check the model output or the reconstruction")
    if sr <= 0:
        raise AudiogenError(f"sample rate sr must be positive, got {sr}")
    y_ref, y_est = np.atleast_2d(y_ref), np.atleast_2d(y_est)
    n, n_samples = y_ref.shape
    if lengths is None:
        return y_ref, y_est, np.full(n, n_samples)
    lengths = np.asarray(lengths).ravel()
    if lengths.shape != (n,) or not np.issubdtype(lengths.dtype, np.integer) or (lengths < 1).any():
        raise AudiogenError(
            f"lengths must be {n} positive integers (each clip's true length in samples at sr={sr}), "
            f"got {lengths.shape} of dtype {lengths.dtype}; use FeatureSet.lengths"
        )
    return y_ref, y_est, np.minimum(lengths, n_samples)


# --- PESQ, scored in worker processes ---------------------------------------------------------

PESQ_SR = 8000
_PESQ_MIN_SAMPLES = PESQ_SR // 4  # the ITU code refuses buffers shorter than 0.25 s
_PESQ_ERRORS = {
    -1: "unknown PESQ error", -2: "invalid sample rate", -3: "out of memory", -4: "out of memory",
    -5: "out of memory", -6: "shorter than 0.25 s", -7: "no utterances detected",
}
_CRASHED = "worker process crashed"


def _pesq_clip(ref: np.ndarray, est: np.ndarray) -> tuple[float, str]:
    """PESQ-NB of one clip at 8 kHz: ``(score, "")`` or ``(nan, reason)``. Runs in a worker."""
    from pesq import PesqError, pesq

    if not np.any(ref):
        return float("nan"), "silent reference"
    score = pesq(PESQ_SR, ref, est, "nb", on_error=PesqError.RETURN_VALUES)
    if score < 0:  # RETURN_VALUES gives the C code's negative error codes; MOS-LQO is above 1
        return float("nan"), _PESQ_ERRORS.get(int(score), f"PESQ error {int(score)}")
    return float(score), ""


def _score_chunk(refs: list, ests: list, score_clip) -> list[tuple[float, str]]:
    """Score clip pairs one by one in a worker; a Python error fails that clip only."""
    out = []
    for ref, est in zip(refs, ests):
        try:
            out.append(score_clip(ref, est))
        except Exception as err:  # noqa: BLE001 - a clip's failure must not lose the chunk
            out.append((float("nan"), f"{type(err).__name__}: {err}"))
    return out


def _mp_context():
    import multiprocessing

    # forkserver: workers start from a clean server, not from a copy of this process
    # (which may hold TensorFlow's threads), and start faster than spawned ones.
    methods = multiprocessing.get_all_start_methods()
    return multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")


def _default_workers() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _pool_map(fn, tasks: list[tuple], n_workers: int) -> list:
    """``fn(*task)`` for each task in one standard process pool of ``n_workers``.

    ``concurrent.futures.ProcessPoolExecutor`` notices a worker that dies (segmentation
    fault, abort) and fails every task not yet finished with ``BrokenProcessPool``: those
    come back as ``_CRASHED`` and the caller runs them again in a fresh pool, split up,
    until the task that crashes is alone. Exceptions raised by ``fn`` itself propagate.
    """
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    results: list = []
    with ProcessPoolExecutor(max_workers=max(1, min(n_workers, len(tasks))), mp_context=_mp_context()) as pool:
        futures = [pool.submit(fn, *task) for task in tasks]
        for future in futures:
            try:
                results.append(future.result())
            except BrokenProcessPool:
                results.append(_CRASHED)
    return results


def pesq_nb(y_ref, y_est, *, sr: int, lengths=None, n_workers: int | None = None,
            _score_clip=None) -> MetricResult:
    """PESQ narrow-band (ITU-T P.862, MOS-LQO, about 1 to 4.55) of each clip against its reference.

    Clips are resampled to 8 kHz (soxr, high quality) when ``sr != 8000`` and scored
    one by one, never joined (the C code handles at most 50 utterances and crashed on
    a 222 s concatenation). ``lengths`` (samples at ``sr``, e.g. ``FeatureSet.lengths``)
    trims each clip's padding, keeping at least the 0.25 s that PESQ needs; it matters
    where the estimate is not silent in the padding (test split, native8k, Griffin-Lim
    from the pipeline's floored magnitude: 4.02 padded, 4.25 trimmed).

    Scoring runs in a standard process pool (``concurrent.futures.ProcessPoolExecutor``)
    of ``n_workers`` (default: the CPUs available), one chunk of clips per task, so that
    a crash in the C code cannot end the caller; chunks lost with a crashed worker are
    split and re-run in a fresh pool until the clip that crashes is alone, and that clip
    is counted as failed. (``pesq.pesq_batch`` is not used: it takes clips of one length,
    and its own pool waits forever when a worker dies.) Clips PESQ refuses ("no utterances detected": 9
    of the 300 FSDD test clips) are counted as failed with their reason, not scored.
    In a script, call it under ``if __name__ == "__main__":`` (workers import it).

    Returns a :class:`MetricResult`; identical input scores 4.55, the narrow-band maximum.

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    y_ref, y_est, lengths = _clips(y_ref, y_est, sr=sr, lengths=lengths)
    n_samples = y_ref.shape[-1]
    if sr != PESQ_SR:
        import librosa

        y_ref = librosa.resample(y_ref, orig_sr=sr, target_sr=PESQ_SR, res_type="soxr_hq", axis=-1)
        y_est = librosa.resample(y_est, orig_sr=sr, target_sr=PESQ_SR, res_type="soxr_hq", axis=-1)
        lengths = np.ceil(lengths * (PESQ_SR / sr)).astype(int)
        n_samples = y_ref.shape[-1]
    keep = np.minimum(np.maximum(lengths, _PESQ_MIN_SAMPLES), n_samples)
    refs = [np.ascontiguousarray(r[:k]) for r, k in zip(y_ref, keep)]
    ests = [np.ascontiguousarray(e[:k]) for e, k in zip(y_est, keep)]
    score_clip = _score_clip or _pesq_clip
    n_workers = n_workers or _default_workers()

    values = np.full(len(refs), np.nan)
    reasons = [""] * len(refs)
    def task(chunk):
        return [refs[i] for i in chunk], [ests[i] for i in chunk], score_clip

    chunks = [c for c in np.array_split(np.arange(len(refs)), max(1, min(n_workers, len(refs)))) if c.size]
    suspects = []  # single clips lost with a crashed pool: each is run again alone
    while chunks or suspects:
        alone = not chunks
        if alone:
            chunks = [suspects.pop(0)]
        results = _pool_map(_score_chunk, [task(c) for c in chunks], 1 if alone else n_workers)
        retry = []
        for chunk, result in zip(chunks, results):
            if isinstance(result, str) and chunk.size > 1:  # _CRASHED: split it to find the clip that did it
                retry += [c for c in np.array_split(chunk, max(2, n_workers)) if c.size]
            elif isinstance(result, str):
                if alone:
                    reasons[chunk[0]] = _CRASHED
                else:
                    suspects.append(chunk)
            else:
                for i, (value, reason) in zip(chunk, result):
                    values[i], reasons[i] = value, reason
        chunks = retry
    return MetricResult("PESQ-NB", values, tuple(reasons))


# --- STOI ------------------------------------------------------------------------------------

_STOI_SHORT = "under 30 STOI frames of speech"


def _stoi_one(ref: np.ndarray, est: np.ndarray, sr: int, extended: bool) -> tuple[float, str]:
    import warnings

    from pystoi import stoi as _pystoi

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = float(_pystoi(ref, est, sr, extended=extended))
        except Exception as err:  # noqa: BLE001 - pystoi fails on clips of a few samples
            return float("nan"), f"{type(err).__name__}: {err}"
    if any("Not enough STFT frames" in str(w.message) for w in caught):
        return float("nan"), _STOI_SHORT
    return value, ""


def stoi(y_ref, y_est, *, sr: int, extended: bool = False, lengths=None) -> MetricResult:
    """STOI (0 to 1, or extended STOI) of each clip long enough for it, with pystoi.

    STOI correlates 384 ms segments (30 frames of 25.6 ms at 10 kHz) of the speech
    left after pystoi drops frames 40 dB below the loudest; shorter clips get a
    meaningless 1e-5 from pystoi with a warning. Those clips are counted as not
    scored (``"under 30 STOI frames of speech"``): 1,616 of FSDD's 3,000 clips and
    169 of the 300 test clips, more than the 43% shorter than 0.4 s. For a score
    over every clip use :func:`stoi_concatenated`. ``lengths`` (samples at ``sr``,
    e.g. ``FeatureSet.lengths``) trims each clip's padding.

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    y_ref, y_est, lengths = _clips(y_ref, y_est, sr=sr, lengths=lengths)
    scores = [_stoi_one(r[:k], e[:k], sr, extended) for r, e, k in zip(y_ref, y_est, lengths)]
    values = np.array([s for s, _ in scores], dtype=np.float64)
    return MetricResult("ESTOI" if extended else "STOI", values, tuple(r for _, r in scores))


def stoi_concatenated(y_ref, y_est, *, sr: int, extended: bool = False, lengths=None) -> MetricResult:
    """STOI of all clips joined end to end (each trimmed to ``lengths``), references and estimates in the same order.

    One score that covers every clip, short ones included; unlike the per-clip
    :func:`stoi`, the silent-frame threshold is set by the loudest clip and a few
    384 ms segments straddle two clips. The result has one value and
    ``pooled_clips`` = the number of clips.

    Notebook: notebooks/08_listening_experiments.ipynb
    """
    y_ref, y_est, lengths = _clips(y_ref, y_est, sr=sr, lengths=lengths)
    ref = np.concatenate([r[:k] for r, k in zip(y_ref, lengths)])
    est = np.concatenate([e[:k] for e, k in zip(y_est, lengths)])
    value, reason = _stoi_one(ref, est, sr, extended)
    name = ("ESTOI" if extended else "STOI") + " (concatenated)"
    return MetricResult(name, np.array([value]), (reason,), pooled_clips=len(lengths))
