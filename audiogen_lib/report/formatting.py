"""How the report writes things: each condition's name, an interval as text, a Markdown table.

Every number with an interval is printed ``estimate [low, high]``, the 95% interval of
:mod:`audiogen_lib.stats`; every other module of the report writes through these.

Public names
------------
LABELS                 what each condition of the experiments is called in tables and figures
READING_LABELS         what each reading of the study's "+-10 dB" is called in the robustness table
CONDITIONS             the conditions of the reconstruction experiment, in the order tables list them
markdown_table         a Markdown table from a header and rows of cell texts
interval_text          ``"0.123 [0.101, 0.145]"`` from an interval (its dict or an Interval)
direction              one of three words for where an interval of a difference lies: above zero, below, across

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..experiments import PCA_COMPONENTS


CONDITIONS = ("original", "ceiling", "griffinlim", "vae", "unet", "unet_noskip", "pca", "zero_phase")
LABELS = {"original": "original audio", "ceiling": "phase reconstruction of the true magnitude (ceiling)",
          "griffinlim": "Griffin-Lim of the true magnitude (the study's reference)",
          "zero_phase": "zero-phase inverse STFT (the study's code; floor)", "vae": "VAE",
          "unet": "U-Net", "unet_noskip": "U-Net without skip connections",
          "pca": f"PCA, {PCA_COMPONENTS} components (a linear autoencoder)"}
# experiments.READINGS in words: decibels added to the spectrogram before the pipeline's floor
# and normalisation, or +-10 in the preprocessed image's own units.
READING_LABELS = {"clip": "one offset per clip (dB)", "bin": "independent per bin (dB)",
                  "units": "independent per bin, in the image's units, clipped to [0, 1]"}


def _label(name: str) -> str:
    return LABELS.get(name, name)


def _fmt(value, spec=".3f") -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "–"
    return format(value, spec)


def interval_text(d, spec=".3f") -> str:
    """``"0.123 [0.101, 0.145]"`` from an interval (its dict or a :class:`~audiogen_lib.stats.Interval`), ``"–"`` for none."""
    if d is None:
        return "–"
    if not isinstance(d, dict):
        d = d.to_dict()
    return f"{d['estimate']:{spec}} [{d['low']:{spec}}, {d['high']:{spec}}]"


_ci = interval_text


def direction(d, *, above: str, below: str, across: str) -> str:
    """``above`` when the whole interval of a difference lies above zero, ``below`` when below, else ``across``.

    The words a sentence about a comparison needs, chosen by the same rule as a verdict:
    ``direction(ci, above="better", below="worse", across="level with")``.
    """
    if d is None:
        return across
    if not isinstance(d, dict):
        d = d.to_dict()
    return above if d["low"] > 0 else below if d["high"] < 0 else across


def markdown_table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table: one header row, then ``rows`` (lists of cell texts)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


_table = markdown_table
