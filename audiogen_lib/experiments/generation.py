"""The generation experiment: the study's VAE decoding samples of the prior, and of a Gaussian fitted to its codes,
judged by the classifier.

Public names
------------
generation_db_range     the top_db-wide dB range a generated image is read in (card, else the training clips)
decode_to_audio         a VAE's latents -> images and sounds (``reconstruction.latents_to_audio`` in
                        :func:`generation_db_range`)
latent_statistics, interpolate, experiment_generation

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..config import FeatureConfig, get_config
from ..features import FeatureSet
from ..runtime import progress
from ..stats import bootstrap_statistic
from .audio import CHUNK, _ci, phase_method
from .cache import cached


def generation_db_range(vae, *, config: FeatureConfig | str | None = None, train: FeatureSet | None = None) -> dict:
    """The dB range a generated image is read in: ``top_db`` wide, ending at the training clips' median peak.

    Every image the VAE was trained on spans exactly ``top_db`` (each clip is floored
    ``top_db`` below its peak, then min-max normalised), so its decoder's 0 and 1 stand
    for ``top_db`` of contrast; a wider range would stretch every generated sound's
    contrast. Taken from the model card's ``normalisation`` where it records one, else
    computed from ``train`` (default: the training split). Returns ``{"db_range": [lo, hi],
    "width_db", "source"}``.
    """
    from ..generation import db_range

    config = get_config(config or vae.feature_config)
    card_range = (getattr(vae, "card", None) or {}).get("normalisation", {}).get("generation_db_range")
    from_card = bool(card_range) and abs((card_range[1] - card_range[0]) - config.top_db) < 1e-6
    return {"db_range": db_range(vae, config=config, train=train), "width_db": config.top_db,
            "source": "the model card" if from_card
            else "the training clips' median peak (the card records no range)"}


def latent_statistics(vae, x: np.ndarray) -> dict:
    """How far the encoder's posteriors are from the prior N(0, I) the samples are drawn from.

    Besides the summary numbers, ``"mu"`` and ``"log_var"`` hold each clip's posterior, ``(N, latent_dim)``.
    """
    mu, log_var = vae.encoder.predict(x, batch_size=256, verbose=0)
    return {"mu_mean_abs": float(np.abs(mu.mean(0)).mean()), "mu_std": float(mu.std(0).mean()),
            "sigma_mean": float(np.exp(0.5 * log_var).mean()), "mu": mu, "log_var": log_var}


def decode_to_audio(vae, z: np.ndarray, *, config: FeatureConfig, n_iter: int | None = None, db_range=None,
                    method: str | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Decode latents, read the images in a ``top_db``-wide dB range and turn them into sound:
    :func:`audiogen_lib.reconstruction.latents_to_audio` with ``vae.decoder``.

    ``db_range``: ``(lo, hi)``; by default :func:`generation_db_range` (the card's, else
    ``top_db`` below the training clips' median peak). ``n_iter`` applies to Griffin-Lim
    from a random start only, as in :func:`images_to_audio`. Returns ``(images, waveforms)``.
    """
    from ..reconstruction import latents_to_audio

    method = method or phase_method()
    db_range = db_range if db_range is not None else generation_db_range(vae, config=config)["db_range"]
    return latents_to_audio(vae.decoder, z, config=config, db_range=db_range, method=method,
                            n_iter=n_iter if method == "griffinlim" else None, seed=seed)


def interpolate(vae, x_a: np.ndarray, x_b: np.ndarray, *, steps: int = 7) -> np.ndarray:
    """Latents on the straight line from the mean latent of image ``x_a`` to that of ``x_b``, ``(steps, latent_dim)``."""
    mu, _ = vae.encoder.predict(np.stack([x_a, x_b]), verbose=0)
    t = np.linspace(0.0, 1.0, steps)[:, None]
    return ((1 - t) * mu[0] + t * mu[1]).astype(np.float32)


def _judge(probs: np.ndarray) -> dict:
    """Inception score (bootstrap over the sounds), histogram and mean confidence of classifier probabilities."""
    from ..metrics import inception_score

    is_ci = bootstrap_statistic(probs, statistic=inception_score, what="sounds")
    return {"inception_score": is_ci.estimate, "inception_score_ci": is_ci.to_dict(),
            "histogram": np.bincount(probs.argmax(-1), minlength=10).tolist(),
            "mean_confidence": float(probs.max(-1).mean()), "mean_confidence_ci": _ci(probs.max(-1))}


def experiment_generation(vae, classifier, train: FeatureSet, test: FeatureSet, *, n_samples: int, n_iter: int,
                          seed: int = 0, cache: bool = False) -> dict:
    """Decode samples from the prior N(0, I), and from a Gaussian fitted to the training latents; score them.

    The classifier's view: inception score (with a bootstrap interval over the sounds),
    the histogram of recognised digits and the mean confidence, against the same for the
    real test audio. Every image is read in :func:`generation_db_range`, recorded as
    ``"normalisation"``. With ``cache``, the numbers (not the audio) come from the
    shared cache when these models, clips and settings have been measured before.
    """
    normalisation = generation_db_range(vae, config=test.config, train=train)
    if cache:
        key_parts = {"config": test.config.fingerprint(), "train": train.clips_hash(), "test": test.clips_hash(),
                     "n_samples": n_samples, "n_iter": n_iter, "seed": seed, "db_range": normalisation["db_range"], "method": phase_method()}
        return cached("generation", {"vae": vae, "classifier": classifier}, key_parts,
                      lambda: _strip_audio(experiment_generation(vae, classifier, train, test, n_samples=n_samples,
                                                                 n_iter=n_iter, seed=seed)))
    from ..classifier import audio_to_probabilities

    config = test.config
    rng = np.random.default_rng(seed)
    stats = latent_statistics(vae, train.x)
    mu, _ = stats.pop("mu"), stats.pop("log_var")   # the summary numbers stay for the report
    sources = {
        "prior N(0, I)": rng.standard_normal((n_samples, vae.latent_dim)).astype(np.float32),
        "Gaussian fitted to the training latents": rng.multivariate_normal(
            mu.mean(0), np.cov(mu, rowvar=False), size=n_samples).astype(np.float32),
    }
    rows, audio = {"real test audio": _judge(audio_to_probabilities(classifier, test.waveforms))}, {}
    with progress(total=len(sources) * n_samples, desc="generating and judging", unit="sound") as bar:
        for name, z in sources.items():
            bar.set_postfix_str(name, refresh=True)
            y = []
            for k, start in enumerate(range(0, n_samples, CHUNK)):
                y.append(decode_to_audio(vae, z[start:start + CHUNK], config=config, n_iter=n_iter, seed=seed + k,
                                         db_range=normalisation["db_range"])[1])
                bar.update(len(y[-1]))
            audio[name] = np.concatenate(y)
            rows[name] = _judge(audio_to_probabilities(classifier, audio[name]))
        bar.set_postfix_str("")
    return {"rows": rows, "latents": stats, "normalisation": normalisation, "audio": audio}


def _strip_audio(gen: dict) -> dict:
    return {k: v for k, v in gen.items() if k != "audio"}
