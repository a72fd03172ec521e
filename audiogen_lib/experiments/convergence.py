"""Experiment (c), convergence: the epoch at which each model's validation RMSE reaches its plateau, by a written rule.

Public names
------------
PLATEAU_FRACTION        the rule's tolerance: a share of the run's total improvement
STUDY_EPOCHS, ABOUT     the study's numbers (U-Net about 5 epochs, VAE about 150) and how "about" is read
epochs_to_plateau       the plateau epoch of one validation curve, by the rule below
is_censored             whether a run's epoch cap, not its curve, may have ended it
experiment_convergence  each model's plateau epoch, wall time, cap, patience and whether its run is censored
convergence_verdict     the verdict on the study's numbers, censoring taken into account
chosen_on               which split chose a model's best epoch, from its card

The rule. Let ``v_1, ..., v_E`` be a run's validation RMSE after each epoch, ``best`` its
minimum and ``v_1 - best`` the run's total improvement. The *plateau epoch* is the first
epoch ``e`` after which the RMSE never improves by more than ``PLATEAU_FRACTION`` (2%) of the
total improvement: the first ``e`` with ``min(v_1..v_e) - best <= 0.02 (v_1 - best)``.

Censoring. A run is *censored* when it ended at its epoch cap while its early stopping had not
yet seen ``patience`` epochs without progress after its best (``cap - best_epoch <= patience``):
the cap, not the curve, ended it. A longer run with the same seed repeats the same first epochs
(training is deterministic and nothing depends on the cap), can only lower ``best``, and so can
only move the plateau *later*: a censored run's plateau epoch is a lower bound. A claim that a
model plateaus *early* is refuted by a lower bound above it, and a claim that it needs *many*
epochs is confirmed by one above it; anything else about a censored run "cannot be reached".

Notebook: notebooks/07_training_unet.ipynb, notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..stats import CENSORED
from .study_models import MODEL_NAMES


PLATEAU_FRACTION = 0.02
# The study: "the U-Net plateaus within about 5 epochs, the VAE needs about 150". "About n" is
# read as a factor ABOUT either way: the U-Net's claim holds at most at 10 epochs, the VAE's from 75.
STUDY_EPOCHS = {"unet": 5, "vae": 150}
ABOUT = 2.0


def epochs_to_plateau(values: list[float], *, fraction: float = PLATEAU_FRACTION) -> int:
    """The plateau epoch (1-based) of a validation curve: the first epoch after which it never improves
    by more than ``fraction`` of its total improvement (the rule in this module's docstring).

    >>> epochs_to_plateau([5, 3, 2, 1.01, 1.0, 1.0])
    4
    """
    values = np.asarray(values, dtype=float)
    best = values.min()
    running = np.minimum.accumulate(values)
    return int(np.argmax(running - best <= fraction * (values[0] - best))) + 1


def is_censored(*, epochs_run: int, cap: int, best_epoch: int, patience: int) -> bool:
    """Whether the epoch cap ended the run before early stopping could: ``epochs_run >= cap`` and
    ``cap - best_epoch <= patience``.

    >>> is_censored(epochs_run=30, cap=30, best_epoch=27, patience=3)
    True
    >>> is_censored(epochs_run=141, cap=150, best_epoch=131, patience=10)
    False
    """
    return epochs_run >= cap and cap - best_epoch <= patience


def _val_rmse(history: dict) -> list[float]:
    return history["val_reconstruction"] if "val_reconstruction" in history else history["val_loss"]


def convergence_row(card: dict, *, vae_best: float | None = None) -> dict:
    """One model's row from its card: plateau epoch and its wall time, cap, patience, best epoch, censoring."""
    h = card["history"]
    curve = _val_rmse(h)
    n = epochs_to_plateau(curve)
    hp = card.get("hyperparameters", {})
    cap, patience = hp.get("epochs", len(curve)), hp.get("patience", 0)
    best_epoch = card.get("best_epoch", int(np.argmin(h["val_loss"])) + 1)
    beat = [i + 1 for i, v in enumerate(curve) if vae_best is not None and v <= vae_best]
    return {"epochs_to_plateau": n, "seconds_to_plateau": round(h["wall_time"][n - 1], 1),
            "epochs_to_vae_best": beat[0] if beat else None,
            "epochs_run": len(curve), "best_epoch": best_epoch, "cap": cap, "patience": patience,
            "censored": is_censored(epochs_run=len(curve), cap=cap, best_epoch=best_epoch, patience=patience),
            "best_val_rmse": float(min(curve)),
            "seconds_per_epoch": round(h["wall_time"][-1] / len(curve), 1), "chosen_on": chosen_on(card)}


def experiment_convergence(models: dict) -> dict:
    """Each model's plateau epoch by the rule, its wall time, and whether its run is censored, from its card's
    history; and the first epoch at which it does as well as the VAE ever did.

    The histories are those of the validation split (takes 5-9); a card from before that
    split existed holds the test split's, and ``chosen_on`` says so.
    """
    vae_best = min(_val_rmse(models["vae"].card["history"]))
    return {name: convergence_row(models[name].card, vae_best=vae_best) for name in MODEL_NAMES}


def _judge(row: dict, *, at_most: float | None = None, at_least: float | None = None) -> str:
    n = row["epochs_to_plateau"]
    if not row.get("censored", True):
        ok = (at_most is None or n <= at_most) and (at_least is None or n >= at_least)
        return "holds" if ok else "does not hold"
    # censored: n is a lower bound on the plateau of a run the cap did not end
    if at_most is not None and n > at_most:
        return "does not hold"
    if at_least is not None and n >= at_least and at_most is None:
        return "holds"
    return CENSORED


def convergence_verdict(conv: dict) -> tuple[str, dict]:
    """The verdict on "U-Net within about 5 epochs, VAE about 150" from the rows of :func:`experiment_convergence`.

    The U-Net's part holds when its plateau epoch is at most ``5 * ABOUT``, the VAE's when its
    plateau epoch is at least ``150 / ABOUT``; a censored run's plateau epoch is a lower bound
    (module docstring). The claim holds when both parts hold, does not hold when either does
    not, and otherwise "cannot be reached". A row without a ``censored`` field (results written
    before censoring was recorded) counts as censored. Returns ``(verdict, {part: verdict})``.
    """
    parts = {"unet": _judge(conv["unet"], at_most=STUDY_EPOCHS["unet"] * ABOUT),
             "vae": _judge(conv["vae"], at_least=STUDY_EPOCHS["vae"] / ABOUT)}
    if "does not hold" in parts.values():
        return "does not hold", parts
    if CENSORED in parts.values():
        return CENSORED, parts
    return "holds", parts


def chosen_on(card: dict) -> str:
    """``"validation"``, or ``"test"`` for a card from before the validation split: the split that chose the model."""
    return "validation" if isinstance(card.get("split", {}).get("validation"), dict) else "test"
