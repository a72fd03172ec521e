"""Judging generated sound: the classifier's embedding, and every sampler measured on the test split.

Public names
------------
classifier_embedding  the classifier's penultimate layer (the input of its softmax layer) for waveforms
evaluate_samplers     every sampler on the test split, judged by each judge beside real-versus-real floors

How one set is judged is :mod:`audiogen_lib.generation.judged_scores`; the Fréchet distance
of the top-level (legacy) keys is :func:`audiogen_lib.metrics.frechet_distance`.

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import time
import weakref

import numpy as np

from ..errors import AudiogenError
from ..metrics import frechet_distance
from .decoding import _n_classes, _probabilities, db_range, generate
from .densities import N_DIGITS, SAMPLERS
from .judged_scores import _spread, differences, floors, judge_set, real_embeddings, real_reference, summarise_sets
from .sampler_choice import choose_sampler, sampler_for


# --- the classifier's embedding ----------------------------------------------------------------------


def _softmax_layer(classifier):
    import keras

    dense = [layer for layer in classifier.layers if isinstance(layer, keras.layers.Dense)]
    if not dense:
        raise AudiogenError(f"{classifier.name} has no Dense layer; classifier_embedding needs its softmax layer")
    return dense[-1]


_EMBEDDING_HEADS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # classifier -> its embedding model


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
    head = _EMBEDDING_HEADS.get(classifier)
    if head is None:  # built once per classifier: a new Model would trace its predict function again
        head = _EMBEDDING_HEADS[classifier] = keras.Model(classifier.inputs, _softmax_layer(classifier).input)
    out = np.full((len(y), int(np.prod(head.output_shape[1:]))), np.nan, np.float32)
    if (~flat).any():
        x, _, _ = normalise(S_db[~flat], config=config, mode="clip")
        out[~flat] = head.predict(x[..., None], batch_size=batch_size, verbose=0).reshape(int((~flat).sum()), -1)
    return out


# --- the samplers measured -------------------------------------------------------------------------

LEGACY_KEYS = ("the top-level test, differences, reference, frechet_floors and embedding are the classifier "
               "alone (the CNN judge's probabilities, and a Fréchet distance in its 4,096-d penultimate layer "
               "from a few hundred clips, which its estimation bias dominates); kept for the chapters that read "
               "them. The numbers to cite are under judges: both judges, KID beside its real-versus-real floor.")


def _judge(probs: np.ndarray, *, n_boot: int, seed: int) -> dict:
    """The classifier's inception score (bootstrap interval over the sounds), histogram and mean confidence."""
    from ..metrics import inception_score
    from ..stats import bootstrap_statistic

    is_ci = bootstrap_statistic(probs, statistic=inception_score, n_boot=n_boot, seed=seed, what="sounds")
    return {"inception_score": is_ci.to_dict(), "histogram": np.bincount(probs.argmax(-1), minlength=N_DIGITS).tolist(),
            "mean_confidence": float(probs.max(-1).mean()), "n": len(probs)}


def _disjoint_subsets(digits: np.ndarray, size: int, *, seed: int = 0) -> list[np.ndarray]:
    """As many disjoint index sets of exactly ``size`` clips as ``digits`` holds, the digits as equally
    represented as ``size`` allows (``size // 10`` of each, one more of the first ``size % 10``)."""
    rng = np.random.default_rng(seed)
    labels = np.unique(digits)
    counts = [size // len(labels) + (i < size % len(labels)) for i in range(len(labels))]
    groups = [rng.permutation(np.flatnonzero(digits == d)) for d in labels]
    k = min(len(g) // c for g, c in zip(groups, counts) if c)
    return [np.sort(np.concatenate([g[i * c:(i + 1) * c] for g, c in zip(groups, counts)])) for i in range(k)]


def _draw(vae, sampler, n, *, seed, classifier, lo_hi):
    """``n`` sounds and the classifier's probabilities; for a conditional VAE ``n // 10`` of each digit."""
    if not _n_classes(vae):
        g = generate(vae, sampler, n, seed=seed, classifier=classifier, lo_hi=lo_hi)
        return g.waveforms, g.probabilities, None
    per = max(1, n // N_DIGITS)
    gens = [generate(vae, sampler, per, seed=seed, digit=d, classifier=classifier, lo_hi=lo_hi) for d in range(N_DIGITS)]
    return (np.concatenate([g.waveforms for g in gens]), np.concatenate([g.probabilities for g in gens]),
            np.repeat(np.arange(N_DIGITS), per))


def _measure_sampler(vae, sampler, classifier, judges, real, test_emb, *, n_samples, n_sets, seed, lo_hi, n_boot):
    """One sampler's ``n_sets`` sets: the classifier's (legacy) row, each judge's row, and the set size."""
    from ..metrics import inception_score

    scores, fds, judged = [], [], {name: [] for name in judges}
    for k in range(n_sets):
        y, probs, asked = _draw(vae, sampler, n_samples, seed=seed + k, classifier=classifier, lo_hi=lo_hi)
        if k == 0:
            row = _judge(probs, n_boot=n_boot, seed=seed)
            if asked is not None:
                row["heard_as_asked"] = float(np.mean(probs.argmax(-1) == asked))
        scores.append(inception_score(probs))
        fds.append(frechet_distance(test_emb, classifier_embedding(classifier, y)))
        for name, judge in judges.items():
            judged[name].append(judge_set(judge, y, real[name], asked=asked, full=k == 0, n_boot=n_boot, seed=seed))
    what = f"independent sets of {len(y)} sounds (seeds {seed}-{seed + n_sets - 1})"
    row.update({"inception_score_per_set": scores, "frechet_to_test_per_set": fds, "sampler": sampler.describe()})
    if n_sets >= 2:
        row["inception_score_over_sets"] = _spread(scores, what)
        row["frechet_to_test"] = _spread(fds, what)
    return row, {name: summarise_sets(sets, what) for name, sets in judged.items()}, len(y)


def _legacy_floors(classifier, test_emb, train, validation, subsets, phase_only) -> dict:
    """The classifier's 4,096-d Fréchet distances of real clips to the real test audio (legacy ``frechet_floors``)."""
    train_emb = classifier_embedding(classifier, train.waveforms)
    fds = [frechet_distance(test_emb, train_emb[idx]) for idx in subsets]
    out = {"validation": {"what": f"the real validation audio ({len(validation)} clips)",
                          "estimate": frechet_distance(test_emb, classifier_embedding(classifier, validation.waveforms))},
           "train_all": {"what": f"all {len(train)} real training clips (a larger set: a smaller bias)",
                         "estimate": frechet_distance(test_emb, train_emb)},
           "phase_only": {"what": "the test clips' own magnitudes through the same phase reconstruction",
                          "estimate": frechet_distance(test_emb, classifier_embedding(classifier, phase_only))}}
    if subsets:
        what = f"disjoint sets of {len(subsets[0])} training clips"
        out["train_subsets"] = {"what": f"{len(subsets)} {what}", "per_set": fds,
                                **(_spread(fds, what) if len(fds) >= 2 else {"estimate": fds[0]})}
    return out


def evaluate_samplers(vae, classifier, *, judges: dict, n_samples: int = 300, n_sets: int = 5, seed: int = 0,
                      n_train: int | None = None, n_validation: int | None = None, n_test: int | None = None,
                      grid: dict | None = None, n_boot: int = 2000, progress=print) -> dict:
    """Choose on validation, then judge every sampler on the test split by every judge: ``audiogen generate --evaluate``.

    ``judges``: name -> judge (:func:`audiogen_lib.judges.load_judges`: ``"cnn"`` and ``"mfcc"``);
    ``classifier`` is the CNN that :func:`generate` uses to label sounds (and to reject, for a digit).

    1. Validation (takes 5-9): :func:`choose_sampler`. The test split is read after it.
    2. Test (takes 0-4), for each of :data:`SAMPLERS`: ``n_sets`` independent sets of ``n_samples``
       sounds (seeds ``seed``, ``seed + 1``, ...; for a conditional VAE ``n_samples // 10`` of
       each digit), each judged by each judge (:mod:`.judged_scores`).
    3. Floors: real clips in sets of the same size, by the same estimators.

    Returns (``S``: a sampler, ``J``: a judge; every interval a dict ``estimate``, ``low``, ``high``):

    - ``judges[J]``: ``judge``, ``weights_sha256``, ``dimensions`` (of its embedding), and

      - ``test[S]``: from the first set, ``n``, ``histogram`` (sums to ``n``), ``inception_score``
        (bootstrap over the sounds), ``heard_as_asked`` (conditional VAEs: the share the judge
        hears as the digit asked for, with interval, and ``per_digit``), ``kid`` (to the real test
        audio, all pairs, jackknife interval) and ``frechet_lowdim`` (in the top 8 principal
        components of the training clips' embeddings); from every set, ``inception_score_per_set``,
        ``kid_per_set``, ``frechet_lowdim_per_set`` and, with ``n_sets >= 2``, each's
        ``*_over_sets`` (Student-t interval over the sets);
      - ``real_test``: the real test audio's ``n``, ``histogram``, ``inception_score`` and
        ``heard_as_spoken`` (the judge's accuracy);
      - ``floors``: ``validation`` (as many validation clips as a generated set holds),
        ``train_subsets`` (disjoint sets of that many training clips: the first's ``kid`` and
        ``frechet_lowdim``, ``*_per_set``, ``*_over_sets``) and ``phase_only`` (the test clips
        through the phase reconstruction): each ``kid`` and ``frechet_lowdim`` to the real test
        audio, by the same functions as ``test[S]``;
      - ``differences["a minus b"]``: ``inception_score``, ``kid``, ``frechet_lowdim``, set by set
        (one seed per set), Student-t interval (``n_sets >= 2``).
    - ``validation`` (the choice), ``set_size``, ``n_samples``, ``n_sets``, ``seed``, ``splits``,
      ``conditional``, ``generation_db_range``.
    - Legacy (``legacy_keys`` says so): ``test[S]`` (the classifier's ``inception_score``,
      ``histogram``, ``heard_as_asked`` as a share, ``frechet_to_test`` in its 4,096-d
      embedding, ...), ``differences``, ``reference``, ``frechet_floors``, ``embedding``.

    ``n_train``/``n_validation``/``n_test`` take a balanced subset (None: the whole split).
    """
    from ..features import load_features
    from ..models import check_features
    from ..reconstruction import features_to_audio

    config = vae.feature_config
    check_features(classifier, config=config, normalisation="clip")
    train = load_features("train", config=config).subset(n_train)
    validation = load_features("validation", config=config).subset(n_validation)
    t0 = time.perf_counter()
    choice = choose_sampler(vae, train, validation, grid=grid, seed=seed)
    progress(f"validation: sampler log-likelihoods {({k: round(v, 1) for k, v in choice['log_likelihood'].items()})}, "
             f"GMM {choice['gmm']['chosen']} (best {choice['gmm']['best']}), sampler {choice['best']} "
             f"({time.perf_counter() - t0:.0f} s)")
    test = load_features("test", config=config).subset(n_test)      # every choice is made: the test split now
    lo_hi = db_range(vae, config=config, train=train)
    real, test_emb = real_embeddings(judges, test, train), classifier_embedding(classifier, test.waveforms)
    rows, judged = {}, {name: {} for name in judges}
    for kind in SAMPLERS:
        t0 = time.perf_counter()
        sampler = sampler_for(vae, kind, train, choice, seed=seed)
        rows[kind], by_judge, size = _measure_sampler(vae, sampler, classifier, judges, real, test_emb,
                                                      n_samples=n_samples, n_sets=n_sets, seed=seed, lo_hi=lo_hi,
                                                      n_boot=n_boot)
        rows[kind]["seconds"] = round(time.perf_counter() - t0, 1)
        for name, row in by_judge.items():
            judged[name][kind] = row
        progress(f"{kind} ({rows[kind]['seconds']} s): " + "; ".join(
            f"{j} IS {_text(r['inception_score'])}, KID {_text(r['kid'], '.4f')}" for j, r in by_judge.items()))
    what = f"seeds ({seed}-{seed + n_sets - 1}), one set of {size} sounds per sampler and seed"
    t0 = time.perf_counter()
    subsets = _disjoint_subsets(train.digits, size, seed=seed)
    val = validation.subset(size)
    phase_only = features_to_audio(test.x, config=config, db_min=test.db_min, db_max=test.db_max, seed=seed)
    out = {name: {"judge": j.kind, "weights_sha256": j.weights_sha256, "dimensions": int(real[name]["test"].shape[1]),
                  "test": judged[name], "real_test": real_reference(j, test, n_boot=n_boot, seed=seed),
                  "floors": floors(j, real[name], validation=val.waveforms, subsets=subsets, phase_only=phase_only,
                                   size=size),
                  "differences": differences(judged[name], what) if n_sets >= 2 else {}}
           for name, j in judges.items()}
    progress(f"floors ({time.perf_counter() - t0:.0f} s): " + "; ".join(
        f"{j} KID validation {_text(r['floors']['validation']['kid'], '.4f')}" for j, r in out.items()))
    legacy_differences = (differences(rows, what, metrics=("inception_score", "frechet_to_test"))
                          if n_sets >= 2 else {})
    return {"judges": out, "validation": choice, "set_size": size, "legacy_keys": LEGACY_KEYS,
            "test": rows, "differences": legacy_differences,
            "reference": {"real test audio": _judge(_probabilities(classifier, test.waveforms), n_boot=n_boot,
                                                    seed=seed)},
            "frechet_floors": _legacy_floors(classifier, test_emb, train, val, subsets, phase_only),
            "embedding": {"layer": f"the input of {_softmax_layer(classifier).name!r}, the classifier's softmax layer",
                          "dimensions": int(test_emb.shape[1])},
            "generation_db_range": lo_hi, "n_samples": n_samples, "n_sets": n_sets, "seed": seed,
            "splits": {"train": len(train), "validation": len(validation), "test": len(test)},
            "conditional": _n_classes(vae) > 0}


def _text(ci: dict, spec: str = ".2f") -> str:
    return f"{ci['estimate']:{spec}} [{ci['low']:{spec}}, {ci['high']:{spec}}]"
