"""The latent diffusion model judged: its sampler chosen on validation, its goals measured on test by two judges.

1. **Validation** (takes 5-9), :func:`choose_sampler_settings`: conditional samples for each
   guidance strength in :data:`GUIDANCE_GRID` (at :data:`BASE_STEPS` steps), then each step
   count in :data:`STEPS_GRID` at the chosen strength, judged by both judges against the real
   validation audio. The rule (:data:`RULE`): the smallest guidance whose digit accuracy, by the
   weaker judge, is within :data:`ACCURACY_TOLERANCE` of the best; then the fewest steps whose
   accuracy by the weaker judge is within the same tolerance of the most steps' and whose KID,
   by every judge, is no more than the most steps' upper interval bound.
2. **Test** (takes 0-4), :func:`evaluate_ldm`: ``n`` sounds asked for a digit (every digit
   equally often) and ``n`` without a digit, each judged by both judges (accuracy, histogram,
   inception score, KID to the real test audio); the real test audio's own scores and the
   real-versus-real KID (the validation audio against the test audio: same estimator, same sizes);
   the conditional VAE's sounds scored the same way; the voices (:func:`speaker_shares`); and the
   distance of each sound to its nearest training clip against the real test clips' (:func:`copies`).

``audiogen generate --model ldm --evaluate FILE.json`` runs both and writes the JSON with provenance
(results/ldm_paper.json).

Public names
------------
GUIDANCE_GRID, STEPS_GRID, BASE_STEPS, ACCURACY_TOLERANCE, RULE   the validation choice
evaluate_autoencoder      the latent autoencoder's reconstructions against the ceiling and PCA, by both judges
choose_sampler_settings   guidance and steps chosen on validation
speaker_shares            which of the six speakers the speaker judge hears in each sound
copies                    nearest-training-clip distances of samples against those of real test clips
evaluate_ldm              every goal of the latent diffusion model on the test split
run_generate_ldm          ``audiogen generate --model ldm``: sounds into a folder with index.json
run_evaluate_ldm          ``audiogen generate --model ldm --evaluate FILE.json``
GOALS, goal_rows          the goals, each with what both judges measured and its status by both
generator_rows            every generator of the book and real audio, by each judge

Notebook: notebooks/12_latent_diffusion.ipynb
"""

from __future__ import annotations

import time

import numpy as np

GUIDANCE_GRID = (1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
STEPS_GRID = (10, 20, 40)
BASE_STEPS = 20
ACCURACY_TOLERANCE = 0.02
RULE = (f"guidance: the smallest of {list(GUIDANCE_GRID)} (at {BASE_STEPS} Heun steps) whose digit accuracy by the "
        f"weaker judge is within {ACCURACY_TOLERANCE:.0%} of the best; steps: the fewest of {list(STEPS_GRID)} whose "
        f"accuracy by the weaker judge is within {ACCURACY_TOLERANCE:.0%} of the most steps' and whose KID to the "
        f"validation audio, by every judge, is at most the most steps' upper 95% bound")


def _balanced_digits(n: int) -> np.ndarray:
    return np.arange(n) % 10


def _weaker_accuracy(scores: dict) -> float:
    return min(row["accuracy"]["estimate"] for row in scores.values())


def _score_setting(autoencoder, denoiser, judges, real_emb, *, n, steps, guidance, seed) -> dict:
    from .diffusion import generate_ldm
    from .judges import judge_sounds

    t0 = time.perf_counter()
    asked = _balanced_digits(n)
    gen = generate_ldm(autoencoder, denoiser, n, digit=asked, steps=steps, guidance=guidance, seed=seed)
    scores = judge_sounds(judges, gen.waveforms, asked=asked, real_embeddings=real_emb, seed=seed)
    return {"steps": steps, "guidance": guidance, "scores": scores, "weaker_accuracy": _weaker_accuracy(scores),
            "seconds": round(time.perf_counter() - t0, 1)}


def choose_sampler_settings(autoencoder, denoiser, judges, validation, *, n: int = 100, seed: int = 0,
                            progress=print) -> dict:
    """The guidance strength and step count by :data:`RULE`, on the validation split."""
    real_emb = {name: j.embedding(validation.waveforms) for name, j in judges.items()}
    rows = []
    for w in GUIDANCE_GRID:
        rows.append(_score_setting(autoencoder, denoiser, judges, real_emb, n=n, steps=BASE_STEPS, guidance=w, seed=seed))
        progress(f"validation: guidance {w}: accuracy by the weaker judge {rows[-1]['weaker_accuracy']:.1%}")
    best = max(r["weaker_accuracy"] for r in rows)
    guidance = min(r["guidance"] for r in rows if r["weaker_accuracy"] >= best - ACCURACY_TOLERANCE)
    by_steps = {BASE_STEPS: next(r for r in rows if r["guidance"] == guidance)}
    for k in STEPS_GRID:
        if k not in by_steps:
            by_steps[k] = _score_setting(autoencoder, denoiser, judges, real_emb, n=n, steps=k, guidance=guidance,
                                         seed=seed)
            progress(f"validation: {k} steps: accuracy by the weaker judge {by_steps[k]['weaker_accuracy']:.1%}")
    most = by_steps[max(STEPS_GRID)]

    def good_enough(r):
        return (r["weaker_accuracy"] >= most["weaker_accuracy"] - ACCURACY_TOLERANCE
                and all(r["scores"][j]["kid"]["estimate"] <= most["scores"][j]["kid"]["high"] for j in judges))

    steps = min(k for k in STEPS_GRID if good_enough(by_steps[k]))
    return {"rule": RULE, "guidance": guidance, "steps": steps, "method": "heun", "n_per_setting": n,
            "guidance_rows": rows, "steps_rows": [by_steps[k] for k in STEPS_GRID]}


def speaker_shares(waveforms: np.ndarray, *, config="paper") -> dict:
    """The share of sounds the speaker judge gives to each of the six FSDD speakers, and the smallest share."""
    from .audio_judge import audio_probabilities, load_audio_judge
    from .config import get_config

    config = get_config(config)
    judge = load_audio_judge("speaker", config=config.name)
    heard = audio_probabilities(judge, waveforms, sr=config.sr).argmax(-1)
    counts = np.bincount(heard, minlength=len(judge.classes))
    return {"speakers": list(judge.classes), "counts": counts.tolist(),
            "smallest_share": float(counts.min() / len(heard))}


def copies(sample_emb: np.ndarray, test_emb: np.ndarray, train_emb: np.ndarray, *, quantile: float = 0.01) -> dict:
    """Each sound's distance to its nearest training clip, against the real test clips' distances to theirs.

    ``share_closer``: the share of sounds closer to a training clip than the closest ``quantile``
    of real test clips are (a real clip is a new recording, not a copy: about ``quantile`` is expected).
    """
    from .distances import nearest_neighbour_distances

    d_sample, i_sample = nearest_neighbour_distances(sample_emb, train_emb, return_index=True)
    d_test = nearest_neighbour_distances(test_emb, train_emb)
    threshold = float(np.quantile(d_test, quantile))
    order = np.argsort(d_sample)
    return {"threshold": threshold, "quantile": quantile, "share_closer": float(np.mean(d_sample < threshold)),
            "median_sample": float(np.median(d_sample)), "median_test": float(np.median(d_test)),
            "closest": [{"sample": int(i), "train_index": int(i_sample[i]), "distance": float(d_sample[i])}
                        for i in order[:5]]}


AUTOENCODER_GOALS = {"pesq_below_ceiling": 0.3, "digit_accuracy": 0.97}


def evaluate_autoencoder(autoencoder, judges, test, train, *, seed: int = 0) -> dict:
    """The latent autoencoder's test reconstructions against the ceiling and PCA with as many components.

    Every condition goes through the same phase reconstruction (seed ``seed``), so the PESQ of two
    conditions pairs up clip by clip: ``differences`` holds autoencoder - ceiling and autoencoder - PCA
    (paired bootstrap); the digit accuracy is given by both judges. PCA cannot have more components
    than the training set has clips less one, so ``pca_components`` says how many it got.
    """
    from .experiments import phase_method, score_audio
    from .experiments.audio import _audio_in_chunks
    from .experiments.study_models import pca_reconstruct
    from .runtime import progress
    from .stats import bootstrap_mean, paired_bootstrap

    numbers = int(np.prod(autoencoder.latent_shape))
    k = min(numbers, len(train) - 1)
    images = {"ceiling": test.x, "latent_ae": autoencoder.predict(test.x, batch_size=128, verbose=0),
              f"pca_{k}": pca_reconstruct(train.x, test.x, n_components=k)}
    rows, per_clip = {}, {}
    with progress(total=len(images) * len(test), desc="autoencoder against PCA", unit="clip") as bar:
        for name, x_hat in images.items():
            y = _audio_in_chunks(x_hat, test.db_min, test.db_max, bar=bar, seed=seed, config=test.config,
                                 method=phase_method())
            rows[name], per_clip[name] = score_audio(test, y, x_hat=None if name == "ceiling" else x_hat)
            rows[name]["judges"] = {}
            for jname, judge in judges.items():
                hits = (judge.probabilities(y).argmax(-1) == test.digits).astype(float)
                rows[name]["judges"][jname] = bootstrap_mean(hits, seed=seed).to_dict()
    pesq = {name: per_clip[name]["pesq"] for name in images}
    differences = {
        "latent_ae minus ceiling": paired_bootstrap(pesq["latent_ae"], pesq["ceiling"], seed=seed).to_dict(),
        f"latent_ae minus pca_{k}": paired_bootstrap(pesq["latent_ae"], pesq[f"pca_{k}"], seed=seed).to_dict()}
    return {"rows": rows, "differences": differences, "latent_numbers": numbers, "pca_components": k,
            "goals": AUTOENCODER_GOALS, "phase_method": phase_method()}


def _cvae_sounds(config, n: int, *, seed: int, train, validation):
    """The shipped conditional VAE's sounds, every digit equally often, with its validation-chosen sampler."""
    from .generation import choose_sampler, generate, gmm_grid_for, load_generator, sampler_for

    cvae = load_generator("cvae", config.name)
    choice = choose_sampler(cvae, train, validation, seed=seed, grid=gmm_grid_for(train))
    sampler = sampler_for(cvae, choice["best"], train, choice, seed=seed)
    ys = [generate(cvae, sampler, n // 10, seed=seed + d, digit=d).waveforms for d in range(10)]
    return np.concatenate(ys), np.repeat(np.arange(10), n // 10)


def _study_vae_sounds(config, n: int, *, seed: int, train, validation):
    """The study's VAE, sampled with the density its validation codes chose (chapter 10)."""
    from .generation import choose_sampler, generate, gmm_grid_for, load_generator, sampler_for

    vae = load_generator("vae", config.name)
    choice = choose_sampler(vae, train, validation, seed=seed, grid=gmm_grid_for(train))
    return generate(vae, sampler_for(vae, choice["best"], train, choice, seed=seed), n, seed=seed).waveforms


def evaluate_ldm(*, config="paper", n: int = 300, seed: int = 0, n_validation: int = 100, n_clips=None,
                 with_autoencoder: bool = True, autoencoder_result: dict | None = None, progress=print) -> dict:
    """Choose the sampler on validation, then measure every goal on the test split (see the module docstring)."""
    from .config import get_config
    from .diffusion import generate_ldm, load_ldm
    from .features import load_features
    from .judges import judge_sounds, kid, load_judges

    config = get_config(config)
    autoencoder, denoiser = load_ldm(config.name)
    judges = load_judges(config.name)
    # n_clips (the smoke profile): a few clips of validation and test, and enough training clips for a
    # density per digit
    train = load_features("train", config=config).subset(n_clips and max(n_clips, 64), seed=seed)
    validation = load_features("validation", config=config).subset(n_clips, seed=seed)
    test = load_features("test", config=config).subset(n_clips, seed=seed)
    choice = choose_sampler_settings(autoencoder, denoiser, judges, validation, n=n_validation, seed=seed,
                                     progress=progress)
    if with_autoencoder:
        result_ae = autoencoder_result or evaluate_autoencoder(autoencoder, judges, test, train, seed=seed)
        progress("test: autoencoder scored")
    progress(f"chosen on validation: guidance {choice['guidance']}, {choice['steps']} steps")
    # --- test split from here on ---
    real = {name: j.embedding(test.waveforms) for name, j in judges.items()}
    result = {"validation": choice, "n": n, "seed": seed}
    if with_autoencoder:
        result["autoencoder"] = result_ae
    t0 = time.perf_counter()
    asked = _balanced_digits(n)
    cond = generate_ldm(autoencoder, denoiser, n, digit=asked, steps=choice["steps"], guidance=choice["guidance"],
                        seed=seed)
    result["sampling_seconds_per_10"] = round((time.perf_counter() - t0) / n * 10, 2)
    result["conditional"] = judge_sounds(judges, cond.waveforms, asked=asked, real_embeddings=real, seed=seed)
    uncond = generate_ldm(autoencoder, denoiser, n, digit=None, steps=choice["steps"], seed=seed + 1)
    result["unconditional"] = judge_sounds(judges, uncond.waveforms, real_embeddings=real, seed=seed)
    progress("test: ldm sounds judged")
    result["real_test"] = judge_sounds(judges, test.waveforms, asked=test.digits, seed=seed)
    result["real_vs_real_kid"] = {
        name: kid(j.embedding(validation.waveforms), real[name], seed=seed)
        for name, j in judges.items()}
    y_cvae, asked_cvae = _cvae_sounds(config, n, seed=seed, train=train, validation=validation)
    result["cvae"] = judge_sounds(judges, y_cvae, asked=asked_cvae, real_embeddings=real, seed=seed)
    progress("test: cvae sounds judged")
    y_vae = _study_vae_sounds(config, n, seed=seed, train=train, validation=validation)
    result["study_vae"] = judge_sounds(judges, y_vae, real_embeddings=real, seed=seed)
    result["speakers"] = {"ldm_conditional": speaker_shares(cond.waveforms, config=config),
                          "ldm_unconditional": speaker_shares(uncond.waveforms, config=config),
                          "cvae": speaker_shares(y_cvae, config=config),
                          "study_vae": speaker_shares(y_vae, config=config),
                          "real_test": speaker_shares(test.waveforms, config=config)}
    train_emb = judges["mfcc"].embedding(train.waveforms)
    result["copies"] = {"judge": "mfcc",
                        "conditional": copies(judges["mfcc"].embedding(cond.waveforms), real["mfcc"], train_emb),
                        "unconditional": copies(judges["mfcc"].embedding(uncond.waveforms), real["mfcc"], train_emb)}
    result["models"] = {"latent_ae": autoencoder.weights_sha256, "ldm": denoiser.weights_sha256,
                        "judges": {name: j.weights_sha256 for name, j in judges.items()}}
    result["splits"] = {"train": len(train), "validation": len(validation), "test": len(test)}
    return result


def run_generate_ldm(out, *, digit=None, n: int = 10, steps=None, guidance=None, seed: int = 0,
                     config: str = "paper", command: str = "") -> tuple:
    """``audiogen generate --model ldm``: ``n`` sounds into the folder ``out`` with ``index.json`` (as for the VAEs)."""
    from .classifier import audio_to_probabilities
    from .config import get_config
    from .diffusion import _check_digit, generate_ldm, load_ldm, sampler_settings
    from .errors import AudiogenError
    from .generation import Generated, check_output_folder, write_samples
    from .generation.command import _phase_method
    from .pretrained import load_pretrained

    if digit is not None:
        digit = _check_digit(digit)
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 10_000):
        raise AudiogenError(f"--n must be a whole number from 1 to 10,000, got {n!r}")
    if steps is not None and not (isinstance(steps, (int, np.integer)) and 1 <= steps <= 1000):
        raise AudiogenError(f"--steps must be a whole number from 1 to 1,000, got {steps!r}")
    config = get_config(config)
    check_output_folder(out)
    autoencoder, denoiser = load_ldm(config.name)
    gen = generate_ldm(autoencoder, denoiser, n, digit=digit, steps=steps, guidance=guidance, seed=seed)
    classifier = load_pretrained("classifier", config.name)
    probs = audio_to_probabilities(classifier, gen.waveforms)
    chosen = sampler_settings(denoiser)
    what = f"flow matching, {gen.steps} {chosen['method']} steps" + (
        f", guidance {gen.guidance:g}" if digit is not None else ", no digit")
    record = Generated(gen.latents, gen.images, gen.waveforms, probs, config, what, seed, digit, n, np.arange(n),
                       "none: every sound drawn is kept")
    info = {"model": "ldm", "model_name": denoiser.name, "config": config.name,
            "weights_sha256": denoiser.weights_sha256, "autoencoder_weights_sha256": autoencoder.weights_sha256,
            "model_command": denoiser.card.get("command"), "sampler_settings": {**chosen, "steps": gen.steps,
                                                                                 "guidance": gen.guidance},
            "generation_db_range": autoencoder.card["normalisation"]["generation_db_range"],
            "phase_reconstruction": _phase_method(config.name), "command": command}
    path = write_samples(record, out, info=info)
    import json

    return path, json.loads((path / "index.json").read_text())


def run_evaluate_ldm(path, *, n: int = 300, seed: int = 0, config: str = "paper", profile=None, command: str = "",
                     autoencoder_result: dict | None = None, progress=print) -> dict:
    """``audiogen generate --model ldm --evaluate FILE``: :func:`evaluate_ldm` with provenance, to JSON."""
    import json
    from pathlib import Path

    from .config import get_profile
    from .errors import AudiogenError
    from .files import atomic_write
    from .generation import provenance

    path = Path(path)
    if path.suffix != ".json":
        raise AudiogenError(f"--evaluate writes a JSON file; give a path ending in .json, got {path}")
    if not (isinstance(n, (int, np.integer)) and n >= 10 and n % 10 == 0):
        raise AudiogenError(f"--n must be a multiple of 10 (every digit equally often), got {n!r}")
    profile = get_profile(profile) if not hasattr(profile, "n_test") else profile
    result = {"provenance": {**provenance(command), "config": config, "profile": profile.name}}
    result.update(evaluate_ldm(config=config, n=n, seed=seed, n_clips=profile.n_test,
                               n_validation=min(100, n), autoencoder_result=autoencoder_result,
                               progress=progress))
    with atomic_write(path) as f:
        f.write(json.dumps(result, indent=1, default=float) + "\n")
    return result


# --- the goals -------------------------------------------------------------------------------------

GOALS = {"asked": 0.97, "digit_share": 0.05, "is_ratio": 0.90, "speaker_share": 0.08}


def _share(k: int, n: int, seed: int = 0) -> dict:
    from .stats import bootstrap_mean

    return bootstrap_mean(np.r_[np.ones(k), np.zeros(n - k)], seed=seed).to_dict()


def _fmt(d: dict, spec: str) -> str:
    return f"{d['estimate']:{spec}} [{d['low']:{spec}}, {d['high']:{spec}}]"


def _by_judges(result: dict, measure) -> dict:
    """``{judge: (text, status)}`` for each judge in ``result``'s conditional scores."""
    return {name: measure(name) for name in result["conditional"]}


def goal_rows(result: dict) -> list[dict]:
    """Every goal of the latent diffusion model with what each judge measured and the status by both.

    Rows: ``goal``, ``by`` (``{judge: text}``), ``status`` (met only if met by every judge:
    :func:`audiogen_lib.judges.both_hold`). Goals measured without a judge (PESQ, speakers,
    copies) have one entry.
    """
    from .judges import both_hold
    from .stats import goal_status

    rows = []

    def add(goal, measured: dict):
        rows.append({"goal": goal, "by": {k: v[0] for k, v in measured.items()},
                     "status": both_hold({k: v[1] for k, v in measured.items()})})

    ae = result.get("autoencoder")
    if ae:
        goal = ae["goals"]
        d = ae["differences"]["latent_ae minus ceiling"]
        add(f"autoencoder: PESQ-NB within {goal['pesq_below_ceiling']} of the ceiling",
            {"PESQ": (_fmt(d, "+.2f"), goal_status(d, -goal["pesq_below_ceiling"]))})
        d = ae["differences"][f"latent_ae minus pca_{ae['pca_components']}"]
        add(f"autoencoder: PESQ-NB above PCA with {ae['pca_components']:,} components",
            {"PESQ": (_fmt(d, "+.2f"), goal_status(d, 0.0) if d["low"] > 0 or d["high"] < 0 else "undecided")})
        add(f"autoencoder: digit heard in >= {goal['digit_accuracy']:.0%} of reconstructions",
            {j: (_fmt(v, ".1%"), goal_status(v, goal["digit_accuracy"]))
             for j, v in ae["rows"]["latent_ae"]["judges"].items()})
    add(f"asked for a digit: heard as asked in >= {GOALS['asked']:.0%}",
        _by_judges(result, lambda j: (_fmt(result["conditional"][j]["accuracy"], ".1%"),
                                      goal_status(result["conditional"][j]["accuracy"], GOALS["asked"]))))

    def rarest(j):
        hist = np.asarray(result["unconditional"][j]["histogram"])
        share = _share(int(hist.min()), int(hist.sum()))
        return f"rarest ({int(hist.argmin())}): {_fmt(share, '.1%')}", goal_status(share, GOALS["digit_share"])

    add(f"no digit asked: every digit in >= {GOALS['digit_share']:.0%}", _by_judges(result, rarest))

    def is_ratio(j):
        real = result["real_test"][j]["inception_score"]["estimate"]
        got = result["unconditional"][j]["inception_score"]
        return (f"{_fmt(got, '.2f')} of real {real:.2f}", goal_status(got, GOALS["is_ratio"] * real))

    add(f"no digit asked: inception score >= {GOALS['is_ratio']:.0%} of real test audio's", _by_judges(result, is_ratio))

    def kid_vs_cvae(j):
        a, b = result["conditional"][j]["kid"], result["cvae"][j]["kid"]
        status = "met" if a["high"] < b["low"] else "missed" if a["low"] > b["high"] else "undecided"
        return f"{_fmt(a, '.3f')} vs cvae {_fmt(b, '.3f')}", status

    add("KID to real test audio below the conditional VAE's, intervals apart", _by_judges(result, kid_vs_cvae))
    for which in ("ldm_conditional", "ldm_unconditional"):
        sp = result["speakers"][which]
        share = _share(int(min(sp["counts"])), int(sum(sp["counts"])))
        add(f"voices ({which.split('_')[1]}): every speaker in >= {GOALS['speaker_share']:.0%}",
            {"speaker judge": (f"rarest: {_fmt(share, '.1%')}", goal_status(share, GOALS["speaker_share"]))})
    return rows


def generator_rows(result: dict) -> list[dict]:
    """Per generator (and real audio): accuracy as asked, inception score, rarest digit and KID, by each judge."""
    sets = [("real audio (validation vs test takes)", None), ("study VAE (its best sampler)", "study_vae"),
            ("conditional VAE, each digit asked equally", "cvae"), ("latent diffusion, each digit asked", "conditional"),
            ("latent diffusion, no digit", "unconditional")]
    rows = []
    for label, key in sets:
        for j in result["conditional"]:
            if key is None:
                r = result["real_test"][j]
                row = {"asked": r["accuracy"], "is": r["inception_score"], "kid": result["real_vs_real_kid"][j],
                       "rarest": r["rarest_share"]}
            else:
                r = result[key][j]
                row = {"asked": r.get("accuracy"), "is": r["inception_score"], "kid": r["kid"],
                       "rarest": r["rarest_share"]}
            rows.append({"generator": label, "judge": j, **row})
    return rows
