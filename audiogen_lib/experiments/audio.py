"""Sound for the experiments and its scores: images to audio by the default phase reconstruction, the
references that bound every table, and per-clip metrics with their means and intervals.

Public names
------------
CHUNK                   clips turned into sound at a time (the progress bar moves after each chunk)
phase_method            the phase reconstruction the experiments use (the library's default)
images_to_audio         ``reconstruction.features_to_audio`` with the experiments' reading of ``n_iter``
score_audio             per-clip scores of one set of waveforms against the test split, and their means with intervals
summary_key             the key of a per-clip metric's mean in a summary row (digit_correct -> digit_accuracy)
reference_audio         the original, the ceiling, Griffin-Lim (the study's reference) and the zero-phase floor

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import contextlib

import numpy as np

from ..config import FeatureConfig
from ..errors import AudiogenError
from ..features import FeatureSet
from ..metrics import rmse
from ..runtime import progress
from ..stats import bootstrap_mean, bootstrap_statistic


# Clips turned into sound at a time: the progress bar moves after each chunk.
CHUNK = 50


def phase_method() -> str:
    """The phase reconstruction every experiment uses for the models and the ceiling: the library's
    default, ``reconstruction.DEFAULT_METHOD``."""
    from ..reconstruction import DEFAULT_METHOD

    return DEFAULT_METHOD


def images_to_audio(x: np.ndarray, db_min, db_max, *, config: FeatureConfig, n_iter: int | None = None,
                    seed: int = 0, method: str | None = None) -> np.ndarray:
    """Normalised images -> waveforms: :func:`audiogen_lib.reconstruction.features_to_audio` by ``method``
    (default :func:`phase_method`).

    ``n_iter`` is the number of iterations of the study's reference, Griffin-Lim from a random
    start (the profile's ``n_iter``); every other method keeps its own validated setting.
    """
    from ..reconstruction import features_to_audio

    method = method or phase_method()
    return features_to_audio(x, config=config, db_min=db_min, db_max=db_max, method=method,
                             n_iter=n_iter if method == "griffinlim" else None, seed=seed)


def _audio_in_chunks(x, db_min, db_max, *, bar, seed: int = 0, **kwargs) -> np.ndarray:
    """:func:`images_to_audio` of :data:`CHUNK` clips at a time (chunk ``k`` seeded ``seed + k``), moving ``bar``."""
    n, chunk = len(x), CHUNK
    db_min, db_max = (np.broadcast_to(np.asarray(v, np.float32), (n,)) for v in (db_min, db_max))
    out = []
    for k, start in enumerate(range(0, n, chunk)):
        part = slice(start, start + chunk)
        out.append(images_to_audio(x[part], db_min[part], db_max[part], seed=seed + k, **kwargs))
        bar.update(len(out[-1]))
    return np.concatenate(out)


def _ci(values, **kwargs) -> dict | None:
    """The bootstrap interval of the mean of per-clip ``values`` as a dict, or None with under 2 scored clips."""
    try:
        return bootstrap_mean(values, **kwargs).to_dict()
    except AudiogenError:
        return None


def _rmse_of(per_clip_rmse) -> float:
    """The RMSE over all pixels of all clips from each clip's RMSE: every clip has as many pixels, so it is
    the root mean square of the clips' RMSEs, ``metrics.rmse`` of them against zero."""
    return rmse(np.asarray(per_clip_rmse, np.float64), 0.0)


def score_audio(test: FeatureSet, y: np.ndarray, *, classifier=None, x_hat: np.ndarray | None = None) -> tuple[dict, dict]:
    """Metrics of waveforms ``y`` (one per test clip) against the test split's audio: ``(row, per_clip)``.

    ``per_clip`` holds one value per clip for each metric (NaN where PESQ could not score
    a clip); ``row`` their summary: the mean and its 95% bootstrap interval over clips
    (``<metric>_ci``), PESQ's count of scored and failed clips, STOI over all clips joined
    (one pooled number, no interval) and the digit accuracy. ``x_hat``: the images the
    audio came from, for the RMSE on images (the study's measure, over all pixels).
    """
    import librosa

    from .. import metrics

    config = test.config
    S_true = np.abs(librosa.stft(test.waveforms, n_fft=config.n_fft, hop_length=config.hop_length))
    pesq = metrics.pesq_nb(test.waveforms, y, sr=config.sr, lengths=test.lengths)
    per_clip = {
        "rmse": rmse(test.x, x_hat, per_clip=True) if x_hat is not None else None,
        "lsd_db": np.asarray(metrics.lsd_from_audio(test.waveforms, y, config=config, lengths=test.lengths), float),
        "spectral_convergence": np.asarray(metrics.spectral_convergence(S_true, y, config=config), float),
        "pesq": np.asarray(pesq.values, float),
    }
    if classifier is not None:
        from ..classifier import audio_to_probabilities

        per_clip["digit_correct"] = (audio_to_probabilities(classifier, y).argmax(-1) == test.digits).astype(float)
    row = _summarise(per_clip)
    row.update(pesq_scored=pesq.n_scored, pesq_failed=pesq.n_failed,
               stoi_concatenated=float(metrics.stoi_concatenated(test.waveforms, y, sr=config.sr, lengths=test.lengths)))
    return row, per_clip


def summary_key(metric: str) -> str:
    """The key of a per-clip metric's mean in a summary row: ``digit_correct`` (per clip) -> ``digit_accuracy``."""
    return "digit_accuracy" if metric == "digit_correct" else metric


def _summarise(per_clip: dict) -> dict:
    row = {}
    for metric, values in per_clip.items():
        name = summary_key(metric)
        if values is None:
            row[name], row[f"{name}_ci"] = None, None
            continue
        values = np.asarray(values, float)
        if metric == "rmse":
            try:
                row[name] = _rmse_of(values)
                row[f"{name}_ci"] = bootstrap_statistic(values, statistic=_rmse_of).to_dict()
            except AudiogenError:
                row[f"{name}_ci"] = None
        else:
            row[name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            row[f"{name}_ci"] = _ci(values)
    return row


def _reference_methods(method: str) -> dict[str, str]:
    refs = {"ceiling": method, "zero_phase": "zero_phase"}
    if method != "griffinlim":
        refs["griffinlim"] = "griffinlim"
    return refs


def reference_audio(test: FeatureSet, *, n_iter: int, method: str | None = None, bar=None) -> dict[str, np.ndarray]:
    """The original audio, the ceiling (``method`` on the true magnitude), and the zero-phase inverse.

    Where ``method`` is not Griffin-Lim, Griffin-Lim from a random start (the study's
    reference) is added as ``"griffinlim"``. ``bar``: a progress bar to move by each chunk
    of clips done (one is shown when none is given).
    """
    method = method or phase_method()
    refs = _reference_methods(method)
    out = {"original": test.waveforms}
    with (progress(total=len(refs) * len(test), desc="phase reconstruction", unit="clip") if bar is None
          else contextlib.nullcontext(bar)) as bar:
        for name, how in refs.items():
            bar.set_postfix_str(name, refresh=True)
            out[name] = _audio_in_chunks(test.x, test.db_min, test.db_max, bar=bar, config=test.config,
                                         n_iter=n_iter, method=how)
    return out
