"""The models and how they are saved.

Public names
------------
build_vae, VAE, VAE_PRESETS       the variational autoencoder (models/vae.py)
build_unet, UNET_PRESETS          the U-Net (models/unet.py)
build_classifier                  the digit classifier, the judge (models/classifier.py)
save_model                        ``.keras`` file with the feature config and model card inside, written atomically
load_model                        load one with ``safe_mode=True``; the model carries ``feature_config`` and ``card``
weights_sha256                    a hash of a model's weights (recorded in its card, checked when it is loaded)

Notebook: notebooks/06_training_vae.ipynb
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import keras
import tensorflow as tf

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from .classifier import N_DIGITS, build_classifier
from .layers import Sampling, kl_divergence, mse, rmse
from .unet import UNET_PRESETS, build_unet
from .vae import VAE, VAE_PRESETS, build_vae

_INFO = "audiogen.json"
tf.get_logger().setLevel("ERROR")  # retracing warnings would otherwise land in notebooks' stdout


def _fresh_copy(model: keras.Model) -> keras.Model:
    """The same architecture and weights, without optimizer state (smaller files)."""
    config = keras.saving.serialize_keras_object(model)
    config.pop("compile_config", None)  # else the copy is compiled and saves the optimizer's state
    fresh = keras.saving.deserialize_keras_object(config)
    fresh.set_weights(model.get_weights())
    return fresh


def weights_sha256(model: keras.Model) -> str:
    """sha256 over every weight array's shape, dtype and bytes, in the model's order.

    Independent of how the file was zipped, so a card can record it and a load can check it.
    """
    import hashlib

    import numpy as np

    h = hashlib.sha256()
    for w in model.get_weights():
        w = np.ascontiguousarray(w)
        h.update(f"{w.shape}{w.dtype}".encode())
        h.update(w.tobytes())
    return h.hexdigest()


def compile_for_evaluation(model: keras.Model) -> keras.Model:
    """Compile so that ``evaluate`` reports the training loss (VAE: its own; U-Net: RMSE; classifier: cross-entropy)."""
    if isinstance(model, VAE):
        model.compile(optimizer="adam")
    elif len(model.output_shape) == 4:
        model.compile(optimizer="adam", loss=rmse)
    else:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def save_model(model: keras.Model, path: str | os.PathLike, *, config: FeatureConfig | str,
               card: dict | None = None) -> Path:
    """Save ``model`` to ``path`` (``.keras``) with its feature config and card; atomic, no optimizer state."""
    path = Path(path)
    if path.suffix != ".keras":
        raise AudiogenError(f"model file {path} must end in .keras")
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {"feature_config": get_config(config).to_dict(), "card": card or {}}
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.stem + ".", suffix=".keras")
    os.close(fd)
    try:
        _fresh_copy(model).save(tmp)
        with zipfile.ZipFile(tmp, "a") as z:
            z.writestr(_INFO, json.dumps(info, indent=1))
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_model(path: str | os.PathLike) -> keras.Model:
    """Load a model saved by :func:`save_model` (``safe_mode=True``), compiled for ``evaluate``.

    The model carries ``model.feature_config`` (the features it was trained on) and
    ``model.card`` (how it was trained).
    """
    path = Path(path)
    if not path.is_file():
        raise AudiogenError(f"model file {path} does not exist; train one with `audiogen train` or use load_pretrained")
    try:
        with zipfile.ZipFile(path) as z:
            info = json.loads(z.read(_INFO))
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as err:
        raise AudiogenError(f"{path} is not a model saved by audiogen ({err}); save it with audiogen_lib.models.save_model") from err
    model = keras.saving.load_model(path, safe_mode=True, compile=False)
    model.feature_config = FeatureConfig.from_dict(info["feature_config"])
    model.card = info["card"]
    return compile_for_evaluation(model)


__all__ = ["build_classifier", "N_DIGITS", "VAE", "VAE_PRESETS", "UNET_PRESETS", "Sampling", "build_vae", "build_unet", "kl_divergence", "rmse", "mse",
           "save_model", "load_model", "compile_for_evaluation", "weights_sha256"]
