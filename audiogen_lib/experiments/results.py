"""Every experiment's numbers for a set of models, through the shared cache, and one training seed's share.

Public names
------------
measure                 every experiment's numbers (no audio) for a set of models, through the cache
seed_summary            one training seed's estimate of each claim, for the spread over seeds
listening_file          where the listening experiment's shipped result for a config lies (results/listening_<config>.json)
read_listening          that result, as ``audiogen listen`` wrote it (provenance included)
listen                  the listening experiment as ``audiogen listen`` runs it: measure, both judges, speaker check

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import json
from pathlib import Path

from ..features import FeatureSet
from .audio import phase_method
from .cache import _jsonable, cached
from .claims import claim_estimates, comparisons, verdicts
from .convergence import experiment_convergence
from .generation import _strip_audio, experiment_generation
from .reconstruction import experiment_reconstruction
from .robustness import experiment_robustness
from .study_models import MODEL_NAMES, _model_record


def measure(train: FeatureSet, test: FeatureSet, models: dict, *, n_iter: int, seed: int = 0, cache: bool = True,
            reconstruction: dict | None = None, robustness: dict | None = None, generation: dict | None = None) -> dict:
    """Every experiment's numbers for ``models`` on these clips (no audio), verdicts included.

    Parts already computed (``reconstruction``, ``robustness``, ``generation``, as returned
    by the experiment functions) are used as they are; the rest is computed. With ``cache``,
    the whole result comes from the shared cache when these models, clips and settings have
    been measured before (chapter 9 measures, chapters 10 and 11 read), and is stored there
    otherwise. Generation is also stored on its own, for chapter 10.
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
    parts = _parts(train, test, n_iter=n_iter, seed=seed)
    if not (reconstruction or robustness or generation):
        shipped = _shipped_match(models, parts)
        if shipped is not None:
            return shipped
    return cached("results", models, parts, compute)


def _parts(train: FeatureSet, test: FeatureSet, *, n_iter: int, seed: int) -> dict:
    return {"config": test.config.fingerprint(), "train": train.clips_hash(), "test": test.clips_hash(),
            "n_iter": n_iter, "seed": seed, "method": phase_method()}


def _inputs(models: dict, parts: dict) -> dict:
    """What a measurement was made of: each model's weights (sha256), the clips and the settings."""
    from ..models import weights_sha256

    return {"weights": {k: weights_sha256(m) for k, m in sorted(models.items())}, "parts": parts}


def _shipped_match(models: dict, parts: dict) -> dict | None:
    """The shipped listening result when it was measured on these models, clips and settings; else None."""
    config = parts["config"]
    for path in sorted(_RESULTS.glob("listening_*.json")):
        try:
            result = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            continue
        if result.get("inputs", {}).get("parts", {}).get("config") == config and result["inputs"] == json.loads(
                json.dumps(_inputs(models, parts))):
            return result
    return None


_RESULTS = Path(__file__).resolve().parents[2] / "results"


def listening_file(config: str = "paper") -> Path:
    """The listening experiment's shipped result for ``config``: ``results/listening_<config>.json``."""
    return _RESULTS / f"listening_{config}.json"


def read_listening(config: str = "paper") -> dict:
    """The result ``audiogen listen --config CONFIG`` wrote: :func:`measure`'s dict (verdicts, per-clip
    scores of the 300 test clips), plus ``"judges"`` (:func:`judge_reconstructions`), ``"speaker_check"``
    and ``"provenance"`` (command, commit, date, splits, machine)."""
    from ..errors import AudiogenError

    path = listening_file(config)
    if not path.is_file():
        raise AudiogenError(f"{path} is missing: write it with `audiogen listen --config {config}`")
    return json.loads(path.read_text())


def listen(train: FeatureSet, test: FeatureSet, models: dict, *, n_iter: int, seed: int = 0) -> dict:
    """The listening experiment as ``audiogen listen`` runs it: :func:`measure` (stored in the shared cache
    too), the digit heard in every condition by both judges, the speaker check, and ``"inputs"`` (weights,
    clips, settings) so that :func:`measure` can recognise the same measurement later."""
    from .claims import speaker_check
    from .reconstruction import judge_reconstructions

    rec = experiment_reconstruction(test, models, n_iter=n_iter, train=train)
    results = measure(train, test, models, n_iter=n_iter, seed=seed, reconstruction=rec)
    results["judges"] = judge_reconstructions(rec["audio"], test)
    results["speaker_check"] = speaker_check(results, speakers=list(test.speakers))
    results["inputs"] = json.loads(json.dumps(_inputs(models, _parts(train, test, n_iter=n_iter, seed=seed))))
    return json.loads(json.dumps(_jsonable(results)))


def seed_summary(seed: int, results: dict, models: dict) -> dict:
    """What one training seed contributes to the spread: each claim's estimate, and how its models were trained."""
    return {"seed": seed, "estimates": {k: v["estimate"] for k, v in claim_estimates(results).items()},
            "training_wall_time_s": {k: models[k].card.get("wall_time_s") for k in MODEL_NAMES},
            "epochs_run": {k: models[k].card.get("epochs_run") for k in MODEL_NAMES}}
