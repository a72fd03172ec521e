"""An autoencoder with a spatial latent: the first half of a latent diffusion model.

The spectrogram image (256, 64, 1) is squeezed by two strided convolutions into a latent
image of shape (H/f, W/f, C) with f = 4: (64, 16, 4), 4,096 numbers. Unlike the study's
VAE, whose code is one vector of 128 numbers, the latent keeps *where* in time and
frequency each part of the sound lies, so the decoder only has to add local detail
(Rombach et al., CVPR 2022, "High-Resolution Image Synthesis with Latent Diffusion Models").

The encoder gives a mean and a log-variance per latent number, and the loss adds a KL term
so light that it only keeps the latent's scale in check (the "KL-regularised" autoencoder of
latent diffusion): ``MSE(x, x_hat) + kl_weight * mean KL per latent number``.
After training, :func:`latent_scale` measures the spread of the training latents so that the
diffusion model works on latents of unit variance.

Public names
------------
LATENT_PRESETS             ``"f4c4"`` (64 x 16 x 4) and ``"f8c4"`` (32 x 8 x 4)
LatentAutoencoder          the model: ``encode(x) -> (mu, log_var)``, ``decode(z) -> image``
build_latent_autoencoder   a LatentAutoencoder from a preset
latent_scale               the spread of a set of images' latents

Notebook: notebooks/12_latent_diffusion.ipynb
"""

from __future__ import annotations

import keras
from keras import layers, ops

from ..errors import AudiogenError
from .layers import Sampling, TrackedLoss
from .vae import _encoder_decoder

LATENT_PRESETS = {
    # f: the downsampling factor in each direction (2 ** len(widths): one strided step a level); channels: C.
    "f4c4": dict(widths=(32, 64), channels=4),
    "f8c4": dict(widths=(32, 64, 96), channels=4),
}
DEFAULT_KL_WEIGHT = 1e-5  # nats per latent number against the per-pixel MSE: light, as in latent diffusion


def _conv(x, filters, name, strides=1, transpose=False):
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    return conv(filters, 3, strides=strides, padding="same", activation="silu", name=name)(x)


def build_latent_encoder(input_shape, *, widths, channels) -> keras.Model:
    """Per level a strided 3x3 convolution and one more (none at full size, where it costs most): ``(mu, log_var)``."""
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = inputs
    for i, w in enumerate(widths):
        x = _conv(x, w, f"enc_down{i}", strides=2)
        x = _conv(x, w, f"enc_conv{i}")
    mu = layers.Conv2D(channels, 1, name="mu")(x)
    log_var = layers.Conv2D(channels, 1, name="log_var")(x)
    return keras.Model(inputs, [mu, log_var], name="latent_encoder")


def build_latent_decoder(latent_shape, *, widths, channels, out_channels: int = 1) -> keras.Model:
    """The encoder mirrored: per level two 3x3 convolutions and a transposed strided one; a sigmoid image."""
    inputs = keras.Input(shape=latent_shape, name="latent")
    x = inputs
    for i in reversed(range(len(widths))):
        x = _conv(x, widths[i], f"dec_conv{i}a")
        x = _conv(x, widths[i], f"dec_conv{i}b")
        if i:
            x = _conv(x, widths[i - 1], f"dec_up{i}", strides=2, transpose=True)
    x = layers.Conv2DTranspose(out_channels, 3, strides=2, padding="same", name="dec_out")(x)
    outputs = layers.Activation("sigmoid", name="sigmoid")(x)
    return keras.Model(inputs, outputs, name="latent_decoder")


@keras.saving.register_keras_serializable(package="audiogen")
class LatentAutoencoder(TrackedLoss, keras.Model):
    """Encoder -> sampled latent (training) or its mean -> decoder; loss ``MSE + kl_weight * KL per number``.

    Logged: ``loss``, ``reconstruction`` (RMSE, as for the other models), ``kl`` (nats per latent number).
    ``scale`` is the standard deviation of the training latents (set after training), by which the
    diffusion model divides them.
    """

    def __init__(self, encoder, decoder, *, kl_weight: float = DEFAULT_KL_WEIGHT, scale: float = 1.0,
                 seed: int | None = 0, **kwargs):
        super().__init__(**kwargs)
        if kl_weight < 0:
            raise AudiogenError(f"kl_weight must be >= 0, got {kl_weight}")
        self.encoder, self.decoder = encoder, decoder
        self.kl_weight, self.scale, self.seed = float(kl_weight), float(scale), seed
        self.sampling = Sampling(seed=seed, name="sampling")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl")}

    def build(self, input_shape=None):
        self.built = True

    @property
    def latent_shape(self) -> tuple[int, int, int]:
        return tuple(self.decoder.input_shape[1:])

    @property
    def metrics(self):
        return list(self.trackers.values())

    def encode(self, x, training=False):
        return self.encoder(x, training=training)

    def decode(self, z, training=False):
        return self.decoder(z, training=training)

    def call(self, x, training=False):
        mu, _ = self.encode(x, training=training)
        return self.decode(mu, training=training)

    def _loss_terms(self, x, training: bool):
        if isinstance(x, (tuple, list)):
            x = x[0]
        mu, log_var = self.encode(x, training=training)
        z = self.sampling([mu, log_var]) if training else mu
        x_hat = self.decode(z, training=training)
        err = ops.square(x - x_hat)
        kl = ops.mean(-0.5 * (1.0 + log_var - ops.square(mu) - ops.exp(log_var)))
        total = ops.mean(err) + self.kl_weight * kl
        rmse = ops.mean(ops.sqrt(ops.mean(err, axis=(1, 2, 3))))
        return total, {"loss": total, "reconstruction": rmse, "kl": kl}

    def get_config(self):
        return {"name": self.name, "kl_weight": self.kl_weight, "scale": self.scale, "seed": self.seed,
                "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config):
        return cls(*_encoder_decoder(config), **{k: v for k, v in config.items() if k not in ("encoder", "decoder")})


def build_latent_autoencoder(input_shape=(256, 64, 1), *, preset: str = "f4c4", kl_weight: float = DEFAULT_KL_WEIGHT,
                             seed: int | None = 0) -> LatentAutoencoder:
    """A :class:`LatentAutoencoder` from a preset of :data:`LATENT_PRESETS`."""
    if preset not in LATENT_PRESETS:
        raise AudiogenError(f"unknown latent autoencoder preset {preset!r}; use one of {sorted(LATENT_PRESETS)}")
    settings = LATENT_PRESETS[preset]
    f = 2 ** len(settings["widths"])
    if input_shape[0] % f or input_shape[1] % f:
        raise AudiogenError(f"input shape {tuple(input_shape)} is not divisible by the downsampling factor {f}")
    latent_shape = (input_shape[0] // f, input_shape[1] // f, settings["channels"])
    model = LatentAutoencoder(build_latent_encoder(input_shape, **settings),
                              build_latent_decoder(latent_shape, **settings, out_channels=input_shape[-1]),
                              kl_weight=kl_weight, seed=seed, name=f"latent_ae_{preset}")
    model(keras.ops.zeros((1, *input_shape)))  # build
    return model


def latent_scale(model: LatentAutoencoder, x, *, batch_size: int = 128) -> float:
    """The standard deviation of the latent means of images ``x``: the diffusion model divides latents by it."""
    import numpy as np

    mu = np.asarray(model.encoder.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0)[0])
    return float(np.std(mu))
