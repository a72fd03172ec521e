"""The digit classifier's network: a small CNN over the normalised log-spectrogram.

Trained like the other models (``audiogen train classifier``); used as the judge by
:mod:`audiogen_lib.classifier`.

Notebook: notebooks/08_judges.ipynb, notebooks/10_generation.ipynb
"""

from __future__ import annotations

import keras
from keras import layers

N_DIGITS = 10


def build_classifier(input_shape=(256, 64, 1), *, filters=(16, 32, 64, 64), dropout: float = 0.3):
    """Strided 3x3 convolutions with ReLU, dropout, a dense softmax over the 10 digits."""
    inputs = keras.Input(shape=input_shape, name="spectrogram")
    x = inputs
    for i, f in enumerate(filters):
        x = layers.Conv2D(f, 3, strides=2, padding="same", activation="relu", name=f"conv{i}")(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(N_DIGITS, activation="softmax", name="digit")(x)
    return keras.Model(inputs, outputs, name="digit_classifier")
