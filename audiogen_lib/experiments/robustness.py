"""Experiment (b), robustness: the three readings of the study's "+-10 dB" and each model's degradation under them.

Public names
------------
READINGS                the three readings of the study's "+-10 dB": ``"clip"``, ``"bin"``, ``"units"``
perturb_db              add [-max_db, max_db] dB to dB spectrograms: one offset per clip, or per bin
perturb_features        the three readings of "+-10 dB" applied to normalised images, the pipeline's floor re-applied
experiment_robustness   each model's degradation under each reading, with intervals and paired differences

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from ..features import FeatureSet, amplitude_to_db, db_to_amplitude, denormalise, normalise
from ..metrics import rmse
from ..runtime import progress
from ..stats import bootstrap_mean, paired_bootstrap
from .study_models import MODEL_NAMES, reconstruct


# The readings of the study's "+-10 dB" (its section 5): decibels added to the spectrogram
# before the pipeline's floor and normalisation, one offset per clip ("clip") or one per bin
# ("bin"), or +-10 in the preprocessed spectrogram's own units, added to the [0, 1] image and
# clipped ("units"). Their descriptions are report.READING_LABELS.
READINGS = ("clip", "bin", "units")


def perturb_db(S_db: np.ndarray, *, mode: str, max_db: float = 10.0, seed: int = 0) -> np.ndarray:
    """Add a uniform random value in [-max_db, max_db] dB: one per clip (``"clip"``) or per bin (``"bin"``).

    Two readings of the study's "+-10 dB" modification of the input; :func:`perturb_features`
    adds the third and the pipeline's own steps after it.
    """
    rng = np.random.default_rng(seed)
    if mode == "clip":
        offset = rng.uniform(-max_db, max_db, size=S_db.shape[:-2] + (1, 1))
    elif mode == "bin":
        offset = rng.uniform(-max_db, max_db, size=S_db.shape)
    else:
        raise AudiogenError(f"unknown perturbation mode {mode!r}; use 'clip' (one offset per clip) or 'bin'")
    return (S_db + offset).astype(np.float32)


def perturb_features(x: np.ndarray, db_min, db_max, *, config: FeatureConfig, mode: str, max_db: float = 10.0,
                     seed: int = 0, reapply_floor: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised images ``(N, bins, frames, 1)`` -> ``(x, db_min, db_max)``, the model input after the
    ``mode`` reading of "+-10 dB" and each clip's new dB range (as :func:`normalise` returns them).

    ``"clip"`` and ``"bin"``: the images are read back in dB, perturbed (:func:`perturb_db`),
    floored again at ``top_db`` below each clip's new peak (the pipeline's own
    ``amplitude_to_db`` step, unless ``reapply_floor=False``) and normalised per clip, as the
    pipeline does with any spectrogram. Without the floor, each clip's range grows from
    ``top_db`` to about ``top_db + 2 max_db``, and the floor pixels, most of each image, move
    from 0 to about ``max_db / (top_db + 2 max_db)``: an offset that is not the noise.
    ``"units"``: ``max_db`` taken in the preprocessed image's own units, added per bin to
    the [0, 1] values and clipped to [0, 1].
    """
    config = get_config(config)
    if mode == "units":
        rng = np.random.default_rng(seed)
        x = np.clip(x + rng.uniform(-max_db, max_db, size=x.shape), 0.0, 1.0).astype(np.float32)
        return x, np.asarray(db_min), np.asarray(db_max)
    if mode not in ("clip", "bin"):
        raise AudiogenError(f"unknown reading {mode!r} of +-10 dB; use one of {sorted(READINGS)}")
    S_db = perturb_db(denormalise(x[..., 0], db_min, db_max), mode=mode, max_db=max_db, seed=seed)
    if reapply_floor:
        S_db = amplitude_to_db(db_to_amplitude(S_db), config=config)
    x, lo, hi = normalise(S_db, config=config)
    return x[..., None], lo, hi


def experiment_robustness(test: FeatureSet, models: dict, *, max_db: float = 10.0, seed: int = 0,
                          readings=tuple(READINGS), reapply_floor: bool = True) -> dict:
    """Perturb the test inputs under each reading and measure how much worse each model gets.

    Per reading and model, means over clips of each clip's RMSE (on the normalised
    images) with 95% bootstrap intervals: how far the input moved, how far the output
    moved, the error to the clean image with the perturbation (``error_perturbed``) and
    without it (``error_clean``), and the *degradation*, their difference, clip by clip:
    robustness apart from how good the model was to begin with. ``paired`` holds each
    model's degradation minus the VAE's, paired over clips; ``per_clip`` the values.
    """
    with progress(total=(1 + len(readings)) * len(MODEL_NAMES), desc="robustness", unit="model run") as bar:
        clean = {}
        for name in MODEL_NAMES:
            clean[name] = reconstruct(models[name], test)
            bar.update()
        err_clean = {name: rmse(clean[name], test.x, per_clip=True) for name in MODEL_NAMES}
        out = {"max_db": max_db, "reapply_floor": reapply_floor}
        for mode in readings:
            bar.set_postfix_str(mode, refresh=True)
            out[mode] = _robustness_reading(test, models, clean, err_clean, bar=bar, mode=mode, max_db=max_db,
                                            seed=seed, reapply_floor=reapply_floor)
        bar.set_postfix_str("")
    return out


def _robustness_reading(test, models, clean, err_clean, *, bar, mode, max_db, seed, reapply_floor) -> dict:
    """One reading's rows of :func:`experiment_robustness`."""
    x_pert, _, _ = perturb_features(test.x, test.db_min, test.db_max, config=test.config, mode=mode,
                                    max_db=max_db, seed=seed, reapply_floor=reapply_floor)
    moved = rmse(x_pert, test.x, per_clip=True)
    rows = {"input": {"input_change": bootstrap_mean(moved).to_dict()}}
    degradation = {}
    for name in MODEL_NAMES:
        # the perturbed images come from the test features: their config and normalisation
        y = reconstruct(models[name], x_pert, config=test.config, normalisation=test.normalisation)
        bar.update()
        err = rmse(y, test.x, per_clip=True)
        degradation[name] = err - err_clean[name]
        rows[name] = {"output_change": bootstrap_mean(rmse(y, clean[name], per_clip=True)).to_dict(),
                      "error_perturbed": bootstrap_mean(err).to_dict(),
                      "error_clean": bootstrap_mean(err_clean[name]).to_dict(),
                      "degradation": bootstrap_mean(degradation[name]).to_dict()}
    rows["paired"] = {f"{name}_minus_vae": paired_bootstrap(degradation[name], degradation["vae"]).to_dict()
                      for name in ("unet", "unet_noskip")}
    rows["per_clip"] = {"input_change": moved.tolist(), **{k: v.tolist() for k, v in degradation.items()}}
    return rows
