"""A VAE trained to generate: a balanced objective, KL warm-up, free bits, optional digit conditioning.

The study's VAE (:mod:`audiogen_lib.models.vae`) minimises alpha * RMSE + KL with
alpha = 10^6. Its RMSE is a mean over D = 16,384 pixels and its KL a sum over 128
dimensions, so near the trained RMSE this is a beta-VAE with beta = D / (alpha * RMSE),
about 0.4: close to the ELBO, not an autoencoder without a KL. Its samples from N(0, I)
still fall where few training codes lie, and its decoder blurs. This model keeps the same
encoder and decoder and changes the objective:

- **sigma-VAE** (Rybkin, Daniilidis & Levine, ICML 2021): the decoder is a Gaussian whose
  variance is set to its optimum, the batch's mean squared error, so the reconstruction
  term is ``D/2 * log(MSE)`` (D pixels) and its balance with the KL needs no alpha;
- **beta**: an explicit weight on the KL (1 is the ELBO), to be chosen on validation;
- **KL warm-up** (Bowman et al., 2016): the KL weight rises from 0 to beta over the first
  ``warmup_epochs`` epochs (:class:`KLWarmUp`), so the decoder learns to use z first;
- **free bits** (Kingma et al., 2016): each latent dimension's KL below ``free_bits`` nats
  costs nothing, which keeps dimensions from collapsing onto the prior;
- **conditioning on the digit** (Sohn et al., 2015): with ``n_classes=10`` the encoder and
  decoder also read the digit as a one-hot vector, so one can ask for a "seven".

Public names
------------
GenerativeVAE         the model; inputs ``x`` or ``(x, digit)``; ``decode(z[, digit])``
build_generative_vae  from a VAE preset (``"fast"``), with the objective's settings
KLWarmUp              callback that ramps the KL weight

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import math

import keras
from keras import ops

from ..errors import AudiogenError
from .layers import Sampling, TrackedLoss
from .vae import VAE_PRESETS, _encoder_decoder, _preset, build_decoder, build_encoder

MIN_LOG_SIGMA = -6.0  # the decoder's standard deviation never goes below e^-6 (about 0.0025)


@keras.saving.register_keras_serializable(package="audiogen")
class GenerativeVAE(TrackedLoss, keras.Model):
    """Encoder, seeded sampling and decoder trained on ``D/2 log MSE + kl_weight * sum_d max(KL_d, free_bits)``.

    ``model(x)`` (or ``model((x, digit))`` when conditional) reconstructs from ``mu``.
    Logged: ``loss``, ``reconstruction`` (RMSE, comparable with the study's VAE), ``kl``
    (nats per clip, without free bits), ``log_sigma`` (the decoder's optimal noise level).
    """

    def __init__(self, encoder, decoder, *, beta: float = 1.0, free_bits: float = 0.0, n_classes: int = 0,
                 seed: int | None = 0, **kwargs):
        super().__init__(**kwargs)
        if not beta > 0:
            raise AudiogenError(f"beta must be positive, got {beta}")
        if free_bits < 0:
            raise AudiogenError(f"free_bits must be >= 0 nats per dimension, got {free_bits}")
        self.encoder, self.decoder = encoder, decoder
        self.beta, self.free_bits, self.n_classes, self.seed = float(beta), float(free_bits), int(n_classes), seed
        self.kl_weight = keras.Variable(self.beta, trainable=False, name="kl_weight", dtype="float32")
        self.sampling = Sampling(seed=seed, name="sampling")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction", "kl", "log_sigma")}

    def build(self, input_shape=None):
        self.built = True

    @property
    def latent_dim(self) -> int:
        return self.decoder.input_shape[0][-1] if self.n_classes else self.decoder.input_shape[-1]

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _split(self, data):
        """``x`` or ``(x, digit)`` (from a dataset: possibly wrapped in one more tuple) -> (x, one-hot or None)."""
        if isinstance(data, (tuple, list)) and len(data) == 1:
            data = data[0]
        if self.n_classes:
            if not (isinstance(data, (tuple, list)) and len(data) == 2):
                raise AudiogenError("a conditional VAE takes (images, digits); pass the digit labels too")
            x, digit = data
            return x, ops.one_hot(ops.cast(digit, "int32"), self.n_classes)
        if isinstance(data, (tuple, list)):
            data = data[0]
        return data, None

    def encode(self, x, onehot=None, training=False):
        return self.encoder([x, onehot] if self.n_classes else x, training=training)

    def decode(self, z, onehot=None, training=False):
        return self.decoder([z, onehot] if self.n_classes else z, training=training)

    def call(self, data, training=False):
        x, onehot = self._split(data)
        mu, _ = self.encode(x, onehot, training=training)
        return self.decode(mu, onehot, training=training)

    def _loss_terms(self, data, training: bool):
        x, onehot = self._split(data)
        mu, log_var = self.encode(x, onehot, training=training)
        z = self.sampling([mu, log_var]) if training else mu
        x_hat = self.decode(z, onehot, training=training)
        err = ops.square(x - x_hat)
        mse = ops.mean(err)
        log_sigma = ops.maximum(0.5 * ops.log(mse), MIN_LOG_SIGMA)  # the optimal sigma: sqrt(MSE)
        n_pixels = math.prod(x_hat.shape[1:])
        # Gaussian negative log-likelihood per clip, summed over pixels, with sigma at its optimum.
        nll = ops.mean(ops.sum(err, axis=(1, 2, 3))) / (2.0 * ops.exp(2.0 * log_sigma)) \
            + n_pixels * (log_sigma + 0.5 * math.log(2 * math.pi))
        kl_dims = -0.5 * (1.0 + log_var - ops.square(mu) - ops.exp(log_var))  # (batch, latent)
        kl = ops.mean(ops.sum(kl_dims, axis=-1))
        kl_charged = ops.sum(ops.maximum(ops.mean(kl_dims, axis=0), self.free_bits))
        # Validation always charges the full beta, so that its loss compares across the warm-up.
        total = nll + (self.kl_weight if training else self.beta) * kl_charged
        rmse = ops.mean(ops.sqrt(ops.mean(err, axis=(1, 2, 3))))
        return total, {"loss": total, "reconstruction": rmse, "kl": kl, "log_sigma": log_sigma}

    def get_config(self):
        return {"name": self.name, "beta": self.beta, "free_bits": self.free_bits, "n_classes": self.n_classes,
                "seed": self.seed, "encoder": keras.saving.serialize_keras_object(self.encoder),
                "decoder": keras.saving.serialize_keras_object(self.decoder)}

    @classmethod
    def from_config(cls, config):
        return cls(*_encoder_decoder(config), **{k: v for k, v in config.items() if k not in ("encoder", "decoder")})


class KLWarmUp(keras.callbacks.Callback):
    """Raise the KL weight linearly from 0 to the model's ``beta`` over the first ``epochs`` epochs."""

    def __init__(self, epochs: int):
        super().__init__()
        if epochs < 0:
            raise AudiogenError(f"warm-up epochs must be >= 0, got {epochs}")
        self.epochs = epochs

    def on_epoch_begin(self, epoch, logs=None):
        share = 1.0 if self.epochs == 0 else min(1.0, epoch / self.epochs)
        self.model.kl_weight.assign(self.model.beta * share)


def build_generative_vae(input_shape=(256, 64, 1), *, preset: str = "fast", beta: float = 1.0, free_bits: float = 0.0,
                         n_classes: int = 0, seed: int | None = 0, **overrides) -> GenerativeVAE:
    """A :class:`GenerativeVAE` on a VAE preset's architecture; ``n_classes=10`` makes it digit-conditional."""
    if preset not in VAE_PRESETS:
        raise AudiogenError(f"unknown VAE preset {preset!r}; use one of {sorted(VAE_PRESETS)}")
    settings = _preset(preset, overrides)
    encoder = build_encoder(input_shape, n_classes=n_classes, **settings)
    decoder = build_decoder(input_shape, n_classes=n_classes, **settings)
    name = f"cvae_{preset}" if n_classes else f"vae_gen_{preset}"
    model = GenerativeVAE(encoder, decoder, beta=beta, free_bits=free_bits, n_classes=n_classes, seed=seed, name=name)
    x = keras.ops.zeros((1, *input_shape))
    model((x, keras.ops.zeros((1,), "int32")) if n_classes else x)  # build
    return model
