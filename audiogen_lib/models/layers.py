"""Blocks shared by the models, and the losses.

Public names
------------
Sampling      z = mu + sigma * eps, eps ~ N(0, I), seeded (the reparameterisation trick)
rmse          root mean square error per sample: the study's reconstruction measure
mse           mean square error per sample: what the code the study grew from used
kl_divergence closed-form KL(N(mu, sigma^2) || N(0, I)) per sample
conv_block    Conv2D -> activation [-> BatchNormalization], the encoders' step
TrackedLoss   the training and validation steps of a model whose loss comes in named terms

Notebook: notebooks/03_vae_theory.ipynb
"""

from __future__ import annotations

import keras
from keras import layers, ops


@keras.saving.register_keras_serializable(package="audiogen")
class Sampling(layers.Layer):
    """Draw ``z = mu + exp(log_var / 2) * eps`` with ``eps ~ N(0, I)`` from a seeded generator."""

    def __init__(self, seed: int | None = None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs):
        mu, log_var = inputs
        eps = keras.random.normal(ops.shape(mu), seed=self.seed_generator)
        return mu + ops.exp(0.5 * log_var) * eps

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="audiogen")
def rmse(y_true, y_pred):
    """Root mean square error of each sample (mean over all its pixels), shape ``(batch,)``.

    The loss form of :func:`audiogen_lib.metrics.rmse` with ``per_clip=True``, the library's one
    RMSE, written in Keras ops so that it runs inside training; the two agree to float32
    rounding (tests/test_experiments.py checks it).
    """
    return ops.sqrt(ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3)))


@keras.saving.register_keras_serializable(package="audiogen")
def mse(y_true, y_pred):
    """Mean square error of each sample, shape ``(batch,)``."""
    return ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3))


RECONSTRUCTION_LOSSES = {"rmse": rmse, "mse": mse}


def kl_divergence(mu, log_var):
    """KL(N(mu, sigma^2) || N(0, I)) = -1/2 * sum(1 + log sigma^2 - mu^2 - sigma^2), one value per sample.

    The study's eq. 2 prints this without the leading minus sign; as printed it is the
    negative of the KL divergence and minimising it would push the posterior away from
    the prior. This is the correct sign (derivation in notebooks/03_vae_theory.ipynb).
    """
    return -0.5 * ops.sum(1.0 + log_var - ops.square(mu) - ops.exp(log_var), axis=-1)


def conv_block(x, filters, *, strides=1, batch_norm=False, transpose=False, name=None):
    """3x3 (transposed) convolution, ReLU, then BatchNormalization if asked (the study's order)."""
    conv = layers.Conv2DTranspose if transpose else layers.Conv2D
    x = conv(filters, 3, strides=strides, padding="same", name=name)(x)
    x = layers.ReLU(name=f"{name}_relu" if name else None)(x)
    if batch_norm:
        x = layers.BatchNormalization(name=f"{name}_bn" if name else None)(x)
    return x


class TrackedLoss:
    """``train_step`` and ``test_step`` for a Keras model with ``_loss_terms(data, training) -> (total, {name: value})``
    and ``self.trackers`` (one ``keras.metrics.Mean`` per name): every term is logged, the total is minimised."""

    def _track(self, values):
        for name, value in values.items():
            self.trackers[name].update_state(value)
        return {name: t.result() for name, t in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf

        with tf.GradientTape() as tape:
            total, values = self._loss_terms(data, training=True)
        grads = tape.gradient(total, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        return self._track(values)

    def test_step(self, data):
        return self._track(self._loss_terms(data, training=False)[1])

