"""An autoencoder with a spatial latent: the first half of a latent diffusion model.

The spectrogram image (256, 64, 1) is squeezed into a latent image of shape (H/f, W/f, C):
with f = 4 and C = 4, (64, 16, 4), 4,096 numbers. Two designs: ``"conv"`` halves the size with
a strided 3x3 convolution a level (the shipped ``f4c4``); ``"patch"`` reads each f x f patch
with one convolution and then works on the latent's grid with residual blocks, where every
convolution is f * f times cheaper (``f4c4p``, ``f8c8``, ``f8c16``). Unlike the study's
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
LATENT_PRESETS             the latent's shape and the network: ``"f4c4"`` (64 x 16 x 4), ``"f8c16"`` (32 x 8 x 16), ...
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
    # "conv": one strided 3x3 convolution a level, f = 2 ** len(widths); channels: C.
    "f4c4": dict(arch="conv", widths=(32, 64), channels=4),
    "f8c4": dict(arch="conv", widths=(32, 64, 96), channels=4),
    # "patch": each f x f patch read by one convolution, then residual blocks at the latent's size
    "f4c4p": dict(arch="patch", f=4, width=64, blocks=2, channels=4),
    "f8c16": dict(arch="patch", f=8, width=64, blocks=2, channels=16),
    "f8c8": dict(arch="patch", f=8, width=64, blocks=2, channels=8),
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


def _residual(x, width, name):
    """Two 3x3 convolutions added back to their input: ``silu(x + conv(silu(conv(x))))``."""
    h = layers.Conv2D(width, 3, padding="same", activation="silu", name=f"{name}_conv1")(x)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(h)
    return layers.Activation("silu", name=f"{name}_out")(layers.Add(name=f"{name}_add")([x, h]))


def build_patch_encoder(input_shape, *, f, width, blocks, channels) -> keras.Model:
    """One 3x3 convolution at full size, one that reads each f x f patch, residual blocks: ``(mu, log_var)``.

    Every block works on the latent's grid (H/f x W/f), where a 3x3 convolution costs f * f
    times less than at full size: the network can be wide where it is cheap.
    """
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = layers.Conv2D(16, 3, padding="same", activation="silu", name="enc_full")(inputs)
    x = layers.Conv2D(width, f, strides=f, activation="silu", name="enc_patches")(x)
    for i in range(blocks):
        x = _residual(x, width, f"enc_block{i}")
    mu = layers.Conv2D(channels, 1, name="mu")(x)
    log_var = layers.Conv2D(channels, 1, name="log_var")(x)
    return keras.Model(inputs, [mu, log_var], name="latent_encoder")


def build_patch_decoder(latent_shape, *, f, width, blocks, channels, out_channels: int = 1) -> keras.Model:
    """The encoder mirrored: residual blocks on the latent's grid, each cell spread back to an f x f patch
    of 16 features, one 3x3 convolution at full size (it smooths the patches' edges); a sigmoid image."""
    inputs = keras.Input(shape=latent_shape, name="latent")
    x = layers.Conv2D(width, 3, padding="same", activation="silu", name="dec_in")(inputs)
    for i in range(blocks):
        x = _residual(x, width, f"dec_block{i}")
    x = layers.Conv2DTranspose(16, f, strides=f, activation="silu", name="dec_patches")(x)
    x = layers.Conv2D(out_channels, 3, padding="same", name="dec_full")(x)
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
    settings = dict(LATENT_PRESETS[preset])
    arch = settings.pop("arch")
    f = settings["f"] if arch == "patch" else 2 ** len(settings["widths"])
    if input_shape[0] % f or input_shape[1] % f:
        raise AudiogenError(f"input shape {tuple(input_shape)} is not divisible by the downsampling factor {f}")
    latent_shape = (input_shape[0] // f, input_shape[1] // f, settings["channels"])
    encoder, decoder = ((build_patch_encoder, build_patch_decoder) if arch == "patch"
                        else (build_latent_encoder, build_latent_decoder))
    model = LatentAutoencoder(encoder(input_shape, **settings),
                              decoder(latent_shape, **settings, out_channels=input_shape[-1]),
                              kl_weight=kl_weight, seed=seed, name=f"latent_ae_{preset}")
    model(keras.ops.zeros((1, *input_shape)))  # build
    return model


def latent_scale(model: LatentAutoencoder, x, *, batch_size: int = 128) -> float:
    """The standard deviation of the latent means of images ``x``: the diffusion model divides latents by it."""
    import numpy as np

    mu = np.asarray(model.encoder.predict(np.asarray(x, np.float32), batch_size=batch_size, verbose=0)[0])
    return float(np.std(mu))
