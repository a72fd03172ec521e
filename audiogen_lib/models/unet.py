"""The U-Net: an encoder of convolutions and max pooling, a decoder of up-convolutions
concatenated with the matching encoder outputs (the skip connections), a sigmoid image.

Trained on RMSE alone, with early stopping on a minimum improvement, as the study did.

Public names
------------
UNET_PRESETS   ``"paper"`` (64, 128, 256 filters, as the original code) and ``"fast"`` (8, 16, 32)
build_unet     the model, with or without skip connections (the ablation)

Notebook: notebooks/07_training_unet.ipynb
"""

from __future__ import annotations

import keras
from keras import layers

from ..errors import AudiogenError

UNET_PRESETS = {
    "paper": dict(filters=(64, 128, 256)),  # 1.9 M parameters; 27 s per batch of 64 on 2 CPU cores
    "fast": dict(filters=(8, 16, 32)),      # 0.03 M parameters
}


def _double_conv(x, filters, name):
    for j in (1, 2):
        x = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_conv{j}")(x)
    return x


def build_unet(input_shape=(256, 64, 1), *, preset: str = "fast", skip_connections: bool = True,
               filters=None) -> keras.Model:
    """A U-Net with ``len(filters) - 1`` pooling levels; ``filters[-1]`` is the bottleneck.

    With ``skip_connections=False`` the same layers form a plain convolutional
    autoencoder: nothing of the input reaches the decoder except through the bottleneck.
    """
    if preset not in UNET_PRESETS:
        raise AudiogenError(f"unknown U-Net preset {preset!r}; use one of {sorted(UNET_PRESETS)}")
    filters = tuple(filters or UNET_PRESETS[preset]["filters"])
    levels = len(filters) - 1
    if input_shape[0] % 2**levels or input_shape[1] % 2**levels:
        raise AudiogenError(f"input shape {tuple(input_shape)} must be divisible by 2**{levels} for {levels} poolings")
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x, skips = inputs, []
    for i, f in enumerate(filters[:-1]):
        x = _double_conv(x, f, f"down{i}")
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
    x = _double_conv(x, filters[-1], "bottleneck")
    for i in reversed(range(levels)):
        x = layers.Conv2DTranspose(filters[i], 2, strides=2, padding="same", activation="relu", name=f"upconv{i}")(x)
        if skip_connections:
            x = layers.Concatenate(name=f"skip{i}")([x, skips[i]])
        x = _double_conv(x, filters[i], f"up{i}")
    outputs = layers.Conv2D(input_shape[-1], 1, activation="sigmoid", name="sigmoid")(x)
    suffix = "" if skip_connections else "_noskip"
    return keras.Model(inputs, outputs, name=f"unet_{preset}{suffix}")
