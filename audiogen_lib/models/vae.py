"""The variational autoencoder: convolutional encoder -> (mu, log sigma^2) -> sample -> decoder.

Loss, as the study writes it: ``alpha * RMSE(x, x_hat) + KL``, with the KL term in
closed form (:func:`audiogen_lib.models.layers.kl_divergence`, correct sign) and
alpha = 1,000,000 by default. ``reconstruction="mse"`` gives what the code the study
grew from computed instead.

Public names
------------
VAE_PRESETS     ``"paper"`` (the original code's architecture) and ``"fast"`` (designed for a CPU)
build_encoder   image -> (mu, log_var)
build_decoder   z -> image in [0, 1]
VAE             the model: ``train_step``/``test_step`` track total, reconstruction and KL
build_vae       a compiled-ready VAE from a preset

Notebook: notebooks/06_training_vae.ipynb
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ..errors import AudiogenError
from .layers import RECONSTRUCTION_LOSSES, Sampling, conv_block, kl_divergence

VAE_PRESETS = {
    # The code the study grew from: wide first layers at full resolution, BatchNorm after ReLU.
    # 2.37 M parameters, 1.64 GMAC per sample forward.
    "paper": dict(filters=(512, 256, 128, 64, 32), strides=(2, 2, 2, 2, (2, 1)), latent_dim=128,
                  batch_norm=True),
    # For a CPU: filters grow as the image shrinks, so each level costs about the same;
    # no BatchNorm (whose moving statistics made the paper VAE's validation loss jump).
    "fast": dict(filters=(16, 32, 64, 128, 32), strides=(2, 2, 2, 2, (2, 1)), latent_dim=128,
                 batch_norm=False),
}


def _preset(name: str, overrides: dict) -> dict:
    if name not in VAE_PRESETS:
        raise AudiogenError(f"unknown VAE preset {name!r}; use one of {sorted(VAE_PRESETS)}")
    unknown = set(overrides) - set(VAE_PRESETS[name])
    if unknown:
        raise AudiogenError(f"unknown VAE settings {sorted(unknown)}; the settings are {sorted(VAE_PRESETS[name])}")
    return {**VAE_PRESETS[name], **overrides}


def _check_divisible(input_shape, strides) -> tuple[int, int]:
    h, w = input_shape[:2]
    for s in strides:
        sh, sw = (s, s) if isinstance(s, int) else s
        if h % sh or w % sw:
            raise AudiogenError(f"input shape {tuple(input_shape)} is not divisible by the strides {strides}")
        h, w = h // sh, w // sw
    return h, w


def build_encoder(input_shape=(256, 64, 1), *, filters, strides, latent_dim, batch_norm=False,
                  n_classes: int = 0) -> keras.Model:
    """Strided convolutions, flatten, then two dense heads: ``mu`` and ``log_var``.

    With ``n_classes`` the encoder also reads a one-hot label, joined to the flattened features
    (a conditional VAE, Sohn et al. 2015; models/generative.py).
    """
    _check_divisible(input_shape, strides)
    inputs = [keras.Input(shape=input_shape, name="spectrogram")]
    x = inputs[0]
    for i, (f, s) in enumerate(zip(filters, strides)):
        x = conv_block(x, f, strides=s, batch_norm=batch_norm, name=f"enc_conv{i}")
    x = layers.Flatten()(x)
    if n_classes:
        inputs.append(keras.Input(shape=(n_classes,), name="digit_onehot"))
        x = layers.Concatenate(name="enc_with_digit")([x, inputs[1]])
    mu = layers.Dense(latent_dim, name="mu")(x)
    log_var = layers.Dense(latent_dim, name="log_var")(x)
    return keras.Model(inputs if n_classes else inputs[0], [mu, log_var], name="encoder")


def build_decoder(output_shape=(256, 64, 1), *, filters, strides, latent_dim, batch_norm=False,
                  n_classes: int = 0) -> keras.Model:
    """The encoder mirrored: dense, reshape, transposed convolutions, a sigmoid image.

    With ``n_classes`` the decoder also reads a one-hot label, joined to ``z``.
    """
    h, w = _check_divisible(output_shape, strides)
    inputs = [keras.Input(shape=(latent_dim,), name="z")]
    z = inputs[0]
    if n_classes:
        inputs.append(keras.Input(shape=(n_classes,), name="digit_onehot"))
        z = layers.Concatenate(name="dec_with_digit")(inputs)
    x = layers.Dense(h * w * filters[-1], name="dec_dense")(z)
    x = layers.Reshape((h, w, filters[-1]))(x)
    for i in reversed(range(1, len(filters))):
        x = conv_block(x, filters[i], strides=strides[i], batch_norm=batch_norm, transpose=True, name=f"dec_conv{i}")
    x = layers.Conv2DTranspose(output_shape[-1], 3, strides=strides[0], padding="same", name="dec_out")(x)
    outputs = layers.Activation("sigmoid", name="sigmoid")(x)
    return keras.Model(inputs if n_classes else inputs[0], outputs, name="decoder")


def _encoder_decoder(config: dict):
    """The encoder and decoder a VAE's ``get_config`` serialised, rebuilt (both VAE classes load this way)."""
    return (keras.saving.deserialize_keras_object(config["encoder"]),
            keras.saving.deserialize_keras_object(config["decoder"]))


@keras.saving.register_keras_serializable(package="audiogen")
class VAE(keras.Model):
    """Encoder, seeded sampling and decoder, trained on ``alpha * reconstruction + KL``.

    ``model(x)`` reconstructs from ``mu`` (the mean of q(z|x)); ``model(x, sample=True)``
    decodes a sampled ``z`` instead. ``test_step`` also decodes ``mu``, so the
    validation loss is deterministic. ``alpha`` is read when the training step is
    traced: after changing it, ``compile`` again.
    """

    def __init__(self, encoder, decoder, *, alpha: float = 1_000_000.0, reconstruction: str = "rmse",
                 seed: int | None = 0, **kwargs):
        super().__init__(**kwargs)
        if reconstruction not in RECONSTRUCTION_LOSSES:
            raise AudiogenError(f"unknown reconstruction term {reconstruction!r}; use one of {sorted(RECONSTRUCTION_LOSSES)}")
        if not alpha > 0:
            raise AudiogenError(f"alpha must be positive, got {alpha}")
        self.encoder, self.decoder = encoder, decoder
        self.alpha, self.reconstruction, self.seed = float(alpha), reconstruction, seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self._reconstruction_fn = RECONSTRUCTION_LOSSES[reconstruction]
        self.total_tracker = keras.metrics.Mean(name="loss")
        self.reconstruction_tracker = keras.metrics.Mean(name="reconstruction")
        self.kl_tracker = keras.metrics.Mean(name="kl")

    def build(self, input_shape=None):
        self.built = True  # encoder and decoder are built functional models

    @property
    def latent_dim(self) -> int:
        return self.decoder.input_shape[-1]

    @property
    def metrics(self):
        return [self.total_tracker, self.reconstruction_tracker, self.kl_tracker]

    def call(self, x, training=False, sample=False):
        mu, log_var = self.encoder(x, training=training)
        z = self.sampling([mu, log_var]) if sample else mu
        return self.decoder(z, training=training)

    def _loss_terms(self, x, training: bool):
        mu, log_var = self.encoder(x, training=training)
        z = self.sampling([mu, log_var]) if training else mu
        x_hat = self.decoder(z, training=training)
        reconstruction = ops.mean(self._reconstruction_fn(x, x_hat))
        kl = ops.mean(kl_divergence(mu, log_var))
        return self.alpha * reconstruction + kl, reconstruction, kl

    def _track(self, total, reconstruction, kl):
        self.total_tracker.update_state(total)
        self.reconstruction_tracker.update_state(reconstruction)
        self.kl_tracker.update_state(kl)
        return {m.name: m.result() for m in self.metrics}

    def train_step(self, data):
        import tensorflow as tf

        x = data[0] if isinstance(data, tuple) else data
        with tf.GradientTape() as tape:
            total, reconstruction, kl = self._loss_terms(x, training=True)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(total, reconstruction, kl)

    def test_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self._track(*self._loss_terms(x, training=False))

    def get_config(self):
        return {"name": self.name, "alpha": self.alpha, "reconstruction": self.reconstruction, "seed": self.seed,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config):
        return cls(*_encoder_decoder(config), **{k: v for k, v in config.items() if k not in ("encoder", "decoder")})


def build_vae(input_shape=(256, 64, 1), *, preset: str = "fast", alpha: float = 1_000_000.0,
              reconstruction: str = "rmse", seed: int | None = 0, **overrides) -> VAE:
    """A VAE from a preset (``"fast"`` or ``"paper"``); ``overrides`` change single settings.

    >>> vae = build_vae(preset="paper")          # doctest: +SKIP
    >>> vae.count_params()                        # 2.37 M
    """
    settings = _preset(preset, overrides)
    encoder = build_encoder(input_shape, **settings)
    decoder = build_decoder(input_shape, **settings)
    vae = VAE(encoder, decoder, alpha=alpha, reconstruction=reconstruction, seed=seed, name=f"vae_{preset}")
    vae(keras.ops.zeros((1, *input_shape)))  # build
    return vae
