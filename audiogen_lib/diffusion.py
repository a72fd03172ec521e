"""Latent diffusion: the study's two networks together, a VAE that compresses and a U-Net that denoises.

1. The latent autoencoder (:mod:`audiogen_lib.models.latent`, ``audiogen train latent_ae``)
   turns each spectrogram image into a small latent image; divided by the training latents'
   spread (``scale``), the latents have unit variance.
2. The denoiser (:mod:`audiogen_lib.models.denoiser`, ``audiogen train ldm``) learns, by flow
   matching, the velocity that carries noise to those latents.
3. :func:`sample` starts from noise ``z_1 ~ N(0, I)`` and integrates ``dz/dt = v(z, t, digit)``
   from ``t = 1`` to ``t = 0`` in ``steps`` steps (Euler, or Heun's second-order method), with
   classifier-free guidance ``v = v_none + w (v_digit - v_none)`` when a digit is asked for.
4. :func:`decode_latents` and :func:`to_audio` turn the clean latent into an image and the
   image into sound by the library's default phase reconstruction.

Public names
------------
encode_latents    images -> scaled latent means (what the denoiser learns)
add_noise         ``(1 - t) z_0 + t eps``: a latent on its way to noise
velocity          the denoiser's velocity, with classifier-free guidance
sample            noise -> latents in ``steps`` steps (Euler or Heun); optionally every step
decode_latents    scaled latents -> images in [0, 1]
to_audio          images -> waveforms, read in the autoencoder's generation dB range
generate_ldm      n sounds (a digit or none): latents, images, waveforms
train_denoiser    ``audiogen train ldm``: the denoiser on a latent autoencoder's latents, with a card
load_ldm          the shipped autoencoder and denoiser, checked against their cards

Notebook: notebooks/12_latent_diffusion.ipynb
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .config import Profile, get_config, get_profile
from .errors import AudiogenError

NULL_DIGIT = 10
METHODS = ("euler", "heun")
# The denoiser's training settings; the sampler's (steps, guidance) are chosen on validation (see the card).
LDM_DEFAULTS = dict(learning_rate=5e-4, batch_size=64, patience=15, min_delta=1e-4, drop_digit=0.15)


def encode_latents(autoencoder, x: np.ndarray, *, batch_size: int = 128) -> np.ndarray:
    """Images ``(N, H, W, 1)`` -> latent means divided by the autoencoder's ``scale``: ``(N, H/f, W/f, C)``."""
    x = np.asarray(x, np.float32)
    if x.ndim == 3:
        x = x[..., None]
    mu = autoencoder.encoder.predict(x, batch_size=batch_size, verbose=0)[0]
    return (np.asarray(mu) / autoencoder.scale).astype(np.float32)


def add_noise(z0: np.ndarray, t, eps: np.ndarray) -> np.ndarray:
    """The straight path of flow matching: ``z_t = (1 - t) z_0 + t eps`` (``t`` a number or one per latent)."""
    t = np.asarray(t, np.float32).reshape(-1, *([1] * (np.ndim(z0) - 1))) if np.ndim(t) else np.float32(t)
    return ((1 - t) * z0 + t * eps).astype(np.float32)


def _check_digit(digit) -> int:
    if not (isinstance(digit, (int, np.integer)) and 0 <= digit <= 9):
        raise AudiogenError(f"digit must be a whole number from 0 to 9, got {digit!r}")
    return int(digit)


def _forward(network, inputs):
    """``network([z, t, digit])``: a Keras model through its compiled forward pass (traced once, then
    fast at every step); any other callable (a toy field) as it is."""
    import keras

    if isinstance(network, keras.Model):
        return network.predict_on_batch(inputs)
    return network(inputs, training=False)


def velocity(network, z: np.ndarray, t: float, digit=None, *, guidance: float = 1.0) -> np.ndarray:
    """``v(z, t, digit)``; with a digit and ``guidance`` w != 1: ``v_none + w (v_digit - v_none)``."""
    n = len(z)
    tt = np.full((n, 1), t, np.float32)
    if digit is None:
        return np.asarray(_forward(network, [z, tt, np.full((n, 1), NULL_DIGIT, np.int32)]))
    labels = np.ascontiguousarray(np.broadcast_to(np.asarray(digit, np.int32).reshape(-1, 1), (n, 1)))
    if guidance == 1.0:
        return np.asarray(_forward(network, [z, tt, labels]))
    both = _forward(network, [np.concatenate([z, z]), np.concatenate([tt, tt]),
                              np.concatenate([labels, np.full((n, 1), NULL_DIGIT, np.int32)])])
    v_digit, v_none = np.split(np.asarray(both), 2)
    return v_none + guidance * (v_digit - v_none)


def sample(network, n: int, *, latent_shape, digit=None, steps: int = 20, guidance: float = 1.0,
           method: str = "heun", seed: int = 0, return_path: bool = False, batch_size: int = 256):
    """``n`` latents from noise: ``steps`` steps of ``method`` from ``t = 1`` to ``t = 0``.

    ``digit``: one digit for all, one per latent, or None (unconditional). With ``return_path``
    also returns the latent after every step, ``(steps + 1, n, ...)`` (noise first).
    """
    if method not in METHODS:
        raise AudiogenError(f"unknown sampler method {method!r}; use one of {METHODS}")
    if not (isinstance(steps, (int, np.integer)) and steps >= 1):
        raise AudiogenError(f"steps must be a whole number >= 1, got {steps!r}")
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise AudiogenError(f"the number of latents must be a positive whole number, got {n!r}")
    if digit is not None:
        digits = np.broadcast_to(np.asarray(digit), (n,))
        for d in np.unique(digits):
            _check_digit(int(d))
        digit = digits.astype(np.int32)
    z = np.random.default_rng(seed).standard_normal((n, *latent_shape)).astype(np.float32)
    ts = np.linspace(1.0, 0.0, steps + 1, dtype=np.float32)
    path = [z.copy()] if return_path else None
    out = np.empty_like(z)
    for lo in range(0, n, batch_size):  # batches: memory stays flat for large n
        sl = slice(lo, lo + batch_size)
        zb, db = z[sl], None if digit is None else digit[sl]
        for k in range(steps):
            t0, t1 = float(ts[k]), float(ts[k + 1])
            v0 = velocity(network, zb, t0, db, guidance=guidance)
            z_next = zb + (t1 - t0) * v0
            if method == "heun" and t1 > 0:
                v1 = velocity(network, z_next, t1, db, guidance=guidance)
                z_next = zb + (t1 - t0) * 0.5 * (v0 + v1)
            zb = z_next.astype(np.float32)
            if return_path:
                if lo == 0:
                    path.append(np.empty_like(z))
                path[k + 1][sl] = zb
        out[sl] = zb
    return (out, np.stack(path)) if return_path else out


def decode_latents(autoencoder, z: np.ndarray, *, batch_size: int = 128) -> np.ndarray:
    """Scaled latents -> images in [0, 1] through the autoencoder's decoder."""
    z = np.asarray(z, np.float32) * autoencoder.scale
    return np.asarray(autoencoder.decoder.predict(z, batch_size=batch_size, verbose=0))


def to_audio(autoencoder, images: np.ndarray, *, seed: int = 0, n_iter: int | None = None) -> np.ndarray:
    """Generated images -> waveforms: read in the card's generation dB range, then the default phase method."""
    from .reconstruction import features_to_audio

    lo, hi = autoencoder.card["normalisation"]["generation_db_range"]
    return features_to_audio(np.asarray(images), config=autoencoder.feature_config, db_min=lo, db_max=hi,
                             n_iter=n_iter, seed=seed)


@dataclass
class GeneratedLatents:
    """What :func:`generate_ldm` returns."""

    latents: np.ndarray
    images: np.ndarray
    waveforms: np.ndarray
    digit: int | None
    steps: int
    guidance: float
    seed: int


def sampler_settings(denoiser) -> dict:
    """The ``steps`` and ``guidance`` the denoiser's card chose on validation (defaults if it has none)."""
    chosen = (getattr(denoiser, "card", None) or {}).get("sampler") or {}
    return {"steps": int(chosen.get("steps", 20)), "guidance": float(chosen.get("guidance", 2.0)),
            "method": chosen.get("method", "heun")}


def generate_ldm(autoencoder, denoiser, n: int, *, digit=None, steps: int | None = None,
                 guidance: float | None = None, seed: int = 0, n_iter: int | None = None) -> GeneratedLatents:
    """``n`` sounds from the latent diffusion model; ``steps``/``guidance`` default to the card's choice."""
    settings = sampler_settings(denoiser)
    steps = settings["steps"] if steps is None else steps
    guidance = settings["guidance"] if guidance is None else float(guidance)
    if guidance < 0:
        raise AudiogenError(f"guidance must be >= 0 (1: the digit alone, 0: no digit), got {guidance}")
    z = sample(denoiser, n, latent_shape=autoencoder.latent_shape, digit=digit, steps=steps, guidance=guidance,
               method=settings["method"], seed=seed)
    images = decode_latents(autoencoder, z)
    return GeneratedLatents(z, images, to_audio(autoencoder, images, seed=seed, n_iter=n_iter),
                            None if digit is None else np.asarray(digit).tolist(), steps, guidance, seed)


def _validation_batch(z0, digits, seed: int):
    """Fixed noise and times for the validation loss, so every epoch is scored on the same draws."""
    rng = np.random.default_rng(seed + 1)
    eps = rng.standard_normal(z0.shape).astype(np.float32)
    t = rng.uniform(0, 1, (len(z0), 1)).astype(np.float32)
    return z0, digits.astype(np.int32), eps, t


def train_denoiser(*, config="paper", profile: str | Profile | None = None, autoencoder=None, epochs: int | None = None,
                   max_seconds: float | None = None, seed: int = 0, out_dir: str | os.PathLike | None = None,
                   widths=(32, 64, 128), init: str | os.PathLike | None = None, verbose="auto", **overrides):
    """Train the denoiser on the latents of takes 10-49; the EMA weights of the best validation epoch are kept.

    ``autoencoder``: a loaded latent autoencoder or its ``.keras`` path (default: the shipped one).
    ``init``: a denoiser's ``.keras`` file to continue from (its weights start both the network and
    its EMA; its card's training is recorded in this card under ``continued_from``).
    Returns a :class:`audiogen_lib.training.TrainingRun` whose model is the EMA denoiser, with a card.
    """
    import keras
    import tensorflow as tf

    from .data import manifest_hash
    from .features import load_features
    from .models import load_model, save_model, weights_sha256
    from .models.denoiser import LatentFlow, build_denoiser
    from .pretrained import load_pretrained
    from .training import (TrainingRun, _atomic_json, _code_state, _history_callback, _time_limit_callback, machine,
                           set_seed, split_record)

    config = get_config(config)
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    settings = {**LDM_DEFAULTS, **overrides}
    epochs = epochs or profile.vae_epochs * 2
    if isinstance(autoencoder, (str, os.PathLike)):
        autoencoder = load_model(autoencoder)
    autoencoder = autoencoder or load_pretrained("latent_ae", config.name)
    set_seed(seed)
    train_set = load_features("train", config=config).subset(profile.n_train, seed=seed)
    validation_set = load_features("validation", config=config).subset(profile.n_test, seed=seed)
    z_train, z_val = encode_latents(autoencoder, train_set.x), encode_latents(autoencoder, validation_set.x)
    shape = z_train.shape[1:]
    network = build_denoiser(shape, widths=widths)
    previous = None
    if init is not None:
        previous = load_model(init)
        if tuple(previous.input_shape[0][1:]) != tuple(shape):
            raise AudiogenError(f"{init} denoises latents of shape {previous.input_shape[0][1:]}, not {shape}")
        network.set_weights(previous.get_weights())
    model = LatentFlow(network, build_denoiser(shape, widths=widths),
                       drop_digit=settings["drop_digit"], seed=seed, name="latent_flow")
    model.compile(optimizer=keras.optimizers.Adam(settings["learning_rate"]))
    ds_train = (tf.data.Dataset.from_tensor_slices((z_train, train_set.digits.astype(np.int32)))
                .shuffle(len(z_train), seed=seed, reshuffle_each_iteration=True).batch(settings["batch_size"]).prefetch(2))
    ds_val = tf.data.Dataset.from_tensor_slices(_validation_batch(z_val, validation_set.digits, seed)).batch(256)

    history: dict = {}
    best = {"loss": np.inf, "weights": None, "epoch": 0}

    class KeepBest(keras.callbacks.Callback):
        """The EMA weights of the epoch with the lowest validation loss."""

        def on_epoch_end(self, epoch, logs=None):
            if logs["val_loss"] < best["loss"] - settings["min_delta"]:
                best.update(loss=logs["val_loss"], weights=model.ema.get_weights(), epoch=epoch + 1)
            elif epoch + 1 - best["epoch"] >= settings["patience"]:
                self.model.stop_training = True

    scratch = None if out_dir else tempfile.TemporaryDirectory(prefix="audiogen-ldm-")
    out = Path(out_dir) if out_dir else Path(scratch.name)
    out.mkdir(parents=True, exist_ok=True)
    callbacks = [_history_callback(history, out / "history.json" if out_dir else None), KeepBest(),
                 keras.callbacks.TerminateOnNaN()]
    if max_seconds:
        callbacks.append(_time_limit_callback(max_seconds))
    start = time.perf_counter()
    try:
        model.fit(ds_train, validation_data=ds_val, epochs=epochs, callbacks=callbacks, verbose=verbose, shuffle=False)
        wall = time.perf_counter() - start
        if best["weights"] is None:
            raise AudiogenError("training the denoiser diverged (no finite validation loss); lower the learning rate "
                                f"(was {settings['learning_rate']})")
        denoiser = model.ema
        denoiser.set_weights(best["weights"])
        card = {
            "kind": "ldm", "feature_config": config.to_dict(), "profile": profile.name,
            "command": " ".join(shlex.quote(a) for a in [os.path.basename(sys.argv[0])] + sys.argv[1:]),
            **_code_state(), "data_manifest": manifest_hash(),
            "split": {"train": split_record("train", len(train_set)),
                      "validation": split_record("validation", len(validation_set))},
            "normalisation": dict(autoencoder.card.get("normalisation") or {}),
            "autoencoder": {"weights_sha256": autoencoder.weights_sha256, "latent_shape": list(shape),
                            "scale": autoencoder.scale},
            "hyperparameters": {"epochs": epochs, "seed": seed, "widths": list(widths), **settings},
            **({"continued_from": {"weights_sha256": previous.weights_sha256,
                                   "epochs_run": previous.card.get("epochs_run"),
                                   "wall_time_s": previous.card.get("wall_time_s"),
                                   "command": previous.card.get("command"),
                                   "hyperparameters": previous.card.get("hyperparameters")}} if previous else {}),
            "parameters": int(denoiser.count_params()),
            "epochs_run": len(history["loss"]), "best_epoch": best["epoch"],
            "wall_time_s": round(wall, 1), "machine": machine(),
            "final": {"loss": history["loss"][best["epoch"] - 1], "val_loss": float(best["loss"])},
            "history": history,
        }
        card["weights_sha256"] = weights_sha256(denoiser)
        path = save_model(denoiser, out / "model.keras", config=config, card=card) if out_dir else None
        if out_dir:
            _atomic_json(out / "card.json", card)
    finally:
        if scratch is not None:
            scratch.cleanup()
    return TrainingRun(model=denoiser, history=history, card=card, path=path)


def load_ldm(config: str = "paper"):
    """The shipped ``(autoencoder, denoiser)``; the denoiser's card must name the autoencoder's weights."""
    from .pretrained import load_pretrained

    autoencoder = load_pretrained("latent_ae", config)
    denoiser = load_pretrained("ldm", config)
    expected = denoiser.card.get("autoencoder", {}).get("weights_sha256")
    if expected and expected != autoencoder.weights_sha256:
        raise AudiogenError(f"the shipped ldm_{config} was trained on the latents of an autoencoder with weights "
                            f"{expected[:12]}..., but latent_ae_{config} has {autoencoder.weights_sha256[:12]}...: "
                            f"retrain it with `audiogen train ldm --config {config} --profile paper --ship`")
    return autoencoder, denoiser
