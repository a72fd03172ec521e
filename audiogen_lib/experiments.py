"""The study's experiments, measured with their uncertainty: reconstruction, robustness, convergence,
the skip-connection ablation and generation; and the verdict on each claim.

Every table has references that bound it: the original audio (the best any row can
be), the phase reconstruction on the true magnitude (the ceiling of any magnitude-only
model) and the zero-phase inverse STFT the study's code used (the floor). Every
headline number carries a 95% interval (:mod:`audiogen_lib.stats`): a bootstrap over
the test clips for one set of models, the spread over training seeds where several
were trained. Choices (a model's best epoch, its plateau) are made on the validation
split (takes 5-9); the test split (takes 0-4) gives the final scores only.

Public names
------------
MODEL_NAMES, CLAIMS, GENERATION_IS_THRESHOLD
READINGS                the three readings of the study's "+-10 dB": ``"clip"``, ``"bin"``, ``"units"``
get_models              the VAE, U-Net, U-Net without skips and the classifier: shipped, or trained now (epochs, seeded)
reconstruct             a model's reconstruction of a FeatureSet (or images with ``config=``), through
                        ``models.predict``, which checks the features against the model's; VAEs decode mu
pca_reconstruct         the best linear autoencoder with as many components as the VAE's latent
vae_images              any VAE's reconstruction from mu (a conditional one told each clip's digit)
experiment_vae_reconstruction   VAEs against PCA: PESQ-NB and digit accuracy, paired intervals, the goals
phase_method            the phase reconstruction the experiments use (the library's default)
images_to_audio         ``reconstruction.features_to_audio`` with the experiments' reading of ``n_iter``
score_audio             per-clip scores of one set of waveforms against the test split, and their means with intervals
summary_key             the key of a per-clip metric's mean in a summary row (digit_correct -> digit_accuracy)
reference_audio         the original, the ceiling, Griffin-Lim (the study's reference) and the zero-phase floor
experiment_reconstruction   every score for the references and each model's reconstruction of the test split
perturb_db              add [-max_db, max_db] dB to dB spectrograms: one offset per clip, or per bin
perturb_features        the three readings of "+-10 dB" applied to normalised images, the pipeline's floor re-applied
experiment_robustness   each model's degradation under each reading, with intervals and paired differences
epochs_to_plateau, experiment_convergence   epochs to the plateau of the validation RMSE
chosen_on               which split chose a model's best epoch, from its card
generation_db_range     the top_db-wide dB range a generated image is read in (card, else the training clips)
decode_to_audio         a VAE's latents -> images and sounds (``reconstruction.latents_to_audio`` in
                        :func:`generation_db_range`)
latent_statistics, interpolate, experiment_generation
comparisons             paired differences between conditions, per metric, with intervals
claim_estimates, verdicts   each claim's paired difference and the written rule's verdict on it
result_key, cached      results shared between chapters, keyed by the weights, the clips, the settings and the code
measure                 every experiment's numbers (no audio) for a set of models, through the cache
seed_summary            one training seed's estimate of each claim, for the spread over seeds

Everything here returns data (dicts of numbers and arrays); the labels, tables and files
are :mod:`audiogen_lib.report`'s. ``audiogen_lib.report.reproduce`` runs everything and
writes ``results/``. Long loops show :func:`audiogen_lib.runtime.progress` from their first
second: phase reconstruction per condition and chunk of clips, scoring per condition.

Notebook: notebooks/08_listening_experiments.ipynb
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import numpy as np

from .config import FeatureConfig, Profile, get_config, get_profile
from .errors import AudiogenError
from .features import FeatureSet, amplitude_to_db, db_to_amplitude, denormalise, normalise
from .metrics import rmse
from .runtime import progress
from .stats import Interval, bootstrap_mean, bootstrap_statistic, paired_bootstrap, seed_spread, verdict

MODEL_NAMES = ("vae", "unet", "unet_noskip")
PCA_COMPONENTS = 128  # as many as the VAE's latent dimensions
# The readings of the study's "+-10 dB" (its section 5): decibels added to the spectrogram
# before the pipeline's floor and normalisation, one offset per clip ("clip") or one per bin
# ("bin"), or +-10 in the preprocessed spectrogram's own units, added to the [0, 1] image and
# clipped ("units"). Their descriptions are report.READING_LABELS.
READINGS = ("clip", "bin", "units")
# Clips turned into sound at a time: the progress bar moves after each chunk.
CHUNK = 50
# The verdict on generation compares the inception score of prior samples with this written
# threshold (10 at most): the project's goal, set before measuring (../shared/MEASURED.md).
GENERATION_IS_THRESHOLD = 8.0
PLATEAU_TOLERANCE = 0.02

# Each claim: what it says, the paired difference that tests it and on which side of zero
# the claim puts it (stats.verdict), and whether training is part of it (then, with several
# training seeds, the interval is their spread; with one set of models, the bootstrap over clips).
CLAIMS = {
    "reconstruction": dict(
        claim="The U-Net reconstructs the spoken digits better than the VAE.",
        measure="PESQ-NB of the U-Net minus that of the VAE, per test clip", claimed="positive", training=True),
    "robustness": dict(
        claim="The U-Net is more robust than the VAE to +-10 dB modifications of its input.",
        measure="degradation under +-10 dB of noise per bin (RMSE with the noise minus RMSE without it, the "
                "pipeline's floor re-applied): U-Net minus VAE, per test clip", claimed="negative", training=True),
    "convergence": dict(
        claim="The U-Net needs far fewer epochs than the VAE (at most 5 against 150).",
        measure="epochs to the plateau of the validation RMSE (within 2% of the best): VAE minus U-Net, "
                "per training seed", claimed="positive", training=True),
    "generation": dict(
        claim="The VAE generates new, recognisable spoken digits from its latent space.",
        measure=f"inception score of sounds decoded from the prior N(0, I) minus {GENERATION_IS_THRESHOLD:g}, "
                "bootstrap over the samples", claimed="positive", training=True),
    "skip_connections": dict(
        claim="(Our question) The skip connections carry most of the U-Net's lead over the VAE.",
        measure="PESQ-NB per test clip: (U-Net minus U-Net without skips) minus (U-Net without skips minus "
                "VAE), positive when removing the skips loses more than half of the lead",
        claimed="positive", training=True),
    "griffin_lim": dict(
        claim="(The study's text) The sounds were made with Griffin-Lim; its code's zero-phase inverse "
              "loses nothing against it.",
        measure="PESQ-NB per test clip of the true magnitude: zero-phase inverse minus Griffin-Lim "
                "(random start, the study's reference)", claimed="positive", training=False),
}
# Bump when the meaning of a cached result changes in a way the source hash cannot see.
RESULTS_VERSION = 2


def _source_hash(names) -> str:
    """sha256 of the library's source files ``names`` (module paths under audiogen_lib, without .py)."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for name in sorted(names):
        for path in sorted(here.glob(f"{name}.py")):
            h.update(path.relative_to(here).as_posix().encode())
            h.update(path.read_bytes())
    return h.hexdigest()[:16]


# --- models -------------------------------------------------------------------------------------

def _trained_dir(name: str, config: FeatureConfig, profile: Profile, seed: int) -> Path:
    """Where a model trained by :func:`get_models` is kept, keyed by everything that makes it."""
    from .data import manifest_hash
    from .features import cache_dir

    code = _source_hash(["training", "models/*", "features", "config", "data"])
    key = hashlib.sha256(json.dumps([config.fingerprint(), profile.name, profile.n_train, profile.n_test,
                                     profile.vae_epochs, profile.unet_epochs, manifest_hash(), code]).encode())
    return cache_dir().parent / "trained" / f"{name}-{config.name}-{profile.name}-seed{seed}-{key.hexdigest()[:12]}"


def _shipped_is_this_run(name: str, config: FeatureConfig, profile: Profile, seed: int) -> bool:
    """Whether the shipped ``name`` is the run :func:`get_models` would train: same profile,
    seed, epochs and data, chosen on the validation split (its card says so)."""
    from .data import manifest_hash
    from .pretrained import available, card

    if f"{name}_{config.name}" not in available():
        return False
    c = card(name, config.name)
    hp = c.get("hyperparameters", {})
    epochs = profile.vae_epochs if name == "vae" else profile.unet_epochs
    return (c.get("profile") == profile.name and profile.n_train is None and hp.get("seed") == seed
            and hp.get("epochs") == epochs and c.get("data_manifest") == manifest_hash()
            and isinstance(c.get("split", {}).get("validation"), dict))


def get_models(config: str | FeatureConfig = "paper", *, profile: str | Profile | None = None, seed: int = 0,
               train: bool | None = None, reuse: bool = True) -> dict:
    """``{"vae", "unet", "unet_noskip", "classifier"}`` -> models for ``config``.

    Profiles that use pretrained models load the shipped ones, unless ``train`` is true.
    Otherwise (``paper``, or ``train=True``) the three generative models are trained now
    with seed ``seed``: the profile's epochs at most, stopped early and checkpointed on
    the validation split (:func:`audiogen_lib.training.train`), never by a clock, so the
    same seed gives the same models wherever the software is the same; the wall time is
    only recorded in each card. A model trained before by the same code, data, profile
    and seed is loaded from the cache instead, and a shipped model whose card records this
    very run (profile, seed, epochs, data) is loaded as it is (``reuse=False`` trains again). The
    classifier, the fixed judge, is always the shipped one. Each model carries ``card``
    and ``feature_config``.
    """
    from .models import load_model
    from .pretrained import load_pretrained
    from .training import train as train_model

    config = get_config(config)
    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    train = (not profile.use_pretrained) if train is None else train
    models = {"classifier": load_pretrained("classifier", config.name)}
    for name in progress(MODEL_NAMES, desc="training the models", unit="model", disable=not train):
        if not train:
            models[name] = load_pretrained(name, config.name)
            continue
        if reuse and _shipped_is_this_run(name, config, profile, seed):
            models[name] = load_pretrained(name, config.name)
            continue
        out = _trained_dir(name, config, profile, seed)
        if reuse and (out / "model.keras").is_file() and (out / "card.json").is_file():
            models[name] = load_model(out / "model.keras")
            continue
        kind = "vae" if name == "vae" else "unet"
        run = train_model(kind, config=config, profile=profile, skip_connections=name != "unet_noskip", seed=seed,
                          verbose=2 if profile.name == "paper" else 0, out_dir=out)
        run.model.card, run.model.feature_config = run.card, config
        models[name] = run.model
    return models


def _model_record(model) -> dict:
    """What results.json says of one model: how it was made, and which data chose it."""
    from .models import weights_sha256

    card = model.card
    split = card.get("split", {})
    chosen_on = (f"validation split (takes {split['validation']['takes']})" if isinstance(split.get("validation"), dict)
                 else "test split (trained before the validation split existed)")
    return {"command": card.get("command"), "epochs_run": card.get("epochs_run"), "best_epoch": card.get("best_epoch"),
            "wall_time_s": card.get("wall_time_s"), "parameters": card.get("parameters"),
            "seed": card.get("hyperparameters", {}).get("seed"), "chosen_on": chosen_on,
            "weights_sha256": weights_sha256(model)}


def reconstruct(model, features, *, config: FeatureConfig | str | None = None, normalisation: str | None = None,
                batch_size: int = 128) -> np.ndarray:
    """The model's output images ``(N, bins, frames, 1)`` for ``features``; a VAE decodes the mean latent ``mu``.

    ``features`` is a :class:`~audiogen_lib.features.FeatureSet`, or normalised images with
    the ``config=`` (and ``normalisation=``, default ``"clip"``) they were made with. Either
    way :func:`audiogen_lib.models.predict` checks them against the features the model was
    trained on and refuses others. Images given without ``config=`` are taken to be in the
    model's own features: only their shape is checked.

    Decoding ``mu`` makes a reconstruction repeatable. The study's reference code
    (Velardo's *generating-sound-with-neural-networks*, ``reconstruct``) decoded a latent
    *sampled* from the posterior instead; with this VAE's posteriors, far narrower than the
    prior (chapter 9), the two differ little.
    """
    from .models import predict

    if config is None and not isinstance(features, FeatureSet):
        config = model.feature_config
        normalisation = normalisation or getattr(model, "normalisation", None)
    return predict(model, features, config=config, normalisation=normalisation, batch_size=batch_size)


def pca_reconstruct(train_x: np.ndarray, x: np.ndarray, *, n_components: int = PCA_COMPONENTS) -> np.ndarray:
    """Project ``x`` on the top principal components of ``train_x`` and back: the best linear autoencoder.

    A baseline for the VAE, which squeezes each image through as many latent dimensions.
    """
    X = train_x.reshape(len(train_x), -1)
    mean = X.mean(axis=0)
    Xc = X - mean
    # The principal directions from the eigenvectors of the small Gram matrix (N x N, N << pixels).
    eigenvalues, U = np.linalg.eigh((Xc @ Xc.T).astype(np.float64))
    top = np.argsort(eigenvalues)[::-1][: min(n_components, len(X) - 1)]
    V = (Xc.T @ U[:, top].astype(np.float32)) / np.sqrt(eigenvalues[top]).astype(np.float32)  # (pixels, k)
    codes = (x.reshape(len(x), -1) - mean) @ V
    return np.clip(codes @ V.T + mean, 0.0, 1.0).reshape(x.shape).astype(np.float32)


# --- audio and scores --------------------------------------------------------------------------

def phase_method() -> str:
    """The phase reconstruction every experiment uses for the models and the ceiling: the library's
    default, ``reconstruction.DEFAULT_METHOD``."""
    from .reconstruction import DEFAULT_METHOD

    return DEFAULT_METHOD


def images_to_audio(x: np.ndarray, db_min, db_max, *, config: FeatureConfig, n_iter: int | None = None,
                    seed: int = 0, method: str | None = None) -> np.ndarray:
    """Normalised images -> waveforms: :func:`audiogen_lib.reconstruction.features_to_audio` by ``method``
    (default :func:`phase_method`).

    ``n_iter`` is the number of iterations of the study's reference, Griffin-Lim from a random
    start (the profile's ``n_iter``); every other method keeps its own validated setting.
    """
    from .reconstruction import features_to_audio

    method = method or phase_method()
    return features_to_audio(x, config=config, db_min=db_min, db_max=db_max, method=method,
                             n_iter=n_iter if method == "griffinlim" else None, seed=seed)


def _audio_in_chunks(x, db_min, db_max, *, bar, seed: int = 0, **kwargs) -> np.ndarray:
    """:func:`images_to_audio` of :data:`CHUNK` clips at a time (chunk ``k`` seeded ``seed + k``), moving ``bar``."""
    n, chunk = len(x), CHUNK
    db_min, db_max = (np.broadcast_to(np.asarray(v, np.float32), (n,)) for v in (db_min, db_max))
    out = []
    for k, start in enumerate(range(0, n, chunk)):
        part = slice(start, start + chunk)
        out.append(images_to_audio(x[part], db_min[part], db_max[part], seed=seed + k, **kwargs))
        bar.update(len(out[-1]))
    return np.concatenate(out)


def _ci(values, **kwargs) -> dict | None:
    """The bootstrap interval of the mean of per-clip ``values`` as a dict, or None with under 2 scored clips."""
    try:
        return bootstrap_mean(values, **kwargs).to_dict()
    except AudiogenError:
        return None


def _rmse_of(per_clip_rmse) -> float:
    """The RMSE over all pixels of all clips from each clip's RMSE: every clip has as many pixels, so it is
    the root mean square of the clips' RMSEs, ``metrics.rmse`` of them against zero."""
    return rmse(np.asarray(per_clip_rmse, np.float64), 0.0)


def score_audio(test: FeatureSet, y: np.ndarray, *, classifier=None, x_hat: np.ndarray | None = None) -> tuple[dict, dict]:
    """Metrics of waveforms ``y`` (one per test clip) against the test split's audio: ``(row, per_clip)``.

    ``per_clip`` holds one value per clip for each metric (NaN where PESQ could not score
    a clip); ``row`` their summary: the mean and its 95% bootstrap interval over clips
    (``<metric>_ci``), PESQ's count of scored and failed clips, STOI over all clips joined
    (one pooled number, no interval) and the digit accuracy. ``x_hat``: the images the
    audio came from, for the RMSE on images (the study's measure, over all pixels).
    """
    import librosa

    from . import metrics

    config = test.config
    S_true = np.abs(librosa.stft(test.waveforms, n_fft=config.n_fft, hop_length=config.hop_length))
    pesq = metrics.pesq_nb(test.waveforms, y, sr=config.sr, lengths=test.lengths)
    per_clip = {
        "rmse": rmse(test.x, x_hat, per_clip=True) if x_hat is not None else None,
        "lsd_db": np.asarray(metrics.lsd_from_audio(test.waveforms, y, config=config, lengths=test.lengths), float),
        "spectral_convergence": np.asarray(metrics.spectral_convergence(S_true, y, config=config), float),
        "pesq": np.asarray(pesq.values, float),
    }
    if classifier is not None:
        from .classifier import audio_to_probabilities

        per_clip["digit_correct"] = (audio_to_probabilities(classifier, y).argmax(-1) == test.digits).astype(float)
    row = _summarise(per_clip)
    row.update(pesq_scored=pesq.n_scored, pesq_failed=pesq.n_failed,
               stoi_concatenated=float(metrics.stoi_concatenated(test.waveforms, y, sr=config.sr, lengths=test.lengths)))
    return row, per_clip


def summary_key(metric: str) -> str:
    """The key of a per-clip metric's mean in a summary row: ``digit_correct`` (per clip) -> ``digit_accuracy``."""
    return "digit_accuracy" if metric == "digit_correct" else metric


def _summarise(per_clip: dict) -> dict:
    row = {}
    for metric, values in per_clip.items():
        name = summary_key(metric)
        if values is None:
            row[name], row[f"{name}_ci"] = None, None
            continue
        values = np.asarray(values, float)
        if metric == "rmse":
            try:
                row[name] = _rmse_of(values)
                row[f"{name}_ci"] = bootstrap_statistic(values, statistic=_rmse_of).to_dict()
            except AudiogenError:
                row[f"{name}_ci"] = None
        else:
            row[name] = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            row[f"{name}_ci"] = _ci(values)
    return row


def _reference_methods(method: str) -> dict[str, str]:
    refs = {"ceiling": method, "zero_phase": "zero_phase"}
    if method != "griffinlim":
        refs["griffinlim"] = "griffinlim"
    return refs


def reference_audio(test: FeatureSet, *, n_iter: int, method: str | None = None, bar=None) -> dict[str, np.ndarray]:
    """The original audio, the ceiling (``method`` on the true magnitude), and the zero-phase inverse.

    Where ``method`` is not Griffin-Lim, Griffin-Lim from a random start (the study's
    reference) is added as ``"griffinlim"``. ``bar``: a progress bar to move by each chunk
    of clips done (one is shown when none is given).
    """
    method = method or phase_method()
    refs = _reference_methods(method)
    out = {"original": test.waveforms}
    with (progress(total=len(refs) * len(test), desc="phase reconstruction", unit="clip") if bar is None
          else contextlib.nullcontext(bar)) as bar:
        for name, how in refs.items():
            bar.set_postfix_str(name, refresh=True)
            out[name] = _audio_in_chunks(test.x, test.db_min, test.db_max, bar=bar, config=test.config,
                                         n_iter=n_iter, method=how)
    return out


# --- (a) reconstruction and (d) the ablation ----------------------------------------------------

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


RECONSTRUCTION_GOALS = {"pesq": 2.5, "digit_correct": 0.95}  # issue 10: what a generative VAE should keep


def vae_images(vae, test: FeatureSet) -> np.ndarray:
    """Any VAE's reconstruction of ``test`` from the posterior means (a conditional VAE is told each clip's digit)."""
    from .generation import decode, encode_means

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
    from .stats import paired_bootstrap, verdict

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


# --- (b) robustness -----------------------------------------------------------------------------

def perturb_db(S_db: np.ndarray, *, mode: str, max_db: float = 10.0, seed: int = 0) -> np.ndarray:
    """Add a uniform random value in [-max_db, max_db] dB: one per clip (``"clip"``) or per bin (``"bin"``).

    Two readings of the study's "+-10 dB" modification of the input; :func:`perturb_features`
    adds the third and the pipeline's own steps after it.
    """
    rng = np.random.default_rng(seed)
    if mode == "clip":
        offset = rng.uniform(-max_db, max_db, size=S_db.shape[:-2] + (1, 1))
    elif mode == "bin":
        offset = rng.uniform(-max_db, max_db, size=S_db.shape)
    else:
        raise AudiogenError(f"unknown perturbation mode {mode!r}; use 'clip' (one offset per clip) or 'bin'")
    return (S_db + offset).astype(np.float32)


def perturb_features(x: np.ndarray, db_min, db_max, *, config: FeatureConfig, mode: str, max_db: float = 10.0,
                     seed: int = 0, reapply_floor: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Normalised images ``(N, bins, frames, 1)`` -> ``(x, db_min, db_max)``, the model input after the
    ``mode`` reading of "+-10 dB" and each clip's new dB range (as :func:`normalise` returns them).

    ``"clip"`` and ``"bin"``: the images are read back in dB, perturbed (:func:`perturb_db`),
    floored again at ``top_db`` below each clip's new peak (the pipeline's own
    ``amplitude_to_db`` step, unless ``reapply_floor=False``) and normalised per clip, as the
    pipeline does with any spectrogram. Without the floor, each clip's range grows from
    ``top_db`` to about ``top_db + 2 max_db``, and the floor pixels, most of each image, move
    from 0 to about ``max_db / (top_db + 2 max_db)``: an offset that is not the noise.
    ``"units"``: ``max_db`` taken in the preprocessed image's own units, added per bin to
    the [0, 1] values and clipped to [0, 1].
    """
    config = get_config(config)
    if mode == "units":
        rng = np.random.default_rng(seed)
        x = np.clip(x + rng.uniform(-max_db, max_db, size=x.shape), 0.0, 1.0).astype(np.float32)
        return x, np.asarray(db_min), np.asarray(db_max)
    if mode not in ("clip", "bin"):
        raise AudiogenError(f"unknown reading {mode!r} of +-10 dB; use one of {sorted(READINGS)}")
    S_db = perturb_db(denormalise(x[..., 0], db_min, db_max), mode=mode, max_db=max_db, seed=seed)
    if reapply_floor:
        S_db = amplitude_to_db(db_to_amplitude(S_db), config=config)
    x, lo, hi = normalise(S_db, config=config)
    return x[..., None], lo, hi


def experiment_robustness(test: FeatureSet, models: dict, *, max_db: float = 10.0, seed: int = 0,
                          readings=tuple(READINGS), reapply_floor: bool = True) -> dict:
    """Perturb the test inputs under each reading and measure how much worse each model gets.

    Per reading and model, means over clips of each clip's RMSE (on the normalised
    images) with 95% bootstrap intervals: how far the input moved, how far the output
    moved, the error to the clean image with the perturbation (``error_perturbed``) and
    without it (``error_clean``), and the *degradation*, their difference, clip by clip:
    robustness apart from how good the model was to begin with. ``paired`` holds each
    model's degradation minus the VAE's, paired over clips; ``per_clip`` the values.
    """
    with progress(total=(1 + len(readings)) * len(MODEL_NAMES), desc="robustness", unit="model run") as bar:
        clean = {}
        for name in MODEL_NAMES:
            clean[name] = reconstruct(models[name], test)
            bar.update()
        err_clean = {name: rmse(clean[name], test.x, per_clip=True) for name in MODEL_NAMES}
        out = {"max_db": max_db, "reapply_floor": reapply_floor}
        for mode in readings:
            bar.set_postfix_str(mode, refresh=True)
            out[mode] = _robustness_reading(test, models, clean, err_clean, bar=bar, mode=mode, max_db=max_db,
                                            seed=seed, reapply_floor=reapply_floor)
        bar.set_postfix_str("")
    return out


def _robustness_reading(test, models, clean, err_clean, *, bar, mode, max_db, seed, reapply_floor) -> dict:
    """One reading's rows of :func:`experiment_robustness`."""
    x_pert, _, _ = perturb_features(test.x, test.db_min, test.db_max, config=test.config, mode=mode,
                                    max_db=max_db, seed=seed, reapply_floor=reapply_floor)
    moved = rmse(x_pert, test.x, per_clip=True)
    rows = {"input": {"input_change": bootstrap_mean(moved).to_dict()}}
    degradation = {}
    for name in MODEL_NAMES:
        # the perturbed images come from the test features: their config and normalisation
        y = reconstruct(models[name], x_pert, config=test.config, normalisation=test.normalisation)
        bar.update()
        err = rmse(y, test.x, per_clip=True)
        degradation[name] = err - err_clean[name]
        rows[name] = {"output_change": bootstrap_mean(rmse(y, clean[name], per_clip=True)).to_dict(),
                      "error_perturbed": bootstrap_mean(err).to_dict(),
                      "error_clean": bootstrap_mean(err_clean[name]).to_dict(),
                      "degradation": bootstrap_mean(degradation[name]).to_dict()}
    rows["paired"] = {f"{name}_minus_vae": paired_bootstrap(degradation[name], degradation["vae"]).to_dict()
                      for name in ("unet", "unet_noskip")}
    rows["per_clip"] = {"input_change": moved.tolist(), **{k: v.tolist() for k, v in degradation.items()}}
    return rows


# --- (c) convergence ----------------------------------------------------------------------------

def epochs_to_plateau(values: list[float], *, tolerance: float = PLATEAU_TOLERANCE) -> int:
    """The first epoch (1-based) whose value is within ``tolerance`` (relative) of the best."""
    values = np.asarray(values, dtype=float)
    return int(np.argmax(values <= values.min() * (1 + tolerance))) + 1


def _val_rmse(history: dict) -> list[float]:
    return history["val_reconstruction"] if "val_reconstruction" in history else history["val_loss"]


def experiment_convergence(models: dict) -> dict:
    """Epochs and wall time to the plateau of each model's validation RMSE, from its history,
    and the first epoch at which it does as well as the VAE ever did.

    The histories are those of the validation split (takes 5-9); a card from before that
    split existed holds the test split's, and ``chosen_on`` says so.
    """
    vae_best = min(_val_rmse(models["vae"].card["history"]))
    rows = {}
    for name in MODEL_NAMES:
        h = models[name].card["history"]
        curve = _val_rmse(h)
        n = epochs_to_plateau(curve)
        beat = [i + 1 for i, v in enumerate(curve) if v <= vae_best]
        rows[name] = {"epochs_to_plateau": n, "seconds_to_plateau": round(h["wall_time"][n - 1], 1),
                      "epochs_to_vae_best": beat[0] if beat else None,
                      "epochs_run": len(curve), "best_val_rmse": float(min(curve)),
                      "seconds_per_epoch": round(h["wall_time"][-1] / len(curve), 1),
                      "chosen_on": chosen_on(models[name].card)}
    return rows


def chosen_on(card: dict) -> str:
    """``"validation"``, or ``"test"`` for a card from before the validation split: the split that chose the model."""
    return "validation" if isinstance(card.get("split", {}).get("validation"), dict) else "test"


# --- generation ---------------------------------------------------------------------------------

def generation_db_range(vae, *, config: FeatureConfig | str | None = None, train: FeatureSet | None = None) -> dict:
    """The dB range a generated image is read in: ``top_db`` wide, ending at the training clips' median peak.

    Every image the VAE was trained on spans exactly ``top_db`` (each clip is floored
    ``top_db`` below its peak, then min-max normalised), so its decoder's 0 and 1 stand
    for ``top_db`` of contrast; a wider range would stretch every generated sound's
    contrast. Taken from the model card's ``normalisation`` where it records one, else
    computed from ``train`` (default: the training split). Returns ``{"db_range": [lo, hi],
    "width_db", "source"}``.
    """
    from .generation import db_range

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
    from .reconstruction import latents_to_audio

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
    from .metrics import inception_score

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
    from .classifier import audio_to_probabilities

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


# --- comparisons and verdicts -------------------------------------------------------------------

COMPARED = (("unet", "vae"), ("unet_noskip", "vae"), ("unet", "unet_noskip"), ("vae", "pca"),
            ("ceiling", "zero_phase"), ("ceiling", "griffinlim"))


def _per_clip(results: dict, condition: str, metric: str) -> np.ndarray | None:
    values = results.get("per_clip", {}).get(condition, {}).get(metric)
    return None if values is None else np.asarray(values, float)


def comparisons(results: dict) -> list[dict]:
    """Paired differences ``a - b`` between conditions on the same test clips, per metric, with intervals.

    PESQ-NB and LSD: the mean per-clip difference (paired bootstrap); RMSE on images: the
    difference of the RMSEs over all pixels, the same clips drawn for both.
    """
    out = []
    for a, b in COMPARED:
        for metric in ("pesq", "lsd_db", "rmse"):
            va, vb = _per_clip(results, a, metric), _per_clip(results, b, metric)
            if va is None or vb is None:
                continue
            if metric == "rmse":
                ci = bootstrap_statistic(va, vb, statistic=lambda p, q: _rmse_of(p) - _rmse_of(q))
            else:
                ci = paired_bootstrap(va, vb)
            out.append({"a": a, "b": b, "metric": metric, "interval": ci.to_dict()})
    return out


def _griffinlim_condition(results: dict) -> str:
    return "griffinlim" if "griffinlim" in results.get("per_clip", {}) else "ceiling"


def claim_estimates(results: dict) -> dict[str, dict]:
    """Each claim's interval from one set of models (``None`` where it needs several seeds) and its evidence.

    Returns ``{claim_id: {"interval": Interval | None, "estimate": float, "evidence": str}}``.
    """
    pc = lambda c, m: _per_clip(results, c, m)  # noqa: E731
    rec = results["reconstruction"]
    out = {}

    u, v, n = pc("unet", "pesq"), pc("vae", "pesq"), pc("unet_noskip", "pesq")
    ci = paired_bootstrap(u, v)
    lsd = paired_bootstrap(pc("unet", "lsd_db"), pc("vae", "lsd_db"))
    rm = bootstrap_statistic(pc("unet", "rmse"), pc("vae", "rmse"), statistic=lambda p, q: _rmse_of(p) - _rmse_of(q))
    out["reconstruction"] = {"interval": ci, "evidence": (
        f"PESQ-NB U-Net minus VAE {ci.format('+.2f')} over {ci.n} clips (U-Net {rec['unet']['pesq']:.2f}, "
        f"VAE {rec['vae']['pesq']:.2f}, ceiling {rec['ceiling']['pesq']:.2f}); LSD {lsd.format('+.1f')} dB; "
        f"RMSE {rm.format('+.3f')}")}

    rob = results["robustness"]
    b = rob["bin"]["per_clip"]
    ci = paired_bootstrap(b["unet"], b["vae"])
    d = rob["bin"]
    units = rob.get("units")
    units_text = ""
    if units:
        uc = paired_bootstrap(units["per_clip"]["unet"], units["per_clip"]["vae"])
        units_text = f"; +-10 in the image's units: U-Net minus VAE {uc.format('+.3f')}"
    clip_moves = max(abs(rob["clip"][m]["degradation"]["estimate"]) for m in MODEL_NAMES) if "clip" in rob else None
    out["robustness"] = {"interval": ci, "evidence": (
        f"degradation under per-bin noise: U-Net {Interval.from_dict(d['unet']['degradation']).format('.3f')}, "
        f"VAE {Interval.from_dict(d['vae']['degradation']).format('.3f')} (RMSE; without noise "
        f"{d['unet']['error_clean']['estimate']:.3f} and {d['vae']['error_clean']['estimate']:.3f}); U-Net minus "
        f"VAE {ci.format('+.3f')}" + units_text +
        (f"; one offset per clip: every degradation within {clip_moves:.0e} of zero (removed by the "
         f"per-clip normalisation)" if clip_moves is not None else ""))}

    conv = results["convergence"]
    nu, nv = conv["unet"]["epochs_to_plateau"], conv["vae"]["epochs_to_plateau"]
    out["convergence"] = {"interval": None, "estimate": float(nv - nu), "evidence": (
        f"epochs to within 2% of the best validation RMSE: VAE {nv}, U-Net {nu} (difference {nv - nu}); the U-Net "
        f"matches the VAE's best after {conv['unet'].get('epochs_to_vae_best') or 'no'} epoch(s); "
        f"{conv['unet']['seconds_to_plateau']:.0f} s against {conv['vae']['seconds_to_plateau']:.0f} s of training")}

    gen = results["generation"]["rows"]
    prior = Interval.from_dict(gen["prior N(0, I)"]["inception_score_ci"])
    fitted = gen.get("Gaussian fitted to the training latents", {}).get("inception_score_ci")
    out["generation"] = {"interval": prior.shifted(GENERATION_IS_THRESHOLD), "evidence": (
        f"inception score of {prior.n} prior samples {prior.format('.2f')} against the threshold "
        f"{GENERATION_IS_THRESHOLD:g}" + (f"; a Gaussian fitted to the training codes "
                                          f"{Interval.from_dict(fitted).format('.2f')}" if fitted else "") +
        f"; real test audio {Interval.from_dict(gen['real test audio']['inception_score_ci']).format('.2f')} "
        f"(10 at most)")}

    ci = paired_bootstrap(u - n, n - v)
    lead, kept = np.nanmean(u - v), np.nanmean(n - v)
    out["skip_connections"] = {"interval": ci, "evidence": (
        f"PESQ-NB: U-Net {rec['unet']['pesq']:.2f}, without skips {rec['unet_noskip']['pesq']:.2f}, VAE "
        f"{rec['vae']['pesq']:.2f}; lost minus kept {ci.format('+.2f')}: without skips it keeps "
        f"{kept / lead:.0%} of the U-Net's lead; RMSE {rec['unet_noskip']['rmse']:.3f} without skips, "
        f"{rec['unet']['rmse']:.3f} with" if lead else "no lead to share")}

    gl = _griffinlim_condition(results)
    ci = paired_bootstrap(pc("zero_phase", "pesq"), pc(gl, "pesq"))
    out["griffin_lim"] = {"interval": ci, "evidence": (
        f"PESQ-NB of the true magnitude: zero phase {rec['zero_phase']['pesq']:.2f}, Griffin-Lim "
        f"{rec[gl]['pesq']:.2f}; zero phase minus Griffin-Lim {ci.format('+.2f')}")}
    for v in out.values():
        v.setdefault("estimate", v["interval"].estimate if v["interval"] is not None else float("nan"))
    return out


def verdicts(results: dict) -> list[dict]:
    """The written rule (:func:`audiogen_lib.stats.verdict`) applied to each claim in :data:`CLAIMS`.

    A claim *holds* when the 95% interval of its paired difference lies on the claimed
    side of zero, *does not hold* when it lies on the other side, and is *inconclusive*
    otherwise. Where training is part of the claim and ``results["seeds"]`` holds two or
    more training seeds, the interval is the Student-t interval over seeds of each seed's
    estimate; otherwise it is the bootstrap over the test clips (or generated sounds) of
    the one set of models, and the convergence claim, which has no clips to resample,
    stays inconclusive.
    """
    own = claim_estimates(results)
    seeds = results.get("seeds") or []
    out = []
    for cid, spec in CLAIMS.items():
        interval, basis = own[cid]["interval"], "test clips" if cid != "generation" else "generated sounds"
        if spec["training"] and len(seeds) >= 2:
            interval = seed_spread([s["estimates"][cid] for s in seeds])
            basis = f"{len(seeds)} training seeds"
        elif interval is None:
            basis = "one training seed: no interval"
        out.append({"id": cid, "claim": spec["claim"], "measure": spec["measure"], "claimed": spec["claimed"],
                    "interval": interval.to_dict() if interval is not None else None, "basis": basis,
                    "verdict": verdict(interval, claimed=spec["claimed"]) if interval is not None else "inconclusive",
                    "evidence": own[cid]["evidence"]})
    return out


# --- results shared between chapters ------------------------------------------------------------

def _code_version() -> str:
    return f"{RESULTS_VERSION}-" + _source_hash(
        ["experiments", "stats", "metrics", "reconstruction", "features", "classifier", "config", "training", "data"])


def result_key(name: str, models: dict, parts: dict) -> str:
    """The cache key of result ``name``: each model's weights (sha256), ``parts`` (config fingerprint, clips,
    settings, profile) and the version of the code that computes results."""
    from .models import weights_sha256

    blob = {"name": name, "weights": {k: weights_sha256(m) for k, m in sorted(models.items())},
            "parts": parts, "code": _code_version()}
    return hashlib.sha256(json.dumps(blob, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _results_dir() -> Path:
    from .features import cache_dir

    return cache_dir() / "results"


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, Interval):
        return obj.to_dict()
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def cached(name: str, models: dict, parts: dict, compute) -> dict:
    """Result ``name`` for ``models`` and ``parts``: read from the shared cache, or ``compute()``-d and stored.

    The cache lies under the feature cache (``$AUDIOGEN_CACHE``, default
    ``~/.cache/audiogen/features``) in ``results/``; its key (:func:`result_key`) holds the
    sha256 of every model's weights, the clips, the settings and a hash of the library
    code that computes results, so a retrained model, another profile or changed code
    computes afresh. What is returned has been through JSON either way (lists, not arrays).
    """
    from .files import atomic_write

    path = _results_dir() / f"{name}-{result_key(name, models, parts)}.json"
    if path.is_file():
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            pass  # unreadable: computed again below
    result = json.loads(json.dumps(_jsonable(compute())))
    with atomic_write(path) as f:
        json.dump(result, f, indent=1)
    return result


def measure(train: FeatureSet, test: FeatureSet, models: dict, *, n_iter: int, seed: int = 0, cache: bool = True,
            reconstruction: dict | None = None, robustness: dict | None = None, generation: dict | None = None) -> dict:
    """Every experiment's numbers for ``models`` on these clips (no audio), verdicts included.

    Parts already computed (``reconstruction``, ``robustness``, ``generation``, as returned
    by the experiment functions) are used as they are; the rest is computed. With ``cache``,
    the whole result comes from the shared cache when these models, clips and settings have
    been measured before (chapter 8 measures, chapters 9 and 10 read), and is stored there
    otherwise. Generation is also stored on its own, for chapter 9.
    """
    config = test.config
    gen_kwargs = dict(n_samples=len(test), n_iter=n_iter, seed=seed)

    def compute():
        rec = reconstruction or experiment_reconstruction(test, models, n_iter=n_iter)
        rob = robustness or experiment_robustness(test, models, seed=seed)
        gen = generation or experiment_generation(models["vae"], models["classifier"], train, test,
                                                  cache=cache, **gen_kwargs)
        results = {
            "config": config.to_dict(), "n_test": len(test), "n_iter": n_iter, "seed": seed,
            "phase_method": rec.get("phase_method", phase_method()),
            "models": {k: _model_record(m) for k, m in models.items()},
            "reconstruction": rec["rows"], "per_clip": rec["per_clip"], "robustness": rob,
            "convergence": experiment_convergence(models), "generation": _strip_audio(gen),
        }
        results = json.loads(json.dumps(_jsonable(results)))
        results["comparisons"] = comparisons(results)
        results["verdicts"] = verdicts(results)
        return results

    if not cache:
        return json.loads(json.dumps(_jsonable(compute())))
    parts = {"config": config.fingerprint(), "train": train.clips_hash(), "test": test.clips_hash(), "n_iter": n_iter, "seed": seed,
             "method": phase_method()}
    return cached("results", models, parts, compute)


def seed_summary(seed: int, results: dict, models: dict) -> dict:
    """What one training seed contributes to the spread: each claim's estimate, and how its models were trained."""
    return {"seed": seed, "estimates": {k: v["estimate"] for k, v in claim_estimates(results).items()},
            "training_wall_time_s": {k: models[k].card.get("wall_time_s") for k in MODEL_NAMES},
            "epochs_run": {k: models[k].card.get("epochs_run") for k in MODEL_NAMES}}
