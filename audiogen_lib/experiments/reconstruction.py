"""Experiment (a), reconstruction, and (d), the skip-connection ablation: every score for the references and each
model's reconstruction of the test split; and any VAE against PCA.

Public names
------------
experiment_reconstruction       every score for the references and each model's reconstruction of the test split
RECONSTRUCTION_GOALS            what a generative VAE's reconstruction should keep (PESQ-NB, digit accuracy)
vae_images                      any VAE's reconstruction from mu (a conditional one told each clip's digit)
experiment_vae_reconstruction   VAEs against PCA: PESQ-NB and digit accuracy, paired intervals, the goals
judge_reconstructions           the digit each judge (CNN, MFCC) hears in every condition's sounds, and the goal by both

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..features import FeatureSet
from ..runtime import progress
from .audio import _audio_in_chunks, _reference_methods, phase_method, reference_audio, score_audio, summary_key
from .study_models import MODEL_NAMES, PCA_COMPONENTS, pca_reconstruct, reconstruct


def experiment_reconstruction(test: FeatureSet, models: dict, *, n_iter: int, train: FeatureSet | None = None) -> dict:
    """Every metric for the references and each model's reconstruction of the test split.

    With ``train``, also a PCA baseline fitted on it. Returns ``{"rows": {condition:
    summary}, "per_clip": {condition: {metric: values}}, "audio": {condition: waveforms},
    "images": {...}, "phase_method": ...}``; every condition's audio is made by the same
    method, with the same seed, from the same clips, so conditions can be compared clip by clip.
    """
    method = phase_method()
    made = list(MODEL_NAMES) + (["pca"] if train is not None else [])
    n = len(test)
    kw = dict(config=test.config, n_iter=n_iter, method=method)
    # One bar from the first second: each condition's clips, chunk by chunk, the models' outputs included.
    with progress(total=(len(_reference_methods(method)) + len(made)) * n, desc="phase reconstruction",
                  unit="clip") as bar:
        audio = reference_audio(test, n_iter=n_iter, method=method, bar=bar)
        images = {"original": test.x}
        for name in made:
            bar.set_postfix_str(name, refresh=True)
            images[name] = (pca_reconstruct(train.x, test.x) if name == "pca" else reconstruct(models[name], test))
            audio[name] = _audio_in_chunks(images[name], test.db_min, test.db_max, bar=bar, **kw)
        bar.set_postfix_str("")
    rows, per_clip = {}, {}
    with progress(total=len(audio) * n, desc="scoring (PESQ, STOI, LSD, digits)", unit="clip") as bar:
        for name, y in audio.items():
            bar.set_postfix_str(name, refresh=True)
            rows[name], per_clip[name] = score_audio(test, y, classifier=models["classifier"], x_hat=images.get(name))
            bar.update(n)
        bar.set_postfix_str("")
    return {"rows": rows, "per_clip": per_clip, "audio": audio, "images": images, "phase_method": method}


RECONSTRUCTION_GOALS = {"pesq": 2.5, "digit_correct": 0.95}  # clear speech, the digit still heard


def vae_images(vae, test: FeatureSet) -> np.ndarray:
    """Any VAE's reconstruction of ``test`` from the posterior means (a conditional VAE is told each clip's digit)."""
    from ..generation import decode, encode_means

    if not getattr(vae, "n_classes", 0):
        return reconstruct(vae, test)
    return decode(vae, encode_means(vae, test.x, test.digits), test.digits)


def experiment_vae_reconstruction(test: FeatureSet, vaes: dict, classifier, *, train: FeatureSet,
                                  seed: int = 0) -> dict:
    """Each VAE of ``vaes`` (name -> model) against the linear baseline, PCA with as many components.

    Every condition's audio comes from the same phase reconstruction with the same seed, so
    per-clip scores pair up: ``differences[name]`` is ``name - pca`` for PESQ-NB and digit
    accuracy, a paired bootstrap over the test clips, with :func:`audiogen_lib.stats.verdict`'s
    reading of "better than PCA"; ``goals`` says whether each mean reaches :data:`RECONSTRUCTION_GOALS`.
    """
    from ..stats import paired_bootstrap, verdict

    images = {"pca": pca_reconstruct(train.x, test.x)}
    images.update({name: vae_images(vae, test) for name, vae in vaes.items()})
    rows, per_clip = {}, {}
    with progress(total=len(images) * len(test), desc="VAEs against PCA", unit="clip") as bar:
        for name, x_hat in images.items():
            bar.set_postfix_str(name, refresh=True)
            y = _audio_in_chunks(x_hat, test.db_min, test.db_max, bar=bar, seed=seed, config=test.config,
                                 method=phase_method())
            rows[name], per_clip[name] = score_audio(test, y, classifier=classifier, x_hat=x_hat)
    differences = {}
    for name in vaes:
        differences[name] = {}
        for metric in RECONSTRUCTION_GOALS:
            ci = paired_bootstrap(per_clip[name][metric], per_clip["pca"][metric], seed=seed)
            differences[name][metric] = {**ci.to_dict(), "verdict": verdict(ci, claimed="positive")}
    goals = {name: {metric: bool(rows[name][summary_key(metric)] >= goal)
                    for metric, goal in RECONSTRUCTION_GOALS.items()} for name in vaes}
    return {"rows": rows, "per_clip": per_clip, "differences": differences, "goals": goals,
            "goal_values": RECONSTRUCTION_GOALS, "pca_components": PCA_COMPONENTS, "phase_method": phase_method()}


def judge_reconstructions(audio: dict, test: FeatureSet, *, judges: dict | None = None,
                          goal: float = RECONSTRUCTION_GOALS["digit_correct"]) -> dict:
    """The digit accuracy of every condition's sounds by each judge, and whether the word survives by both.

    ``audio``: ``{condition: waveforms}`` (one per test clip, as
    :func:`experiment_reconstruction` returns them); ``judges``: ``judges.load_judges``
    for the test split's config by default (the CNN on images, MFCC statistics of the
    waveform). Returns ``{condition: {"by_judge": {judge: {"accuracy": interval dict,
    "status": "met"|"missed"|"undecided"}}, "both": status}}`` plus ``"goal"``: a condition
    keeps the word when each judge's 95% interval lies at or above ``goal``
    (:func:`audiogen_lib.stats.goal_status`), and only then by both
    (:func:`audiogen_lib.judges.both_hold`). Per-clip hits are under ``"per_clip"``.
    """
    from ..judges import both_hold, load_judges
    from ..stats import bootstrap_mean, goal_status

    judges = judges or load_judges(test.config.name)
    out = {"goal": goal, "judges": {k: j.kind for k, j in judges.items()}, "conditions": {}, "per_clip": {}}
    for name, y in audio.items():
        by_judge, hits = {}, {}
        for key, judge in judges.items():
            hit = (judge.probabilities(np.asarray(y)).argmax(-1) == test.digits).astype(float)
            ci = bootstrap_mean(hit).to_dict()
            by_judge[key] = {"accuracy": ci, "status": goal_status(ci, goal)}
            hits[key] = hit.tolist()
        out["conditions"][name] = {"by_judge": by_judge,
                                   "both": both_hold({k: v["status"] for k, v in by_judge.items()})}
        out["per_clip"][name] = hits
    return out
