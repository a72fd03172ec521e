"""Training the models: profiles, seeds, histories, checkpoints and model cards.

Public names
------------
set_seed            seed Python, NumPy and TensorFlow, and ask for deterministic ops
train               fit a VAE, U-Net or classifier on the training split, selected on validation; returns a TrainingRun
TrainingRun         the model, its history (one entry per epoch, wall time included) and its card
reconstruction_rmse RMSE of a model's reconstructions over a whole set (the study's measure)
machine             a one-line description of this machine, for model cards
replay_early_stopping  where early stopping with other settings would have ended a run, from its history

The profile (``AUDIOGEN_PROFILE``) sets how many clips and epochs: ``smoke`` trains on a
few clips for one epoch, ``paper`` runs the full experiment.

Notebook: notebooks/06_training_vae.ipynb
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import FeatureConfig, Profile, get_config, get_profile
from .errors import AudiogenError

KINDS = ("vae", "unet", "classifier", "vae_gen", "cvae", "latent_ae")
GENERATIVE = ("vae_gen", "cvae")  # the VAEs trained to generate (models/generative.py); cvae reads the digit

# Per kind: learning rate, early stopping (patience, min_delta on the validation loss) and batch size.
# The VAE's min_delta is an RMSE improvement; it is multiplied by alpha to compare with its loss.
DEFAULTS = {
    "vae": dict(learning_rate=1e-3, patience=10, min_delta=1e-4, batch_size=64),
    "unet": dict(learning_rate=1e-3, patience=3, min_delta=1e-4, batch_size=64),
    # shift_frames: each training image is rolled by a random whole number of frames in
    # [-shift_frames, shift_frames] (a speaker starts a little earlier or later); chosen on the
    # validation split: native8k 96.0% without, 97.7% with 6 frames. patience 10 and the
    # profile's 60 epochs: chosen on the validation split by replaying early stopping on the
    # shipped runs' validation losses (replay_early_stopping; tests/test_training.py), among
    # patience 3, 5, 10 and caps 30, 60: 10 and 60 give the lowest validation loss for both
    # configs.
    "classifier": dict(learning_rate=1e-3, patience=10, min_delta=0.0, batch_size=64, shift_frames=6),
    # min_delta in nats per clip (the loss is a negative log-likelihood)
    "vae_gen": dict(learning_rate=1e-3, patience=10, min_delta=1.0, batch_size=64),
    "cvae": dict(learning_rate=1e-3, patience=10, min_delta=1.0, batch_size=64),
    # min_delta on MSE per pixel plus the light KL (models/latent.py)
    "latent_ae": dict(learning_rate=1e-3, patience=8, min_delta=1e-6, batch_size=32),
}
# The generative VAEs' objective (models/generative.py); chosen on validation, see the card.
GENERATIVE_DEFAULTS = dict(beta=1.0, free_bits=0.0, warmup_epochs=10)


def _code_state() -> dict:
    """What a card records of the code that trained it: the git commit, whether tracked files differed, the date."""
    import datetime

    from .runtime import git_state

    commit, dirty = git_state()
    return {"git_commit": commit, "git_dirty_tracked_files": dirty,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}


def replay_early_stopping(val_loss, *, patience: int, epochs: int, min_delta: float = 0.0) -> dict:
    """Where Keras' early stopping would have ended a run, and which epoch it would have kept, from its history.

    Training is seeded and deterministic and nothing in it depends on ``patience`` or the cap,
    so a run with other settings repeats the same epochs until it stops: one long run's
    validation losses answer for every shorter setting. Returns ``{"stopped_at", "best_epoch"}``
    (1-based), or ``None`` for ``stopped_at`` when the history ends before the setting would stop.

    >>> replay_early_stopping([3.0, 2.0, 2.5, 2.4, 1.0], patience=2, epochs=10)
    {'stopped_at': 4, 'best_epoch': 2}
    """
    values = list(val_loss)[:epochs]
    best, wait, stopped = float("inf"), 0, None
    for i, v in enumerate(values):
        if v < best - min_delta:   # EarlyStopping's improvement (min_delta counts here only)
            best, wait = v, 0
        else:
            wait += 1
            if wait >= patience:
                stopped = i + 1
                break
    ran = values[:stopped] if stopped else values
    if stopped is None and len(values) == epochs:
        stopped = epochs
    # the kept weights are ModelCheckpoint's: the lowest validation loss, without min_delta
    return {"stopped_at": stopped, "best_epoch": int(np.argmin(ran)) + 1}


def set_seed(seed: int = 0, *, deterministic: bool = True) -> None:
    """Seed every generator (``keras.utils.set_random_seed``) and use deterministic TensorFlow ops."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    if deterministic:
        tf.config.experimental.enable_op_determinism()


def machine() -> str:
    """CPU model, core count, OS and library versions: where a model was trained."""
    import keras
    import tensorflow as tf

    from .runtime import cpu_model

    cpu = cpu_model()
    gpus = tf.config.list_physical_devices("GPU")
    device = f"{len(gpus)} GPU" if gpus else "no GPU"
    return (f"{cpu}, {os.cpu_count()} cores, {device}; {platform.system()} {platform.release()}; "
            f"Python {platform.python_version()}, TensorFlow {tf.__version__}, Keras {keras.__version__}")


def _atomic_json(path: Path, obj) -> None:
    """``obj`` as JSON at ``path``, all or nothing (:func:`audiogen_lib.files.atomic_write`)."""
    from .files import atomic_write

    with atomic_write(path) as f:
        json.dump(obj, f, indent=1)


def _history_callback(history: dict, path: Path | None):
    import keras

    class EpochLog(keras.callbacks.Callback):
        """Records every epoch's logs and the wall time so far; rewrites the JSON each epoch."""

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            for k, v in (logs or {}).items():
                history.setdefault(k, []).append(float(v))
            history.setdefault("wall_time", []).append(time.perf_counter() - self.start)
            if path is not None:
                _atomic_json(path, history)

    return EpochLog()


def _time_limit_callback(max_seconds: float):
    import keras

    class TimeLimit(keras.callbacks.Callback):
        """Stops training at the end of the first epoch past ``max_seconds``."""

        def on_train_begin(self, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            if time.perf_counter() - self.start > max_seconds:
                self.model.stop_training = True

    return TimeLimit()


def reconstruction_rmse(model, x: np.ndarray, *, digits: np.ndarray | None = None, batch_size: int = 128) -> float:
    """``sqrt(mean((x - model(x))**2))`` over every pixel of every clip; VAEs decode ``mu``.

    This is the ``test_rmse`` of a model card. The losses Keras logs while training
    (``reconstruction``, ``val_reconstruction``, a U-Net's ``loss``) are instead the mean
    over clips of each clip's own RMSE, which is slightly smaller (0.0385 against 0.0391
    for the shipped VAE).
    """
    x_hat = model.predict(x if digits is None else (x, digits), batch_size=batch_size, verbose=0)
    from .metrics import rmse

    return rmse(x, x_hat)


@dataclass
class TrainingRun:
    """What :func:`train` returns."""

    model: object
    history: dict
    card: dict
    path: Path | None = None
    extras: dict = field(default_factory=dict)


def _build(kind: str, config: FeatureConfig, preset: str, *, alpha, reconstruction, skip_connections, seed,
           generative=None):
    from .models import build_classifier, build_unet, build_vae

    if kind == "latent_ae":
        from .models.latent import build_latent_autoencoder

        return build_latent_autoencoder(config.shape, preset=preset, seed=seed)
    if kind in GENERATIVE:
        from .models.generative import build_generative_vae

        return build_generative_vae(config.shape, preset=preset, beta=generative["beta"],
                                    free_bits=generative["free_bits"], n_classes=10 if kind == "cvae" else 0, seed=seed)
    if kind == "vae":
        return build_vae(config.shape, preset=preset, alpha=alpha, reconstruction=reconstruction, seed=seed)
    if kind == "unet":
        return build_unet(config.shape, preset=preset, skip_connections=skip_connections)
    return build_classifier(config.shape)


def _datasets(kind, train, validation, batch_size, seed, shift_frames=0):
    import tensorflow as tf

    if kind in ("classifier", "cvae"):
        tr, va = (train.x, train.digits), (validation.x, validation.digits)
        if kind == "cvae":  # both are inputs: one element, no target
            tr, va = (tr,), (va,)
    elif kind == "unet":
        tr, va = (train.x, train.x), (validation.x, validation.x)
    else:
        tr, va = train.x, validation.x
    ds_train = tf.data.Dataset.from_tensor_slices(tr).shuffle(len(train), seed=seed, reshuffle_each_iteration=True)
    if shift_frames:
        def shift(x, y):  # the same roll of every row: the clip starts earlier or later
            s = tf.random.uniform([], -shift_frames, shift_frames + 1, dtype=tf.int32, seed=seed)
            return tf.roll(x, s, axis=1), y

        ds_train = ds_train.map(shift)
    ds_train = ds_train.batch(batch_size).prefetch(2)
    ds_validation = tf.data.Dataset.from_tensor_slices(va).batch(batch_size).prefetch(2)
    return ds_train, ds_validation


def split_record(split: str, clips: int) -> dict:
    """What a card says of one split: its takes, its size and what it was used for."""
    from .data import SPLIT_TAKES

    lo, hi = SPLIT_TAKES[split]
    use = {"train": "fitting the weights", "validation": "early stopping and the best checkpoint",
           "test": "final scores only (after training; never seen by training or selection)"}[split]
    return {"takes": f"{lo}-{hi - 1}", "clips": clips, "used_for": use}


def generation_db_range(train, config: FeatureConfig) -> list[float]:
    """The dB range a generated image is read in: ``top_db`` wide, ending at the training clips' median peak.

    Every training image spans exactly ``top_db`` (per-clip normalisation), so an image that
    came from no clip is read in a range of that width, not the wider global range.
    """
    hi = float(np.median(train.db_max))
    return [round(hi - config.top_db, 3), round(hi, 3)]


def train(kind: str, *, config: str | FeatureConfig = "paper", preset: str = "fast", profile: str | Profile | None = None,
          epochs: int | None = None, n_train: int | None = None, n_test: int | None = None,
          batch_size: int | None = None, learning_rate: float | None = None, patience: int | None = None,
          min_delta: float | None = None, max_seconds: float | None = None, alpha: float = 1_000_000.0,
          reconstruction: str = "rmse", skip_connections: bool = True, seed: int = 0,
          beta: float | None = None, free_bits: float | None = None, warmup_epochs: int | None = None,
          out_dir: str | os.PathLike | None = None, verbose="auto", deterministic: bool = True) -> TrainingRun:
    """Train a ``kind`` (``"vae"``, ``"unet"``, ``"classifier"``, ``"vae_gen"``, ``"cvae"``) on the training split (takes 10-49).

    The validation split (takes 5-9) chooses: early stopping watches its loss and the
    weights of the epoch with the lowest validation loss are kept. The test split (takes
    0-4) is read only after training, for the card's final score. Epochs and clips come
    from the profile unless given (the profile's ``n_test`` also caps validation). With ``out_dir``, writes ``history.json`` after every epoch,
    ``best.weights.h5`` and, at the end, ``model.keras`` and ``card.json``.

    >>> run = train("unet", config="paper", profile="smoke")   # doctest: +SKIP
    """
    import keras

    from .data import manifest_hash
    from .features import load_features
    from .models import save_model, weights_sha256

    if kind not in KINDS:
        raise AudiogenError(f"unknown model kind {kind!r}; use one of {KINDS}")
    config = get_config(config)
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    d = DEFAULTS[kind]
    epochs = epochs or {"vae": profile.vae_epochs, "unet": profile.unet_epochs, "classifier": profile.classifier_epochs,
                        "vae_gen": profile.vae_epochs, "cvae": profile.vae_epochs,
                        "latent_ae": profile.vae_epochs}[kind]
    if kind == "latent_ae" and preset in ("fast", "paper"):
        preset = "f4c4"  # the latent autoencoder's presets name the latent (models/latent.py)
    generative = {k: v if v is not None else GENERATIVE_DEFAULTS[k]
                  for k, v in dict(beta=beta, free_bits=free_bits, warmup_epochs=warmup_epochs).items()}
    batch_size = batch_size or d["batch_size"]
    learning_rate = learning_rate or d["learning_rate"]
    patience = d["patience"] if patience is None else patience
    min_delta = d["min_delta"] if min_delta is None else min_delta
    n_train = n_train if n_train is not None else profile.n_train
    n_test = n_test if n_test is not None else profile.n_test

    set_seed(seed, deterministic=deterministic)
    train_set = load_features("train", config=config).subset(n_train, seed=seed)
    validation_set = load_features("validation", config=config).subset(n_test, seed=seed)
    model = _build(kind, config, preset, alpha=alpha, reconstruction=reconstruction,
                   skip_connections=skip_connections, seed=seed, generative=generative)
    optimizer = keras.optimizers.Adam(learning_rate)
    if kind in ("vae", "latent_ae", *GENERATIVE):
        model.compile(optimizer=optimizer)
    elif kind == "unet":
        from .models import rmse

        model.compile(optimizer=optimizer, loss=rmse)
    else:
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    ds_train, ds_validation = _datasets(kind, train_set, validation_set, batch_size, seed,
                                        shift_frames=d.get("shift_frames", 0))

    scratch = None if out_dir else tempfile.TemporaryDirectory(prefix=f"audiogen-{kind}-")
    out = Path(out_dir) if out_dir else Path(scratch.name)
    out.mkdir(parents=True, exist_ok=True)
    history: dict = {}
    best = out / "best.weights.h5"
    callbacks = [
        _history_callback(history, out / "history.json" if out_dir else None),
        keras.callbacks.ModelCheckpoint(best, monitor="val_loss", save_best_only=True, save_weights_only=True),
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience,
                                      min_delta=min_delta * alpha if kind == "vae" else min_delta,
                                      start_from_epoch=generative["warmup_epochs"] if kind in GENERATIVE else 0),
        keras.callbacks.TerminateOnNaN(),
    ]
    if kind in GENERATIVE:
        from .models.generative import KLWarmUp

        callbacks.append(KLWarmUp(generative["warmup_epochs"]))
    if max_seconds:
        callbacks.append(_time_limit_callback(max_seconds))
    start = time.perf_counter()
    try:
        model.fit(ds_train, validation_data=ds_validation, epochs=epochs, callbacks=callbacks, verbose=verbose,
                  shuffle=False)
        wall = time.perf_counter() - start
        if not history or not np.all(np.isfinite(history["loss"])):
            raise AudiogenError(f"training the {kind} diverged (loss became NaN or Inf); lower the learning rate "
                                f"(was {learning_rate})")
        model.load_weights(best)
    finally:  # the scratch folder goes whether training ended, diverged or was interrupted
        if scratch is not None:
            scratch.cleanup()
    best_epoch = int(np.argmin(history["val_loss"]))
    test_set = load_features("test", config=config).subset(n_test, seed=seed)  # final score only

    card = {
        "kind": kind, "preset": preset, "skip_connections": skip_connections if kind == "unet" else None,
        "feature_config": config.to_dict(), "profile": profile.name,
        "command": " ".join(shlex.quote(a) for a in [os.path.basename(sys.argv[0])] + sys.argv[1:]),
        **_code_state(),
        "data_manifest": manifest_hash(),
        "split": {"train": split_record("train", len(train_set)),
                  "validation": split_record("validation", len(validation_set)),
                  "test": split_record("test", len(test_set))},
        "normalisation": {"mode": "clip", "range_db": config.top_db,
                          "generation_db_range": generation_db_range(train_set, config)},
        "hyperparameters": {"epochs": epochs, "batch_size": batch_size, "learning_rate": learning_rate,
                            "patience": patience, "min_delta": min_delta, "seed": seed,
                            **({"alpha": alpha, "reconstruction": reconstruction} if kind == "vae" else {}),
                            **(generative if kind in GENERATIVE else {}),
                            **({"shift_frames": d["shift_frames"]} if "shift_frames" in d else {})},
        "parameters": int(model.count_params()),
        "epochs_run": len(history["loss"]), "best_epoch": best_epoch + 1,
        "wall_time_s": round(wall, 1), "machine": machine(),
        "final": {k: v[best_epoch] for k, v in history.items() if k != "wall_time"},
        "history": history,
    }
    if kind == "latent_ae":
        from .models.latent import latent_scale

        model.scale = latent_scale(model, train_set.x)
        card["latent"] = {"shape": list(model.latent_shape), "numbers": int(np.prod(model.latent_shape)),
                          "scale": model.scale, "kl_weight": model.kl_weight}
    if kind != "classifier":
        labels = (lambda split: split.digits) if kind == "cvae" else (lambda split: None)
        card["final"]["validation_rmse"] = reconstruction_rmse(model, validation_set.x, digits=labels(validation_set))
        card["final"]["test_rmse"] = reconstruction_rmse(model, test_set.x, digits=labels(test_set))
    else:
        for name, split in (("validation", validation_set), ("test", test_set)):
            card["final"][f"{name}_accuracy"] = float(np.mean(model.predict(split.x, verbose=0).argmax(-1) == split.digits))
    card["weights_sha256"] = weights_sha256(model)
    path = None
    if out_dir:
        path = save_model(model, out / "model.keras", config=config, card=card)
        _atomic_json(out / "card.json", card)
    return TrainingRun(model=model, history=history, card=card, path=path)
