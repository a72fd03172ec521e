"""The second half of a latent diffusion model: a U-Net that removes noise from a latent image.

The network is the study's U-Net (two 3x3 convolutions a level, pooling down, upsampling and
concatenated skips up) with two additions, as in Ho et al. (2020) and Rombach et al. (2022):

- a **noise-level embedding**: the time ``t`` in [0, 1] (0: a clean latent, 1: pure noise) as
  sinusoids (:class:`TimeEmbedding`), passed through two dense layers and added to every block;
- a **digit embedding**: a learned vector per digit, plus one for "no digit" (index 10), added
  to the noise-level embedding. Training drops the digit (replaces it by 10) in a share of the
  steps, so one network samples with and without a digit (classifier-free guidance, Ho &
  Salimans 2022).

It is trained by **flow matching** (Lipman et al. 2023; rectified flow, Liu et al. 2023):
``z_t = (1 - t) z_0 + t eps`` moves on a straight line from a clean latent ``z_0`` to noise
``eps ~ N(0, I)``, and the network learns the velocity ``v = eps - z_0`` of that line:
``loss = E || v_theta(z_t, t, digit) - (eps - z_0) ||^2``. :class:`LatentFlow` holds the network
and an exponential moving average of its weights (EMA), which is what validation scores and
what is shipped.

Public names
------------
NULL_DIGIT       the label index that means "no digit" (10)
TimeEmbedding    t -> sinusoids of ``dim`` frequencies (a Keras layer)
build_denoiser   the U-Net ``(z_t, t, digit) -> v``
LatentFlow       the training model: flow-matching loss, digit dropout, EMA weights
EMA_DECAY        the EMA's decay per step (it ramps up from 0 over the first steps)

Notebook: notebooks/12_latent_diffusion.ipynb
"""

from __future__ import annotations

import math

import keras
from keras import layers, ops

from ..errors import AudiogenError

NULL_DIGIT = 10
EMA_DECAY = 0.999
DENOISER_PRESETS = {"small": dict(widths=(32, 64, 128), emb_dim=128)}


@keras.saving.register_keras_serializable(package="audiogen")
class TimeEmbedding(layers.Layer):
    """``t`` of shape ``(batch, 1)`` -> ``(batch, dim)``: sin and cos of ``t`` at geometrically spaced frequencies."""

    def __init__(self, dim: int = 64, max_period: float = 1000.0, **kwargs):
        super().__init__(**kwargs)
        if dim % 2:
            raise AudiogenError(f"the time embedding needs an even dim, got {dim}")
        self.dim, self.max_period = int(dim), float(max_period)

    def call(self, t):
        half = self.dim // 2
        freqs = ops.exp(-math.log(self.max_period) * ops.arange(half, dtype="float32") / half)
        angles = 1000.0 * ops.cast(t, "float32") * freqs[None, :]  # t in [0, 1], scaled as the usual step index
        return ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


def _block(x, emb, width, name):
    """Two 3x3 convolutions with the embedding added after the first, and a residual path."""
    skip = x if x.shape[-1] == width else layers.Conv2D(width, 1, name=f"{name}_proj")(x)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv1")(x)
    h = layers.GroupNormalization(groups=8, name=f"{name}_norm1")(h)
    h = layers.Add(name=f"{name}_emb_add")([h, layers.Reshape((1, 1, width))(layers.Dense(width, name=f"{name}_emb")(emb))])
    h = layers.Activation("silu")(h)
    h = layers.Conv2D(width, 3, padding="same", name=f"{name}_conv2")(h)
    h = layers.GroupNormalization(groups=8, name=f"{name}_norm2")(h)
    h = layers.Activation("silu")(h)
    return layers.Add(name=f"{name}_residual")([h, skip])


def build_denoiser(latent_shape=(64, 16, 4), *, widths=(32, 64, 128), emb_dim: int = 128,
                   n_classes: int = 10) -> keras.Model:
    """The U-Net ``[z_t (H, W, C), t (1,), digit (1,) int] -> v (H, W, C)``; ``digit = 10`` means none."""
    levels = len(widths) - 1
    if latent_shape[0] % 2**levels or latent_shape[1] % 2**levels:
        raise AudiogenError(f"latent shape {tuple(latent_shape)} must be divisible by 2**{levels}")
    z = keras.Input(shape=latent_shape, name="z_t")
    t = keras.Input(shape=(1,), name="t")
    digit = keras.Input(shape=(1,), dtype="int32", name="digit")
    emb = TimeEmbedding(emb_dim, name="time_sinusoids")(t)
    emb = layers.Dense(emb_dim, activation="silu", name="time_dense1")(emb)
    emb = layers.Dense(emb_dim, name="time_dense2")(emb)
    label = layers.Flatten()(layers.Embedding(n_classes + 1, emb_dim, name="digit_embedding")(digit))
    emb = layers.Activation("silu", name="embedding")(layers.Add(name="time_plus_digit")([emb, label]))

    x = layers.Conv2D(widths[0], 3, padding="same", name="in_conv")(z)
    skips = []
    for i, w in enumerate(widths[:-1]):
        x = _block(x, emb, w, f"down{i}")
        skips.append(x)
        x = layers.AveragePooling2D(2, name=f"pool{i}")(x)
    x = _block(x, emb, widths[-1], "bottleneck")
    for i in reversed(range(levels)):
        x = layers.UpSampling2D(2, name=f"upsample{i}")(x)
        x = layers.Concatenate(name=f"skip{i}")([x, skips[i]])
        x = _block(x, emb, widths[i], f"up{i}")
    v = layers.Conv2D(latent_shape[-1], 3, padding="same", kernel_initializer="zeros", name="velocity")(x)
    return keras.Model([z, t, digit], v, name="denoiser")


def _unwrap(data):
    """A dataset's element, or Keras's ``(x,)`` around the tuple passed as ``x``."""
    return data[0] if isinstance(data, (tuple, list)) and len(data) == 1 else data


@keras.saving.register_keras_serializable(package="audiogen")
class LatentFlow(keras.Model):
    """Flow-matching training of ``network`` on latents ``(z_0, digit)``; ``ema`` holds the averaged weights.

    ``train_step``: ``t ~ U(0, 1)``, ``eps ~ N(0, I)``, the digit replaced by :data:`NULL_DIGIT`
    with probability ``drop_digit``; the loss is the mean squared error of the velocity.
    ``test_step`` scores the EMA network on fixed ``(z_0, digit, eps, t)`` (no digit dropped), so
    the validation loss of two epochs compares.
    """

    def __init__(self, network, ema, *, drop_digit: float = 0.15, ema_decay: float = EMA_DECAY,
                 seed: int | None = 0, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= drop_digit < 1:
            raise AudiogenError(f"drop_digit must be in [0, 1), got {drop_digit}")
        self.network, self.ema = network, ema
        self.drop_digit, self.ema_decay, self.seed = float(drop_digit), float(ema_decay), seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.steps = keras.Variable(0.0, trainable=False, name="ema_steps")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        ema.set_weights(network.get_weights())

    def build(self, input_shape=None):
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker]

    def call(self, inputs, training=False):
        return self.ema(inputs, training=training)

    def train_step(self, data):
        import tensorflow as tf

        z0, digit = _unwrap(data)
        n = ops.shape(z0)[0]
        t = keras.random.uniform((n, 1), seed=self.seed_generator)
        eps = keras.random.normal(ops.shape(z0), seed=self.seed_generator)
        drop = keras.random.uniform((n, 1), seed=self.seed_generator) < self.drop_digit
        digit = ops.where(drop, NULL_DIGIT, ops.reshape(ops.cast(digit, "int32"), (n, 1)))
        tt = ops.reshape(t, (n, 1, 1, 1))
        z_t = (1.0 - tt) * z0 + tt * eps
        with tf.GradientTape() as tape:
            v = self.network([z_t, t, digit], training=True)
            loss = ops.mean(ops.square(v - (eps - z0)))
        grads = tape.gradient(loss, self.network.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.network.trainable_weights))
        self.steps.assign_add(1.0)
        decay = ops.minimum(self.ema_decay, (1.0 + self.steps) / (10.0 + self.steps))
        for e, w in zip(self.ema.weights, self.network.weights):
            e.assign(decay * e + (1.0 - decay) * w)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    def test_step(self, data):
        z0, digit, eps, t = _unwrap(data)
        n = ops.shape(z0)[0]
        tt = ops.reshape(t, (n, 1, 1, 1))
        z_t = (1.0 - tt) * z0 + tt * eps
        v = self.ema([z_t, ops.reshape(t, (n, 1)), ops.reshape(ops.cast(digit, "int32"), (n, 1))], training=False)
        self.loss_tracker.update_state(ops.mean(ops.square(v - (eps - z0))))
        return {"loss": self.loss_tracker.result()}
