"""``audiogen generate`` and ``audiogen generate --evaluate``: the shipped models, the choice, the sounds, provenance.

Public names
------------
MODEL_KINDS           ``("vae", "vae_gen", "cvae")``: the study's VAE and the two trained to generate
load_generator        a shipped VAE by kind, with a clear error when it is not shipped
GENERATOR_CANDIDATES, shipped_generators, validation_choice, default_model   the model ``audiogen generate`` uses when none is named
model_record          a model's kind, weights_sha256, command and selection split, for an index or results
provenance            command, date, git commit, machine and data manifest of a measurement
run_generate          ``audiogen generate``: checks, loading, choice, generation, the folder
check_evaluate        what run_evaluate refuses, checked before any work
run_evaluate          ``audiogen generate --evaluate FILE.json``: evaluate_samplers with provenance, to JSON

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..config import get_config
from ..errors import AudiogenError
from ..files import atomic_write
from .decoding import db_range, generate
from .densities import GMM_GRID, N_DIGITS, SAMPLERS, SMOKE_GMM_GRID, _check_digit
from .outputs import check_output_folder, write_samples
from .sampler_choice import choose_sampler, sampler_for
from .scoring import evaluate_samplers


MODEL_KINDS = ("vae", "vae_gen", "cvae")  # the study's VAE and the two trained to generate


# --- models -----------------------------------------------------------------------------------------

def load_generator(kind: str, config: str = "paper"):
    """The shipped VAE ``kind`` (``"vae"``, ``"vae_gen"``, ``"cvae"``) for ``config``.

    A kind that is not shipped raises :class:`AudiogenError` naming it and the command that
    trains and ships it.
    """
    from ..pretrained import available, load_pretrained

    if kind not in MODEL_KINDS:
        raise AudiogenError(f"unknown generative model {kind!r}; use one of {MODEL_KINDS}")
    config = get_config(config).name
    if f"{kind}_{config}" not in available():
        raise AudiogenError(f"the {kind} model for config {config!r} is not shipped yet (shipped: {available()}); "
                            f"train and ship it with `audiogen train {kind} --config {config} --profile paper --ship`, "
                            f"or use --model vae (the study's VAE)")
    return load_pretrained(kind, config)


def model_record(model) -> dict:
    """What an index or a results file says of a model: kind, weights_sha256, the command that made it, the splits."""
    from ..models import weights_sha256

    card = getattr(model, "card", None) or {}
    split = card.get("split", {})
    return {"name": model.name, "kind": card.get("kind"), "weights_sha256": getattr(model, "weights_sha256", None)
            or weights_sha256(model), "command": card.get("command"),
            "chosen_on": ("validation split" if isinstance(split.get("validation"), dict)
                          else "test split (trained before the validation split existed)")}


# --- the command's two jobs ---------------------------------------------------------------------------

# The VAEs `audiogen generate` falls back on when no model is named and no choice is recorded (the
# first shipped of this order). The choice itself is the one validation prefers among these and the
# latent diffusion model ("ldm"), recorded in pretrained/generator_choice_<config>.json by
# `audiogen choose-generator --ship` (audiogen_lib/generator_choice.py).
GENERATOR_CANDIDATES = ("cvae", "vae_gen", "vae")


def validation_choice(config: str = "paper") -> dict | None:
    """The generator validation prefers for ``config`` (its shipped record), or None where none is recorded yet."""
    from ..pretrained import HERE

    path = HERE / f"generator_choice_{get_config(config).name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def shipped_generators(config: str = "paper") -> list[str]:
    """The generators shipped for ``config``: those of :data:`GENERATOR_CANDIDATES`, in that order, then
    ``"ldm"`` where both its parts (the latent autoencoder and the denoiser) are shipped."""
    from ..pretrained import available

    config = get_config(config).name
    have = set(available())
    shipped = [k for k in GENERATOR_CANDIDATES if f"{k}_{config}" in have]
    return shipped + (["ldm"] if {f"latent_ae_{config}", f"ldm_{config}"} <= have else [])


def default_model(digit: int | None, config: str = "paper") -> str:
    """The model ``audiogen generate`` uses when none is named.

    For a digit: ``cvae`` where shipped (it makes the digit asked for). Without one: the kind
    :func:`validation_choice` records (``"ldm"`` included), where it is shipped; else the first
    shipped of :data:`GENERATOR_CANDIDATES` (the conditional VAE draws each sound's digit uniformly).
    """
    config = get_config(config).name
    shipped = shipped_generators(config)
    if digit is not None and "cvae" in shipped:
        return "cvae"
    choice = validation_choice(config) if digit is None else None
    if choice and choice.get("model") in shipped:
        return choice["model"]
    vaes = [k for k in shipped if k != "ldm"]
    return vaes[0] if vaes else "vae"


def _profile_settings(profile) -> tuple[int | None, int | None, dict]:
    """The profile's training and validation/test clips (None: all) and the GMM grid it tries."""
    from ..config import Profile, get_profile

    profile = profile if isinstance(profile, Profile) else get_profile(profile)
    return profile.n_train, profile.n_test, SMOKE_GMM_GRID if profile.name == "smoke" else GMM_GRID


def provenance(command: str) -> dict:
    """Command, date, git commit (and whether tracked files differed from it), machine, data manifest."""
    import datetime

    from ..data import manifest_hash
    from ..runtime import git_state
    from ..training import machine

    commit, dirty = git_state()
    return {"command": command, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit, "git_dirty_tracked_files": dirty, "machine": machine(),
            "load_average_at_start": list(os.getloadavg()), "data_manifest": manifest_hash()}


def run_generate(out: str | os.PathLike, *, model: str | None = None, digit: int | None = None, n: int = 10,
                 sampler: str | None = None, seed: int = 0, config: str = "paper", profile=None,
                 command: str = "") -> tuple[Path, dict]:
    """``audiogen generate``: ``n`` sounds from a shipped VAE into the folder ``out``, with ``index.json``.

    Everything that can be refused is checked before any work: the digit (0-9), the model
    (``vae``, ``vae_gen``, ``cvae``; shipped), the sampler, the output folder. ``sampler=None``
    takes the best on validation (:func:`choose_sampler`). The density is fitted to the
    training clips of the profile (all of them outside ``smoke``). Returns the folder and the index.
    """
    from ..features import load_features
    from ..pretrained import load_pretrained

    if digit is not None:
        digit = _check_digit(digit)
    if model is not None and model not in MODEL_KINDS:
        raise AudiogenError(f"unknown generative model {model!r}; use one of {MODEL_KINDS}")
    if sampler is not None and sampler not in SAMPLERS:
        raise AudiogenError(f"unknown sampler {sampler!r}; use one of {SAMPLERS} (or leave it out: the best on "
                            f"validation)")
    if not (isinstance(n, (int, np.integer)) and 1 <= n <= 10_000):
        raise AudiogenError(f"--n must be a whole number from 1 to 10,000, got {n!r}")
    config = get_config(config).name
    check_output_folder(out)
    kind = model or default_model(digit, config)
    if kind == "ldm":
        raise AudiogenError("validation prefers the latent diffusion model for this config: run `audiogen generate` "
                            "(it uses it), or audiogen_lib.ldm_evaluation.run_generate_ldm")
    vae = load_generator(kind, config)
    classifier = load_pretrained("classifier", config)
    n_train, n_validation, grid = _profile_settings(profile)
    train = load_features("train", config=config).subset(n_train, seed=seed)
    validation = load_features("validation", config=config).subset(n_validation, seed=seed)
    choice = choose_sampler(vae, train, validation, grid=grid, seed=seed)
    chosen = sampler or choice["best"]
    density = sampler_for(vae, chosen, train, choice, seed=seed)
    gen = generate(vae, density, n, seed=seed, digit=digit, classifier=classifier,
                   lo_hi=db_range(vae, config=config, train=train))
    record = model_record(vae)
    info = {"model": kind, "model_name": vae.name, "config": config, "weights_sha256": record["weights_sha256"],
            "model_command": record["command"], "classifier_weights_sha256": model_record(classifier)["weights_sha256"],
            "sampler_settings": density.describe(),
            "sampler_choice": {"asked": sampler, "best_on_validation": choice["best"],
                               "validation_log_likelihood": choice["log_likelihood"],
                               "rule": choice.get("rule"), "gmm_rule": choice["gmm"]["rule"],
                               "clips": {"train": len(train), "validation": len(validation)}},
            "generation_db_range": db_range(vae, config=config, train=train),
            "phase_reconstruction": _phase_method(config), "command": command}
    if model is None and kind == "vae":
        info["note"] = ("the models trained to generate (vae_gen, cvae) are not shipped yet, so the study's VAE was "
                        "used; ship one with `audiogen train vae_gen --config ... --profile paper --ship`")
    elif model is None and digit is None:
        choice = validation_choice(config)
        info["default_choice"] = (choice if choice and choice.get("model") == kind else
                                  {"model": kind, "rule": f"the first shipped of {GENERATOR_CANDIDATES}: no choice on "
                                                          "validation is recorded for this config yet"})
    path = write_samples(gen, out, info=info)
    return path, json.loads((path / "index.json").read_text())


def _phase_method(config) -> dict:
    """The phase reconstruction every generated image goes through: the library's default and its settings."""
    from ..reconstruction import DEFAULT_METHOD, settings

    return {"method": DEFAULT_METHOD, **({"settings": settings(config)} if DEFAULT_METHOD == "pghi+fgla" else {})}


def check_evaluate(path: str | os.PathLike, *, model: str, n: int, n_sets: int = 5) -> Path:
    """What :func:`run_evaluate` refuses, checked before any work: the model kind, ``n``, ``n_sets``, a ``.json`` path."""
    if model not in MODEL_KINDS:
        raise AudiogenError(f"unknown generative model {model!r}; use one of {MODEL_KINDS}")
    if not (isinstance(n, (int, np.integer)) and n >= N_DIGITS):
        raise AudiogenError(f"--n must be at least {N_DIGITS} sounds per sampler for an inception score, got {n!r}")
    if not (isinstance(n_sets, (int, np.integer)) and n_sets >= 1):
        raise AudiogenError(f"--sets must be a whole number of at least 1, got {n_sets!r}")
    path = Path(path)
    if path.suffix != ".json":
        raise AudiogenError(f"--evaluate writes a JSON file; give a path ending in .json, got {path}")
    return path


def run_evaluate(path: str | os.PathLike, *, judges: dict, model: str = "vae", n: int = 300, n_sets: int = 5,
                 seed: int = 0, config: str = "paper", profile=None, command: str = "", progress=print) -> dict:
    """``audiogen generate --evaluate FILE``: :func:`evaluate_samplers` for a shipped model, with provenance, to JSON.

    ``judges``: :func:`audiogen_lib.judges.load_judges` for ``config`` (the command line loads them;
    that module sits above this one).
    """
    from ..pretrained import load_pretrained

    path = check_evaluate(path, model=model, n=n, n_sets=n_sets)
    config = get_config(config).name
    vae = load_generator(model, config)
    classifier = load_pretrained("classifier", config)
    n_train, n_test, grid = _profile_settings(profile)
    result = {"provenance": {**provenance(command), "models": {"vae": model_record(vae),
                                                                "classifier": model_record(classifier)},
                             "judges": {name: {"judge": j.kind, "weights_sha256": j.weights_sha256}
                                        for name, j in judges.items()},
                             "config": config, "profile_clips": {"train": n_train, "validation_and_test": n_test}}}
    result["provenance"]["phase_reconstruction"] = _phase_method(config)
    result.update(evaluate_samplers(vae, classifier, judges=judges, n_samples=n, n_sets=n_sets, seed=seed,
                                    n_train=n_train, n_validation=n_test, n_test=n_test, grid=grid, progress=progress))
    with atomic_write(path) as f:
        f.write(json.dumps(result, indent=1, default=float) + "\n")
    return result
