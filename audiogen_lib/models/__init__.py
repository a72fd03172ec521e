"""The models and how they are saved.

Public names
------------
build_vae, VAE, VAE_PRESETS       the variational autoencoder (models/vae.py)
build_unet, UNET_PRESETS          the U-Net (models/unet.py)
GenerativeVAE, build_generative_vae  the VAE trained to generate, optionally digit-conditional (models/generative.py)
build_classifier                  the digit classifier, the judge (models/classifier.py)
LatentAutoencoder, build_latent_autoencoder  the autoencoder with a spatial latent (models/latent.py)
build_denoiser, LatentFlow        the latent diffusion model's denoising U-Net and its training (models/denoiser.py)
save_model                        ``.keras`` file with the feature config, normalisation, weights' sha256 and card inside, atomic
load_model                        load one with ``safe_mode=True``; checks the weights' sha256; the model carries
                                  ``feature_config``, ``normalisation`` and ``card``
weights_sha256                    a hash of a model's weights (recorded in its card, checked when it is loaded)
check_features                    raise unless features were made with the config and normalisation the model was trained on
predict                           :func:`check_features`, then the model's output (a VAE's reconstruction from mu)

Notebook: notebooks/06_training_vae.ipynb
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

from ..runtime import import_tensorflow

tf = import_tensorflow()  # before Keras: TensorFlow's C++ start-up log filtered out (runtime.py)
import keras  # noqa: E402

from ..config import FeatureConfig, get_config  # noqa: E402
from ..errors import AudiogenError  # noqa: E402
from ..features import NORMALISATIONS  # noqa: E402
from ..files import atomic_path  # noqa: E402
from .classifier import N_DIGITS, build_classifier  # noqa: E402
from .layers import Sampling, kl_divergence, mse, rmse  # noqa: E402
from .unet import UNET_PRESETS, build_unet  # noqa: E402
from .generative import GenerativeVAE, KLWarmUp, build_generative_vae  # noqa: E402
from .vae import VAE, VAE_PRESETS, build_vae  # noqa: E402
from .latent import LATENT_PRESETS, LatentAutoencoder, build_latent_autoencoder  # noqa: E402
from .denoiser import LatentFlow, TimeEmbedding, build_denoiser  # noqa: E402

_INFO = "audiogen.json"


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
    if isinstance(model, (VAE, GenerativeVAE, LatentAutoencoder)):
        model.compile(optimizer="adam")
    elif len(model.output_shape) == 4:
        model.compile(optimizer="adam", loss=rmse)
    else:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _check_normalisation(mode: str) -> str:
    if mode not in NORMALISATIONS:
        raise AudiogenError(f"unknown normalisation {mode!r}; use one of {NORMALISATIONS}")
    return mode


def save_model(model: keras.Model, path: str | os.PathLike, *, config: FeatureConfig | str,
               card: dict | None = None, normalisation: str | None = None) -> Path:
    """Save ``model`` to ``path`` (``.keras``) with what it needs to be used right; atomic, no optimizer state.

    Beside Keras's own files the archive holds ``audiogen.json``: the feature config and
    normalisation the model was trained on (``normalisation`` defaults to the card's
    ``normalisation.mode``, else ``"clip"``), the sha256 of its weights
    (:func:`weights_sha256`) and its card. :func:`load_model` checks all of them.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise AudiogenError(f"model file {path} must end in .keras")
    card = card or {}
    normalisation = _check_normalisation(normalisation or (card.get("normalisation") or {}).get("mode") or "clip")
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = _fresh_copy(model)
    info = {"feature_config": get_config(config).to_dict(), "normalisation": normalisation,
            "weights_sha256": weights_sha256(fresh), "card": card}
    with atomic_path(path) as tmp:  # a name ending in .keras, as Keras requires
        fresh.save(tmp)
        compress_archive(tmp, extra={_INFO: json.dumps(info, indent=1)})
    return path


def compress_archive(path: str | os.PathLike, *, extra: dict[str, str] | None = None) -> Path:
    """Rewrite a ``.keras`` archive with every member deflated (Keras stores them uncompressed), adding ``extra``.

    The members' bytes, the weights included, are unchanged (so is :func:`weights_sha256`);
    the file shrinks by about a tenth, and far more for the small models' JSON.
    """
    path = Path(path)
    with zipfile.ZipFile(path) as z:
        members = {info.filename: z.read(info.filename) for info in z.infolist()}
    members.update({name: text.encode() for name, text in (extra or {}).items()})
    with atomic_path(path) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
            for name, data in members.items():
                z.writestr(name, data)
    return path


def load_model(path: str | os.PathLike, *, expected_sha256: str | None = None,
               expected_from: str | None = None) -> keras.Model:
    """Load a model saved by :func:`save_model` (``safe_mode=True``), compiled for ``evaluate``.

    The model carries ``model.feature_config`` and ``model.normalisation`` (the features
    it was trained on: :func:`predict` refuses others), ``model.card`` (how it was
    trained) and ``model.weights_sha256``. The weights' sha256 is checked against the one
    recorded in the file, the one in its card and ``expected_sha256`` (named by
    ``expected_from`` in the message, e.g. the shipped card's path), wherever they exist;
    a mismatch raises :class:`AudiogenError` naming both.
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
    card = info.get("card") or {}
    model.feature_config = FeatureConfig.from_dict(info["feature_config"])
    model.normalisation = _check_normalisation(
        info.get("normalisation") or (card.get("normalisation") or {}).get("mode") or "clip")
    model.card = card
    model.weights_sha256 = weights_sha256(model)
    recorded = [(info.get("weights_sha256"), f"the sha256 recorded in {path}"),
                (card.get("weights_sha256"), f"the card inside {path}"),
                (expected_sha256, expected_from or "the expected sha256")]
    for expected, where in recorded:
        if expected and expected != model.weights_sha256:
            raise AudiogenError(
                f"the weights in {path} do not match {where}: their sha256 is {model.weights_sha256}, "
                f"{where} says {expected}. The file was altered or belongs to another card: restore it "
                f"(git checkout, or `audiogen train ... --ship` again) rather than use it")
    return compile_for_evaluation(model)


def _describe(config: FeatureConfig) -> str:
    return (f"{config.sr} Hz, n_fft {config.n_fft}, hop {config.hop_length}, {config.duration} s, "
            f"{config.n_bins}x{config.n_frames}")


def check_features(model: keras.Model, features=None, *, config: FeatureConfig | str | None = None,
                   normalisation: str | None = None) -> None:
    """Raise :class:`AudiogenError` unless the features were made as the model's training features were.

    ``features`` is a :class:`~audiogen_lib.features.FeatureSet` (its ``config`` and
    ``normalisation`` are used), or give ``config`` (and ``normalisation``, default
    ``"clip"``) for a plain array. The model's come from :func:`load_model`
    (``model.feature_config``, ``model.normalisation``). Every setting of the config is
    compared, not only its name: the paper and native8k images have the same shape,
    so a shape check alone would let one pass for the other.

    Notebook: notebooks/05_data_pipeline.ipynb
    """
    own = getattr(model, "feature_config", None)
    if own is None:
        raise AudiogenError(
            f"model {model.name!r} does not say which features it was trained on (no feature_config): "
            f"load it with load_model / load_pretrained, or set model.feature_config and model.normalisation")
    own_mode = getattr(model, "normalisation", "clip")
    if config is None and features is not None:
        config = getattr(features, "config", None)
        normalisation = normalisation or getattr(features, "normalisation", None)
    if config is None:
        raise AudiogenError(
            f"say which features these are: pass a FeatureSet, or config= (and normalisation=) for a plain array; "
            f"model {model.name!r} was trained on config {own.name!r} ({_describe(own)}), {own_mode!r} normalisation")
    config = get_config(config)
    mode = _check_normalisation(normalisation or "clip")
    if config.to_dict() != own.to_dict() or mode != own_mode:
        differ = sorted(k for k, v in config.to_dict().items() if own.to_dict().get(k) != v)
        if mode != own_mode:
            differ.append("normalisation")
        raise AudiogenError(
            f"model {model.name!r} was trained on features of config {own.name!r} ({_describe(own)}) with "
            f"{own_mode!r} normalisation, but these were made with config {config.name!r} ({_describe(config)}) "
            f"and {mode!r} normalisation (they differ in {', '.join(differ)}). Compute the features with "
            f"config={own.name!r}, normalisation={own_mode!r}, or use the model trained on {config.name!r}")


def predict(model: keras.Model, features, *, config: FeatureConfig | str | None = None,
            normalisation: str | None = None, batch_size: int = 128):
    """The model's output for ``features`` after :func:`check_features`: images for a VAE or U-Net, probabilities for the classifier.

    ``features`` is a FeatureSet or an array ``(N, n_bins, n_frames[, 1])`` with ``config=``.
    A VAE reconstructs from ``mu`` (inference mode).

    Notebook: notebooks/07_training_unet.ipynb
    """
    import numpy as np

    check_features(model, features, config=config, normalisation=normalisation)
    x = np.asarray(getattr(features, "x", features), dtype=np.float32)
    if x.ndim == 3:
        x = x[..., None]
    want = model.feature_config.shape
    if x.ndim != 4 or x.shape[1:] != want:
        raise AudiogenError(f"features of shape {x.shape} do not fit model {model.name!r}, which takes "
                            f"(N, {', '.join(map(str, want))}) images of config {model.feature_config.name!r}")
    return model.predict(x, batch_size=batch_size, verbose=0)


__all__ = ["GenerativeVAE", "KLWarmUp", "build_generative_vae", "build_classifier", "N_DIGITS", "VAE", "VAE_PRESETS", "UNET_PRESETS", "Sampling", "build_vae", "build_unet", "kl_divergence", "rmse", "mse",
           "save_model", "load_model", "compile_for_evaluation", "weights_sha256", "check_features", "predict"]
