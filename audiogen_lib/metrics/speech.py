"""Speech-quality scores per clip: PESQ narrow-band (in worker processes that may crash) and STOI.

Public names
------------
PESQ_SR                the rate PESQ-NB scores at (8 kHz)
pesq_nb                PESQ narrow-band per clip at 8 kHz, in a standard process pool that survives a crash
stoi                   STOI per clip, on the clips with enough speech for it (46% of FSDD)
stoi_concatenated      STOI once over all clips joined end to end, short ones included

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import os

import numpy as np

from .per_clip import MetricResult, _clips


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
    until the task that crashes is alone. A worker can die while later tasks are still being
    submitted; the broken pool then refuses them (``BrokenProcessPool``, or ``OSError`` when
    it was starting a replacement worker), and they come back as ``_CRASHED`` too.
    Exceptions raised by ``fn`` itself propagate.
    """
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    results: list = []
    with ProcessPoolExecutor(max_workers=max(1, min(n_workers, len(tasks))), mp_context=_mp_context()) as pool:
        futures = []
        for task in tasks:
            try:
                futures.append(pool.submit(fn, *task))
            except (BrokenProcessPool, OSError):
                futures.append(None)
        for future in futures:
            try:
                results.append(_CRASHED if future is None else future.result())
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

    Notebook: notebooks/09_listening_experiments.ipynb
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

    Notebook: notebooks/09_listening_experiments.ipynb
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

    Notebook: notebooks/09_listening_experiments.ipynb
    """
    y_ref, y_est, lengths = _clips(y_ref, y_est, sr=sr, lengths=lengths)
    ref = np.concatenate([r[:k] for r, k in zip(y_ref, lengths)])
    est = np.concatenate([e[:k] for e, k in zip(y_est, lengths)])
    value, reason = _stoi_one(ref, est, sr, extended)
    name = ("ESTOI" if extended else "STOI") + " (concatenated)"
    return MetricResult(name, np.array([value]), (reason,), pooled_clips=len(lengths))
