"""A small CNN that recognises the spoken digit: the judge of every generated sound.

Trained on the training split's features and selected on the validation split, shipped pretrained with a card
like the other models. Its accuracy on the real test audio is the reference; on a
model's reconstructions (passed through Griffin-Lim and back into features) it says
how much of the digit survived; on samples from the VAE prior it gives the class
histogram and the inception score.

Public names
------------
(the network itself, ``build_classifier``, lives with the other models in ``models/classifier.py``)
digit_probabilities  model + features (checked against the model's) -> (N, 10) probabilities
audio_to_probabilities  model + waveforms -> (N, 10), through the same features the model was trained on

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import numpy as np

N_DIGITS = 10


def digit_probabilities(model, features, *, config=None, normalisation: str | None = None,
                        batch_size: int = 256) -> np.ndarray:
    """``(N, 10)`` probabilities of each digit for a FeatureSet, or for normalised images with ``config=``.

    The features are checked first (:func:`audiogen_lib.models.check_features`): images made
    with another config or normalisation than the classifier's training images are refused.
    """
    from .features import _as_images
    from .models import check_features

    check_features(model, features, config=config, normalisation=normalisation)
    x = _as_images(getattr(features, "x", features), model.feature_config)[..., None]
    return model.predict(x, batch_size=batch_size, verbose=0)


def audio_to_probabilities(model, y: np.ndarray) -> np.ndarray:
    """Waveforms ``(N, n_samples)`` at the model's rate -> ``(N, 10)``: features as in training, then the CNN.

    Silent clips (which have no per-clip normalisation) get a uniform distribution.
    """
    from .features import amplitude_to_db, normalise, stft_magnitude

    config = model.feature_config
    S_db = amplitude_to_db(stft_magnitude(np.atleast_2d(y), config=config), config=config)
    flat = S_db.max(axis=(-2, -1)) == S_db.min(axis=(-2, -1))
    probs = np.full((len(S_db), N_DIGITS), 1.0 / N_DIGITS, np.float32)
    if (~flat).any():
        x, _, _ = normalise(S_db[~flat], config=config, mode="clip")
        probs[~flat] = digit_probabilities(model, x, config=config, normalisation="clip")
    return probs
