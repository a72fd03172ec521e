"""Judging generated sound: the classifier's embedding, and every sampler measured on the test split.

Public names
------------
classifier_embedding  the classifier's penultimate layer (the input of its softmax layer) for waveforms
evaluate_samplers     the samplers on the test split: inception score, histogram and Fréchet distance with intervals

The Fréchet distance itself is :func:`audiogen_lib.metrics.frechet_distance`.

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import time

import numpy as np

from ..errors import AudiogenError
from ..metrics import frechet_distance
from .decoding import _n_classes, _probabilities, db_range, generate
from .densities import N_DIGITS, SAMPLERS
from .sampler_choice import choose_sampler, sampler_for


# --- the classifier's embedding ----------------------------------------------------------------------


def _softmax_layer(classifier):
    import keras

    dense = [layer for layer in classifier.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise AudiogenError(f"{classifier.name} has no Dense layer; classifier_embedding needs its softmax layer")
    return dense[-1]


def classifier_embedding(classifier, waveforms: np.ndarray, *, batch_size: int = 256) -> np.ndarray:
    """Waveforms at the classifier's rate -> ``(N, D)``: the input of its softmax layer (the penultimate representation).

    The sounds are made into the features the classifier was trained on (per-clip
    normalised log-spectrograms, as :func:`audiogen_lib.classifier.audio_to_probabilities`
    does); a silent clip, which has no per-clip normalisation, gets NaN (a bootstrap leaves
    such rows out). For the shipped classifier D = 4,096 (its flattened last convolution).
    """
    import keras

    from ..features import amplitude_to_db, normalise, stft_magnitude

    config = classifier.feature_config
    y = np.atleast_2d(np.asarray(waveforms, np.float32))
    S_db = amplitude_to_db(stft_magnitude(y, config=config), config=config)
    flat = S_db.max(axis=(-2, -1)) == S_db.min(axis=(-2, -1))
    head = keras.Model(classifier.inputs, _softmax_layer(classifier).input)
    out = np.full((len(y), int(np.prod(head.output_shape[1:]))), np.nan, np.float32)
    if (~flat).any():
        x, _, _ = normalise(S_db[~flat], config=config, mode="clip")
        out[~flat] = head.predict(x[..., None], batch_size=batch_size, verbose=0).reshape(int((~flat).sum()), -1)
    return out


def _spread(values, what: str) -> dict:
    """Mean of independent repeats with a Student-t interval (:func:`audiogen_lib.stats.seed_spread`), named for ``what``."""
    from dataclasses import replace

    from ..stats import seed_spread

    ci = seed_spread(values)
    return replace(ci, method=f"Student-t interval over {ci.n} {what}").to_dict()


# --- the samplers measured -------------------------------------------------------------------------

def _judge(probs: np.ndarray, *, n_boot: int, seed: int) -> dict:
    from ..metrics import inception_score
    from ..stats import bootstrap_statistic

    is_ci = bootstrap_statistic(probs, statistic=inception_score, n_boot=n_boot, seed=seed, what="sounds")
    return {"inception_score": is_ci.to_dict(), "histogram": np.bincount(probs.argmax(-1), minlength=N_DIGITS).tolist(),
            "mean_confidence": float(probs.max(-1).mean()), "n": len(probs)}


def _disjoint_subsets(fs, size: int, *, seed: int = 0) -> list:
    """As many disjoint subsets of ``fs`` of ``size`` clips, every digit equally represented, as it holds."""
    rng = np.random.default_rng(seed)
    digits = fs.digits
    per = max(1, size // N_DIGITS)
    groups = [rng.permutation(np.flatnonzero(digits == d)) for d in np.unique(digits)]
    k = min(len(g) for g in groups) // per
    return [fs.take(np.sort(np.concatenate([g[i * per:(i + 1) * per] for g in groups]))) for i in range(k)]


def _draw(vae, sampler, n, *, seed, classifier, lo_hi):
    """``n`` sounds and the classifier's probabilities; for a conditional VAE ``n // 10`` of each digit."""
    if not _n_classes(vae):
        g = generate(vae, sampler, n, seed=seed, classifier=classifier, lo_hi=lo_hi)
        return g.waveforms, g.probabilities, None
    per = max(1, n // N_DIGITS)
    gens = [generate(vae, sampler, per, seed=seed, digit=d, classifier=classifier, lo_hi=lo_hi) for d in range(N_DIGITS)]
    return (np.concatenate([g.waveforms for g in gens]), np.concatenate([g.probabilities for g in gens]),
            np.repeat(np.arange(N_DIGITS), per))


def evaluate_samplers(vae, classifier, *, n_samples: int = 300, n_sets: int = 5, seed: int = 0,
                      n_train: int | None = None, n_validation: int | None = None, n_test: int | None = None,
                      grid: dict | None = None, n_boot: int = 2000, progress=print) -> dict:
    """Choose on validation, then measure every sampler on the test split: the numbers of ``audiogen generate --evaluate``.

    1. Validation (takes 5-9): :func:`choose_sampler` (the GMM's settings, and the sampler,
       by the held-out log-likelihood of the validation codes).
    2. Test (takes 0-4), for each of :data:`SAMPLERS`: ``n_sets`` independent sets of
       ``n_samples`` sounds (seeds ``seed``, ``seed + 1``, ...), judged by ``classifier``. The
       first set gives the inception score with a bias-corrected bootstrap over its sounds, the
       histogram of digits heard and the mean confidence; every set gives its inception score
       and its Fréchet distance to the real test audio in the classifier's penultimate
       embedding, whose mean over the sets has a Student-t interval. (A bootstrap over the
       sounds does not suit the Fréchet distance here: with 300 sounds in 4,096 dimensions,
       the repeated rows of a resample move it by more than its spread.) For a conditional
       VAE each set holds ``n_samples // 10`` sounds of each digit. ``differences``: each pair of
       samplers' inception score and Fréchet distance, set by set, with a Student-t interval.
    3. References: the real test audio (inception score, histogram); Fréchet distances to the
       real test audio of sets of real clips of the same size: the validation split, disjoint
       subsets of the training split (spread over them), all the training clips, and the test
       clips' own magnitudes through the same phase reconstruction (the same clips: the
       phase's share alone).

    ``n_train``/``n_validation``/``n_test`` take a balanced subset (None: the whole split).
    """
    from ..features import load_features
    from ..metrics import inception_score
    from ..models import check_features
    from ..reconstruction import features_to_audio

    config = vae.feature_config
    check_features(classifier, config=config, normalisation="clip")
    train = load_features("train", config=config).subset(n_train)
    validation = load_features("validation", config=config).subset(n_validation)
    test = load_features("test", config=config).subset(n_test)
    t0 = time.perf_counter()
    choice = choose_sampler(vae, train, validation, grid=grid, seed=seed)
    progress(f"validation: sampler log-likelihoods {({k: round(v, 1) for k, v in choice['log_likelihood'].items()})}, "
             f"GMM {choice['gmm']['chosen']} (best {choice['gmm']['best']}), sampler {choice['best']} "
             f"({time.perf_counter() - t0:.0f} s)")
    lo_hi = db_range(vae, config=config, train=train)
    test_emb = classifier_embedding(classifier, test.waveforms)
    rows = {}
    for kind in SAMPLERS:
        t0 = time.perf_counter()
        sampler = sampler_for(vae, kind, train, choice, seed=seed)
        fds, scores = [], []
        for k in range(n_sets):
            y, probs, asked = _draw(vae, sampler, n_samples, seed=seed + k, classifier=classifier, lo_hi=lo_hi)
            if k == 0:
                row = _judge(probs, n_boot=n_boot, seed=seed)
                if asked is not None:
                    row["heard_as_asked"] = float(np.mean(probs.argmax(-1) == asked))
            scores.append(inception_score(probs))
            fds.append(frechet_distance(test_emb, classifier_embedding(classifier, y)))
        what = f"independent sets of {len(y)} sounds (seeds {seed}-{seed + n_sets - 1})"
        row.update({"inception_score_per_set": scores, "frechet_to_test_per_set": fds,
                    "sampler": sampler.describe(), "seconds": round(time.perf_counter() - t0, 1)})
        if n_sets >= 2:
            row["inception_score_over_sets"] = _spread(scores, what)
            row["frechet_to_test"] = _spread(fds, what)
        rows[kind] = row
        progress(f"{kind}: IS {row['inception_score']['estimate']:.2f} "
                 f"[{row['inception_score']['low']:.2f}, {row['inception_score']['high']:.2f}], "
                 f"FD {np.mean(fds):.1f} (sets {[round(f) for f in fds]}), histogram {row['histogram']} "
                 f"({row['seconds']} s)")
    differences = {}
    if n_sets >= 2:  # set k of every sampler has seed + k: the differences of sets with one seed are independent
        what = f"seeds ({seed}-{seed + n_sets - 1}), one set of {n_samples} sounds per sampler and seed"
        for a, b in (("gmm", "gaussian"), ("gmm", "prior"), ("gaussian", "prior")):
            differences[f"{a} minus {b}"] = {
                metric: _spread(np.subtract(rows[a][f"{metric}_per_set"], rows[b][f"{metric}_per_set"]), what)
                for metric in ("inception_score", "frechet_to_test")}
    t0 = time.perf_counter()
    reference = {"real test audio": _judge(_probabilities(classifier, test.waveforms), n_boot=n_boot, seed=seed)}
    subsets = _disjoint_subsets(train, len(test), seed=seed)
    train_emb = classifier_embedding(classifier, train.waveforms)
    position = {r.name: i for i, r in enumerate(train.recordings)}
    subset_fds = [frechet_distance(test_emb, train_emb[[position[r.name] for r in sub.recordings]]) for sub in subsets]
    ceiling = features_to_audio(test.x, config=config, db_min=test.db_min, db_max=test.db_max, seed=seed)
    floors = {
        "validation": {"what": f"the real validation audio ({len(validation)} clips, other takes of the same speakers)",
                       "estimate": frechet_distance(test_emb, classifier_embedding(classifier, validation.waveforms))},
        "train_subsets": {"what": f"{len(subsets)} disjoint sets of {len(subsets[0])} real training clips",
                          "per_set": subset_fds,
                          **(_spread(subset_fds, f"disjoint sets of {len(subsets[0])} training clips")
                             if len(subsets) >= 2 else {"estimate": subset_fds[0]})},
        "train_all": {"what": f"all {len(train)} real training clips (a larger set: a smaller bias)",
                      "estimate": frechet_distance(test_emb, train_emb)},
        "phase_only": {"what": "the test clips' own magnitudes through the same phase reconstruction (the same "
                               "clips: what the phase reconstruction alone moves)",
                       "estimate": frechet_distance(test_emb, classifier_embedding(classifier, ceiling))},
    }
    progress(f"references: real test IS {reference['real test audio']['inception_score']['estimate']:.2f}; "
             f"FD {({k: round(v['estimate'], 1) for k, v in floors.items()})} ({time.perf_counter() - t0:.0f} s)")
    return {"validation": choice, "test": rows, "differences": differences, "reference": reference,
            "frechet_floors": floors,
            "embedding": {"layer": f"the input of {_softmax_layer(classifier).name!r}, the classifier's softmax layer",
                          "dimensions": int(test_emb.shape[1])},
            "generation_db_range": lo_hi, "n_samples": n_samples, "n_sets": n_sets, "seed": seed,
            "splits": {"train": len(train), "validation": len(validation), "test": len(test)},
            "conditional": _n_classes(vae) > 0}
