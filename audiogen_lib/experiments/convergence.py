"""Experiment (c), convergence: epochs and wall time to the plateau of each model's validation RMSE.

Public names
------------
PLATEAU_TOLERANCE       how close to the best validation RMSE counts as the plateau (relative)
epochs_to_plateau, experiment_convergence   epochs to the plateau of the validation RMSE
chosen_on               which split chose a model's best epoch, from its card

Notebook: notebooks/08_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from .study_models import MODEL_NAMES


PLATEAU_TOLERANCE = 0.02


def epochs_to_plateau(values: list[float], *, tolerance: float = PLATEAU_TOLERANCE) -> int:
    """The first epoch (1-based) whose value is within ``tolerance`` (relative) of the best."""
    values = np.asarray(values, dtype=float)
    return int(np.argmax(values <= values.min() * (1 + tolerance))) + 1


def _val_rmse(history: dict) -> list[float]:
    return history["val_reconstruction"] if "val_reconstruction" in history else history["val_loss"]


def experiment_convergence(models: dict) -> dict:
    """Epochs and wall time to the plateau of each model's validation RMSE, from its history,
    and the first epoch at which it does as well as the VAE ever did.

    The histories are those of the validation split (takes 5-9); a card from before that
    split existed holds the test split's, and ``chosen_on`` says so.
    """
    vae_best = min(_val_rmse(models["vae"].card["history"]))
    rows = {}
    for name in MODEL_NAMES:
        h = models[name].card["history"]
        curve = _val_rmse(h)
        n = epochs_to_plateau(curve)
        beat = [i + 1 for i, v in enumerate(curve) if v <= vae_best]
        rows[name] = {"epochs_to_plateau": n, "seconds_to_plateau": round(h["wall_time"][n - 1], 1),
                      "epochs_to_vae_best": beat[0] if beat else None,
                      "epochs_run": len(curve), "best_val_rmse": float(min(curve)),
                      "seconds_per_epoch": round(h["wall_time"][-1] / len(curve), 1),
                      "chosen_on": chosen_on(models[name].card)}
    return rows


def chosen_on(card: dict) -> str:
    """``"validation"``, or ``"test"`` for a card from before the validation split: the split that chose the model."""
    return "validation" if isinstance(card.get("split", {}).get("validation"), dict) else "test"
