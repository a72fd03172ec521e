"""A VAE's two halves and its sound: codes of images, images of codes, the dB range they are read in,
and new sounds from a density (by rejection for a digit from an unconditional VAE).

Public names
------------
encode_means          a VAE's posterior means mu for images (and digits)
decode                latents (and digits) -> images in [0, 1]
db_range              the dB range a generated image is read in
decode_audio          latents (and a digit) -> images and waveforms, read in db_range
morph_digit           a conditional VAE whose label (and, if asked, code) moves from one digit to another
generate              n sounds: latents -> images -> waveforms (rejection for a digit from an unconditional VAE)
Generated             what generate returns: codes, images, waveforms, the classifier's probabilities, how they were kept

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..config import FeatureConfig, get_config
from ..errors import AudiogenError
from .densities import N_DIGITS, LatentSampler, _check_digit


# Rejection sampling for a digit from an unconditional VAE: draws per batch and at most this many
# draws per sound asked for.
REJECTION_BATCH = 64
REJECTION_MAX_DRAWS_PER_SOUND = 50


# --- the VAE's two halves --------------------------------------------------------------------------

def _n_classes(vae) -> int:
    return int(getattr(vae, "n_classes", 0) or 0)


def _onehot(digits, n: int) -> np.ndarray:
    """One-hot rows for ``n`` codes from one digit or one per code; label weights ``(n, 10)`` pass as they are."""
    weights = np.asarray(digits)
    if weights.ndim == 2:  # a mix of digits per code (morph_digit)
        if weights.shape != (n, N_DIGITS):
            raise AudiogenError(f"label weights must be ({n}, {N_DIGITS}), one row per code; got {weights.shape}")
        return weights.astype(np.float32)
    digits = np.broadcast_to(np.asarray(digits, np.int64), (n,))
    return np.eye(N_DIGITS, dtype=np.float32)[digits]


def encode_means(vae, x: np.ndarray, digits: np.ndarray | None = None, *, batch_size: int = 256) -> np.ndarray:
    """The posterior means ``mu`` ``(N, latent_dim)`` of images ``x``; a conditional VAE also reads ``digits``."""
    if _n_classes(vae):
        if digits is None:
            raise AudiogenError(f"{vae.name} is conditioned on the digit: pass the images' digits")
        inputs = [x, _onehot(digits, len(x))]
    else:
        inputs = x
    mu, _ = vae.encoder.predict(inputs, batch_size=batch_size, verbose=0)
    return mu


def decode(vae, z: np.ndarray, digit=None, *, batch_size: int = 256) -> np.ndarray:
    """Latents ``(N, latent_dim)`` -> images ``(N, n_bins, n_frames, 1)`` in [0, 1]; a conditional VAE needs ``digit``
    (one digit, one per code, or label weights ``(N, 10)``)."""
    z = np.asarray(z, np.float32)
    if _n_classes(vae):
        if digit is None:
            raise AudiogenError(f"{vae.name} is conditioned on the digit: say which digit to decode")
        return vae.decoder.predict([z, _onehot(digit, len(z))], batch_size=batch_size, verbose=0)
    if digit is not None:
        raise AudiogenError(f"{vae.name} is not conditioned on the digit; decode without one")
    return vae.decoder.predict(z, batch_size=batch_size, verbose=0)


def db_range(vae, *, config: FeatureConfig | str | None = None, train=None) -> list[float]:
    """The ``top_db``-wide dB range ``[lo, hi]`` a generated image is read in.

    The model card's ``normalisation.generation_db_range`` where it records one of that
    width, else ``top_db`` below the training clips' median peak (``train``, default the
    training split): every image the VAE saw spans exactly ``top_db``.
    """
    from ..training import generation_db_range

    config = get_config(config or vae.feature_config)
    card_range = (getattr(vae, "card", None) or {}).get("normalisation", {}).get("generation_db_range")
    if card_range and abs((card_range[1] - card_range[0]) - config.top_db) < 1e-6:
        return [float(v) for v in card_range]
    if train is None:
        from ..features import load_features

        train = load_features("train", config=config)
    return [float(v) for v in generation_db_range(train, config)]


# --- generating ---------------------------------------------------------------------------------------

@dataclass
class Generated:
    """What :func:`generate` made: ``z``, ``images``, ``waveforms`` at ``config.sr``, the classifier's ``probabilities``.

    ``digit_asked`` is the digit asked for (None for any); ``digits_drawn`` the digit each sound of a
    conditional VAE was given when none was asked for (drawn uniformly); ``draws`` is how many latents were
    drawn to keep these (more than ``len(waveforms)`` under rejection); ``indices`` the
    position of each kept sound among the draws (its seed is ``seed`` and that index).
    """

    z: np.ndarray
    images: np.ndarray
    waveforms: np.ndarray
    probabilities: np.ndarray | None
    config: FeatureConfig
    sampler: str
    seed: int
    digit_asked: int | None = None
    draws: int = 0
    indices: np.ndarray | None = None
    selection: str = "none: every sound drawn is kept"
    digits_drawn: np.ndarray | None = None   # a conditional VAE without a digit: the digit each sound was given

    @property
    def digits_heard(self) -> np.ndarray | None:
        return None if self.probabilities is None else self.probabilities.argmax(-1)


class _DigitDecoder:
    """``vae``'s decoder with the digit bound (None for an unconditional VAE): a ``predict`` of latents alone."""

    def __init__(self, vae, digit):
        self.vae, self.digit = vae, digit

    def predict(self, z, batch_size: int = 256, verbose=0):
        return decode(self.vae, z, self.digit, batch_size=batch_size)


def _to_audio(vae, z, digit, *, config, lo_hi, seed) -> tuple[np.ndarray, np.ndarray]:
    """``(images, waveforms)``: :func:`audiogen_lib.reconstruction.latents_to_audio`, the default phase method."""
    from ..reconstruction import latents_to_audio

    return latents_to_audio(_DigitDecoder(vae, digit), z, config=config, db_range=lo_hi, seed=seed)


def decode_audio(vae, z: np.ndarray, digit=None, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Latents (and a digit, for a conditional VAE) -> ``(images, waveforms)``, read in :func:`db_range`."""
    config = vae.feature_config
    if _n_classes(vae) and digit is None:
        raise AudiogenError(f"{vae.name} is conditioned on the digit: say which digit to decode")
    return _to_audio(vae, np.asarray(z, np.float32), digit, config=config, lo_hi=db_range(vae, config=config),
                     seed=seed)


def morph_digit(vae, z: np.ndarray, from_digit: int, to_digit: int, *, z_to: np.ndarray | None = None,
                steps: int = 7, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A conditional VAE told ``(1 - t) * one_hot(from_digit) + t * one_hot(to_digit)`` for ``steps`` values of
    ``t`` from 0 to 1: ``(t, images, waveforms)``.

    With ``z`` alone the code stays put and only the label moves; with ``z_to`` the code
    moves too, on the straight line from ``z`` to ``z_to`` (from one clip to another, say).
    """
    if not _n_classes(vae):
        raise AudiogenError(f"{vae.name} is not conditioned on the digit: morph between two codes instead "
                            f"(experiments.interpolate)")
    a, b = _check_digit(from_digit), _check_digit(to_digit)
    if not (isinstance(steps, (int, np.integer)) and steps >= 2):
        raise AudiogenError(f"steps must be a whole number >= 2, got {steps!r}")
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)
    labels = (1 - t)[:, None] * _onehot([a] * steps, steps) + t[:, None] * _onehot([b] * steps, steps)
    z = np.asarray(z, np.float32).reshape(1, -1)
    end = z if z_to is None else np.asarray(z_to, np.float32).reshape(1, -1)
    if end.shape != z.shape:
        raise AudiogenError(f"z and z_to must be codes of the same size, got {z.shape[1]} and {end.shape[1]}")
    z = ((1 - t)[:, None] * z + t[:, None] * end).astype(np.float32)
    config = vae.feature_config
    images, y = _to_audio(vae, z, labels, config=config, lo_hi=db_range(vae, config=config), seed=seed)
    return t, images, y


def generate(vae, sampler: LatentSampler, n: int, *, seed: int = 0, digit: int | None = None, classifier=None,
             lo_hi=None, max_draws: int | None = None) -> Generated:
    """``n`` new sounds from ``vae``: codes from ``sampler``, decoded, read in :func:`db_range`, phase-reconstructed.

    - a conditional VAE (``cvae``) with ``digit``: that digit's density and one-hot;
    - an unconditional VAE with ``digit``: **rejection** -- batches of :data:`REJECTION_BATCH`
      draws, keeping the sounds ``classifier`` hears as ``digit``, until ``n`` are kept or
      ``max_draws`` (default ``n * REJECTION_MAX_DRAWS_PER_SOUND``) are spent (then
      :class:`AudiogenError`, with the acceptance so far);
    - a conditional VAE without ``digit``: ancestral sampling, each sound's digit drawn uniformly
      (seeded), then its code from that digit's density; all kept;
    - without ``digit``: ``n`` draws, all kept.

    The same ``seed`` gives the same sounds. With a ``classifier``, ``probabilities`` says
    which digit it hears in each. Images are read in ``lo_hi`` (default :func:`db_range`) and
    turned into sound by the library's default phase reconstruction.

    Notebook: notebooks/10_generation.ipynb
    """
    config = vae.feature_config
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise AudiogenError(f"the number of sounds must be a positive whole number, got {n!r}")
    if digit is not None:
        digit = _check_digit(digit)
    lo_hi = lo_hi if lo_hi is not None else db_range(vae, config=config)
    if classifier is not None:
        from ..models import check_features

        check_features(classifier, config=config, normalisation="clip")
    conditional = _n_classes(vae) > 0
    if conditional != sampler.conditional:
        raise AudiogenError(f"{vae.name} is {'' if conditional else 'not '}conditioned on the digit, but the sampler has "
                            f"{'one density per digit' if sampler.conditional else 'one density'}; fit it to this model")
    if conditional and digit is None:
        # ancestral sampling: each sound's digit uniformly (seeded), then its code from that digit's density
        digits = np.random.default_rng([seed, N_DIGITS]).integers(0, N_DIGITS, n)
        z = np.zeros((n, sampler.sample(1, seed=seed, digit=0).shape[1]), np.float32)
        for d in np.unique(digits):
            z[digits == d] = sampler.sample(int(np.sum(digits == d)), seed=seed, digit=int(d))
        images, y = _to_audio(vae, z, digits, config=config, lo_hi=lo_hi, seed=seed)
        probs = None if classifier is None else _probabilities(classifier, y)
        return Generated(z, images, y, probs, config, sampler.kind, seed, None, n, np.arange(n),
                         "none: each sound's digit drawn uniformly from 0-9, then its code (ancestral sampling); "
                         "every sound drawn is kept", digits_drawn=digits)
    if digit is None or conditional:
        z = sampler.sample(n, seed=seed, digit=digit if conditional else None)
        images, y = _to_audio(vae, z, digit if conditional else None, config=config, lo_hi=lo_hi, seed=seed)
        probs = None if classifier is None else _probabilities(classifier, y)
        how = ("none: every sound drawn is kept" if digit is None else
               f"none: the model is conditioned on the digit {digit}; the classifier's verdict is reported, not used")
        return Generated(z, images, y, probs, config, sampler.kind, seed, digit, n, np.arange(n), how)
    if classifier is None:
        raise AudiogenError(f"{vae.name} is not conditioned on the digit; a digit from it needs the classifier "
                            f"(rejection sampling)")
    max_draws = max_draws or n * REJECTION_MAX_DRAWS_PER_SOUND
    # One long seeded stream of codes, taken a batch at a time: the draws do not depend on the batch size.
    stream = sampler.sample(max_draws, seed=seed)
    kept: list[int] = []
    parts = {"z": [], "images": [], "y": [], "p": []}
    drawn = heard = 0
    while len(kept) < n and drawn < max_draws:
        idx = np.arange(drawn, min(drawn + REJECTION_BATCH, max_draws))
        drawn = idx[-1] + 1
        images, y = _to_audio(vae, stream[idx], None, config=config, lo_hi=lo_hi, seed=seed)
        probs = _probabilities(classifier, y)
        hit = np.flatnonzero(probs.argmax(-1) == digit)
        heard += len(hit)
        hit = hit[: n - len(kept)]
        kept.extend(idx[hit].tolist())
        for key, arr in (("z", stream[idx]), ("images", images), ("y", y), ("p", probs)):
            parts[key].append(arr[hit])
    if len(kept) < n:
        raise AudiogenError(f"the classifier heard {digit} in only {len(kept)} of {drawn} sounds drawn from {vae.name} "
                            f"with the {sampler.kind} sampler ({n} asked for); ask for fewer, try another sampler, or "
                            f"use the conditional VAE (--model cvae)")
    cat = {k: np.concatenate(v) for k, v in parts.items()}
    how = (f"rejection: {drawn} sounds drawn in batches of {REJECTION_BATCH}, {heard} of them heard as {digit} "
           f"({heard / drawn:.1%}), the first {n} kept; the confidence of a kept sound is that of a selected "
           f"sound, not of the model's typical draw")
    return Generated(cat["z"], cat["images"], cat["y"], cat["p"], config, sampler.kind, seed, digit, int(drawn),
                     np.asarray(kept), how)


def _probabilities(classifier, y: np.ndarray) -> np.ndarray:
    from ..classifier import audio_to_probabilities

    return audio_to_probabilities(classifier, y)
