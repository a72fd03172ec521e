"""The study's models for the experiments: shipped, or trained now by epochs and seeded; and their reconstructions.

Public names
------------
MODEL_NAMES             ``("vae", "unet", "unet_noskip")``
get_models              the VAE, U-Net, U-Net without skips and the classifier: shipped, or trained now (epochs, seeded)
reconstruct             a model's reconstruction of a FeatureSet (or images with ``config=``), through
                        ``models.predict``, which checks the features against the model's; VAEs decode mu
pca_reconstruct         the best linear autoencoder with as many components as the VAE's latent

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np

from ..config import FeatureConfig, Profile, get_config, get_profile
from ..features import FeatureSet
from ..runtime import progress
from .cache import _source_hash


MODEL_NAMES = ("vae", "unet", "unet_noskip")
PCA_COMPONENTS = 128  # as many as the VAE's latent dimensions


def _trained_dir(name: str, config: FeatureConfig, profile: Profile, seed: int) -> Path:
    """Where a model trained by :func:`get_models` is kept, keyed by everything that makes it."""
    from ..data import manifest_hash
    from ..features import cache_dir

    code = _source_hash(["training", "models/*", "features", "config", "data"])
    key = hashlib.sha256(json.dumps([config.fingerprint(), profile.name, profile.n_train, profile.n_test,
                                     profile.vae_epochs, profile.unet_epochs, manifest_hash(), code]).encode())
    return cache_dir().parent / "trained" / f"{name}-{config.name}-{profile.name}-seed{seed}-{key.hexdigest()[:12]}"


def _shipped_is_this_run(name: str, config: FeatureConfig, profile: Profile, seed: int) -> bool:
    """Whether the shipped ``name`` is the run :func:`get_models` would train: same profile,
    seed, epochs and data, chosen on the validation split (its card says so)."""
    from ..data import manifest_hash
    from ..pretrained import available, card

    if f"{name}_{config.name}" not in available():
        return False
    c = card(name, config.name)
    hp = c.get("hyperparameters", {})
    epochs = profile.vae_epochs if name == "vae" else profile.unet_epochs
    return (c.get("profile") == profile.name and profile.n_train is None and hp.get("seed") == seed
            and hp.get("epochs") == epochs and c.get("data_manifest") == manifest_hash()
            and isinstance(c.get("split", {}).get("validation"), dict))


def get_models(config: str | FeatureConfig = "paper", *, profile: str | Profile | None = None, seed: int = 0,
               train: bool | None = None, reuse: bool = True) -> dict:
    """``{"vae", "unet", "unet_noskip", "classifier"}`` -> models for ``config``.

    Profiles that use pretrained models load the shipped ones, unless ``train`` is true.
    Otherwise (``paper``, or ``train=True``) the three generative models are trained now
    with seed ``seed``: the profile's epochs at most, stopped early and checkpointed on
    the validation split (:func:`audiogen_lib.training.train`), never by a clock, so the
    same seed gives the same models wherever the software is the same; the wall time is
    only recorded in each card. A model trained before by the same code, data, profile
    and seed is loaded from the cache instead, and a shipped model whose card records this
    very run (profile, seed, epochs, data) is loaded as it is (``reuse=False`` trains again). The
    classifier, the fixed judge, is always the shipped one. Each model carries ``card``
    and ``feature_config``.
    """
    from ..models import load_model
    from ..pretrained import load_pretrained
    from ..training import train as train_model

    config = get_config(config)
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    train = (not profile.use_pretrained) if train is None else train
    models = {"classifier": load_pretrained("classifier", config.name)}
    for name in progress(MODEL_NAMES, desc="training the models", unit="model", disable=not train):
        if not train:
            models[name] = load_pretrained(name, config.name)
            continue
        if reuse and _shipped_is_this_run(name, config, profile, seed):
            models[name] = load_pretrained(name, config.name)
            continue
        out = _trained_dir(name, config, profile, seed)
        if reuse and (out / "model.keras").is_file() and (out / "card.json").is_file():
            models[name] = load_model(out / "model.keras")
            continue
        kind = "vae" if name == "vae" else "unet"
        run = train_model(kind, config=config, profile=profile, skip_connections=name != "unet_noskip", seed=seed,
                          verbose=2 if profile.name == "paper" else 0, out_dir=out)
        run.model.card, run.model.feature_config = run.card, config
        models[name] = run.model
    return models


def _model_record(model) -> dict:
    """What results.json says of one model: how it was made, and which data chose it."""
    from ..models import weights_sha256

    card = model.card
    split = card.get("split", {})
    chosen_on = (f"validation split (takes {split['validation']['takes']})" if isinstance(split.get("validation"), dict)
                 else "test split (trained before the validation split existed)")
    return {"command": card.get("command"), "epochs_run": card.get("epochs_run"), "best_epoch": card.get("best_epoch"),
            "wall_time_s": card.get("wall_time_s"), "parameters": card.get("parameters"),
            "seed": card.get("hyperparameters", {}).get("seed"), "chosen_on": chosen_on,
            "weights_sha256": weights_sha256(model)}


def reconstruct(model, features, *, config: FeatureConfig | str | None = None, normalisation: str | None = None,
                batch_size: int = 128) -> np.ndarray:
    """The model's output images ``(N, bins, frames, 1)`` for ``features``; a VAE decodes the mean latent ``mu``.

    ``features`` is a :class:`~audiogen_lib.features.FeatureSet`, or normalised images with
    the ``config=`` (and ``normalisation=``, default ``"clip"``) they were made with. Either
    way :func:`audiogen_lib.models.predict` checks them against the features the model was
    trained on and refuses others. Images given without ``config=`` are taken to be in the
    model's own features: only their shape is checked.

    Decoding ``mu`` makes a reconstruction repeatable. The study's reference code
    (Velardo's *generating-sound-with-neural-networks*, ``reconstruct``) decoded a latent
    *sampled* from the posterior instead; with this VAE's posteriors, far narrower than the
    prior (chapter 10), the two differ little.
    """
    from ..models import predict

    if config is None and not isinstance(features, FeatureSet):
        config = model.feature_config
        normalisation = normalisation or getattr(model, "normalisation", None)
    return predict(model, features, config=config, normalisation=normalisation, batch_size=batch_size)


def pca_reconstruct(train_x: np.ndarray, x: np.ndarray, *, n_components: int = PCA_COMPONENTS) -> np.ndarray:
    """Project ``x`` on the top principal components of ``train_x`` and back: the best linear autoencoder.

    A baseline for the VAE, which squeezes each image through as many latent dimensions.
    """
    X = train_x.reshape(len(train_x), -1)
    mean = X.mean(axis=0)
    Xc = X - mean
    # The principal directions from the eigenvectors of the small Gram matrix (N x N, N << pixels).
    eigenvalues, U = np.linalg.eigh((Xc @ Xc.T).astype(np.float64))
    top = np.argsort(eigenvalues)[::-1][: min(n_components, len(X) - 1)]
    V = (Xc.T @ U[:, top].astype(np.float32)) / np.sqrt(eigenvalues[top]).astype(np.float32)  # (pixels, k)
    codes = (x.reshape(len(x), -1) - mean) @ V
    return np.clip(codes @ V.T + mean, 0.0, 1.0).reshape(x.shape).astype(np.float32)
