"""Shipped pretrained models and their cards.

Each model was trained with ``audiogen train <kind> --config <config> --profile paper`` on
the official training split; ``<name>.json`` beside ``<name>.keras`` is its card: the
command, data manifest hash, feature config, epochs, wall time, machine, final losses
and the whole history.

Public names
------------
available        names of the shipped models, e.g. ``["unet_paper", "vae_native8k", ...]``
load_pretrained  ``load_pretrained("unet", config="paper")`` -> a Keras model ready to use
card             the card of a shipped model, without loading it (``weights_sha256`` is checked on loading)
model_path       where a shipped model's ``.keras`` file lies

Notebook: notebooks/06_training_vae.ipynb
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import AudiogenError

HERE = Path(__file__).resolve().parent
KINDS = ("vae", "unet", "unet_noskip", "classifier", "vae_gen", "cvae", "latent_ae", "ldm")
# The `audiogen train` arguments that make each kind (vae_gen, cvae: the VAEs trained to generate).
_TRAIN_ARGS = {"unet_noskip": "unet --no-skip"}


def available() -> list[str]:
    return sorted(p.stem for p in HERE.glob("*.keras"))


def model_path(kind: str, config: str = "paper") -> Path:
    if kind not in KINDS:
        raise AudiogenError(f"unknown pretrained model kind {kind!r}; use one of {KINDS}")
    path = HERE / f"{kind}_{config}.keras"
    if not path.is_file():
        raise AudiogenError(f"no pretrained {kind} for config {config!r}; shipped: {available()}. "
                            f"Train and ship one with `audiogen train {_TRAIN_ARGS.get(kind, kind)} --config {config} "
                            f"--profile paper --ship`")
    return path


def card(kind: str, config: str = "paper") -> dict:
    return json.loads(model_path(kind, config).with_suffix(".json").read_text())


def load_pretrained(kind: str, config: str = "paper"):
    """The shipped ``kind`` (``"vae"``, ``"unet"``, ``"unet_noskip"``, ``"classifier"``, ``"vae_gen"``, ``"cvae"``) for ``config``.

    The model carries ``feature_config``, ``normalisation`` and ``card`` attributes and is
    compiled for ``evaluate``. Its weights must hash to the ``weights_sha256`` of its card
    (``<name>.json``) where the card records one; a file that does not raises
    :class:`AudiogenError` naming both.
    """
    from ..models import load_model

    path = model_path(kind, config)
    card_path = path.with_suffix(".json")
    expected = json.loads(card_path.read_text()).get("weights_sha256") if card_path.is_file() else None
    return load_model(path, expected_sha256=expected, expected_from=f"its card {card_path}")
