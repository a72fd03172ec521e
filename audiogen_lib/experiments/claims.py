"""The study's claims, and the verdict on each: paired differences between conditions and the rule that reads them.

Public names
------------
CLAIMS, GENERATION_IS_THRESHOLD, EQUIVALENCE_MARGIN_PESQ
comparisons             paired differences between conditions, per metric, with intervals
claim_estimates, verdicts   each claim's paired difference and the rule's verdict on it
clip_speakers           the speaker of each test clip of a results file, in the order of its per-clip lists
speaker_check           each claim's interval and verdict again, resampling speakers (a sensitivity check)
verdicts_by_judges      combines the verdicts of several judges (a claim about sound holds only when it holds
                        by each)
generation_by_judges    the generation claim's sounds (the prior samples) and the real test audio, by each judge
with_judges             results whose verdicts are those of both judges (:func:`verdicts` reads ``by_judge``)

What the intervals cover: the bootstrap over test clips is about new recordings of the ten
digits by *these six speakers*; the spread over training seeds about new trainings on the
same data. :func:`speaker_check` resamples the six speakers to show which verdicts depend on
them; it is reported beside each verdict, not instead of it.

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..stats import (Interval, bootstrap_statistic, equivalence, paired_bootstrap, seed_spread, speaker_bootstrap,
                     tost_level, verdict)
from .audio import _rmse_of
from .convergence import convergence_verdict
from .study_models import MODEL_NAMES


# The verdict on generation compares the inception score of prior samples with this threshold
# (10 at most): the project's goal for a VAE that generates recognisable digits (../shared/MEASURED.md).
GENERATION_IS_THRESHOLD = 8.0
# "Loses nothing" is a claim of equivalence: it holds when the 90% interval of the PESQ-NB
# difference lies within +-0.1 (two one-sided tests at 5%, stats.equivalence). 0.1 is a small
# share of the scale's range (-0.5 to 4.5) and below what listening tests resolve between systems.
EQUIVALENCE_MARGIN_PESQ = 0.1


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
        claim="The U-Net plateaus within about 5 epochs; the VAE needs about 150.",
        measure="plateau epoch of the validation RMSE (the first epoch after which it never improves by more than "
                "2% of the run's total improvement): U-Net at most 10, VAE at least 75; a run its epoch cap ended "
                "is censored (its plateau epoch a lower bound)", claimed="numbers", training=True),
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
                f"(random start, the study's reference); equivalent when the 90% interval lies within "
                f"+-{EQUIVALENCE_MARGIN_PESQ:g} (two one-sided tests)", claimed="equivalent", training=False),
}


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

    def _run(name):
        r = conv[name]
        if "censored" not in r:
            return "censoring not recorded"
        ended = "censored: its cap ended it" if r["censored"] else "ended by early stopping"
        return f"best epoch {r['best_epoch']} of {r['epochs_run']}, cap {r['cap']}, patience {r['patience']}: {ended}"

    out["convergence"] = {"interval": None, "estimate": float(nv - nu), "evidence": (
        f"plateau epoch (2% rule): U-Net {nu} ({_run('unet')}), VAE {nv} ({_run('vae')}); a censored run's plateau "
        f"epoch is a lower bound; the U-Net matches the VAE's best after "
        f"{conv['unet'].get('epochs_to_vae_best') or 'no'} epoch(s); "
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
    ci = paired_bootstrap(pc("zero_phase", "pesq"), pc(gl, "pesq"), level=tost_level())
    out["griffin_lim"] = {"interval": ci, "evidence": (
        f"PESQ-NB of the true magnitude: zero phase {rec['zero_phase']['pesq']:.2f}, Griffin-Lim "
        f"{rec[gl]['pesq']:.2f}; zero phase minus Griffin-Lim {ci.format('+.2f')} (90% interval) against the "
        f"margin +-{EQUIVALENCE_MARGIN_PESQ:g}")}
    for v in out.values():
        v.setdefault("estimate", v["interval"].estimate if v["interval"] is not None else float("nan"))
    return out


def _read(interval: Interval | None, claimed: str) -> str:
    """The rule for one claim: a side of zero (``positive``/``negative``) or an equivalence within the margin."""
    if interval is None:
        return "inconclusive"
    if claimed == "equivalent":
        return equivalence(interval, margin=EQUIVALENCE_MARGIN_PESQ)
    return verdict(interval, claimed=claimed)


def verdicts(results: dict) -> list[dict]:
    """The rule applied to each claim in :data:`CLAIMS`; by every judge where the results hold several.

    Where ``results["generation"]["by_judge"]`` gives the generation rows of several judges
    (:func:`generation_by_judges`), each judge's verdicts are computed and combined by
    :func:`verdicts_by_judges`: a claim about generated sound holds only when it holds by each.

    A claim of a difference *holds* when the 95% interval of its paired difference lies on
    the claimed side of zero, *does not hold* when it lies on the other side, and is
    *inconclusive* otherwise (:func:`audiogen_lib.stats.verdict`). The claim that zero phase
    loses nothing against Griffin-Lim is an equivalence: it holds when the 90% interval lies
    within +-:data:`EQUIVALENCE_MARGIN_PESQ` (:func:`audiogen_lib.stats.equivalence`). The
    convergence claim is about the study's numbers, read from the validation curves by the rule
    of :mod:`.convergence`; where a run's epoch cap ended it and its bound does not decide,
    its verdict is "cannot be reached". Where training is part of a claim and
    ``results["seeds"]`` holds two or more training seeds, the interval is the Student-t
    interval over seeds of each seed's estimate; otherwise it is the bootstrap over the test
    clips (or generated sounds) of the one set of models.
    """
    by_judge = (results.get("generation") or {}).get("by_judge")
    if by_judge:
        return verdicts_by_judges({
            name: verdicts({**results, "generation": {**results["generation"], "rows": rows, "by_judge": None}})
            for name, rows in by_judge.items()})
    own = claim_estimates(results)
    seeds = results.get("seeds") or []
    out = []
    for cid, spec in CLAIMS.items():
        interval, basis = own[cid]["interval"], "test clips" if cid != "generation" else "generated sounds"
        if cid == "convergence":
            word, parts = convergence_verdict(results["convergence"])
            out.append({"id": cid, "claim": spec["claim"], "measure": spec["measure"], "claimed": spec["claimed"],
                        "interval": None, "basis": "the shipped models' validation curves (seed 0)",
                        "verdict": word, "parts": parts, "evidence": own[cid]["evidence"]})
            continue
        if spec["training"] and len(seeds) >= 2:
            interval = seed_spread([s["estimates"][cid] for s in seeds])
            basis = f"{len(seeds)} training seeds"
        elif interval is None:
            basis = "one training seed: no interval"
        out.append({"id": cid, "claim": spec["claim"], "measure": spec["measure"], "claimed": spec["claimed"],
                    "interval": interval.to_dict() if interval is not None else None, "basis": basis,
                    "verdict": _read(interval, spec["claimed"]), "evidence": own[cid]["evidence"]})
    return out


def clip_speakers(results: dict) -> list[str]:
    """The speaker of each test clip, in the order of ``results["per_clip"]``'s lists.

    The per-clip lists follow :func:`audiogen_lib.data.list_recordings` ``("test")`` (digit,
    speaker, take); a results file of a subset of the test clips does not say which, and is refused.
    """
    from ..data import list_recordings
    from ..errors import AudiogenError

    recs = list_recordings("test")
    n = len(next(iter(results["per_clip"].values()))["pesq"])
    if n != len(recs):
        raise AudiogenError(f"the per-clip lists hold {n} clips, not the {len(recs)} test clips: a subset's speakers "
                            "are not recorded; measure on every test clip (profile paper or book)")
    return [r.speaker for r in recs]


def speaker_check(results: dict, *, speakers: list[str] | None = None, seed: int = 0) -> dict[str, dict]:
    """Each claim with per-clip evidence measured again with :func:`audiogen_lib.stats.speaker_bootstrap`.

    Returns ``{claim_id: {"interval", "verdict", "clips_verdict"}}`` for the claims whose test
    is a mean over test clips, from the first set of models (seed 0): ``clips_verdict`` is the
    verdict of the bootstrap over clips of the same numbers, ``verdict`` that of the bootstrap
    over speakers, then clips. The generation claim (generated sounds have no speaker) and the
    convergence claim (no clips) get ``None``.
    """
    speakers = clip_speakers(results) if speakers is None else speakers
    pc = lambda c, m: _per_clip(results, c, m)  # noqa: E731
    u, v, n = pc("unet", "pesq"), pc("vae", "pesq"), pc("unet_noskip", "pesq")
    b = results["robustness"]["bin"]["per_clip"]
    gl = _griffinlim_condition(results)
    tests = {"reconstruction": (u, v, LEVEL_DIFF), "robustness": (b["unet"], b["vae"], LEVEL_DIFF),
             "skip_connections": (u - n, n - v, LEVEL_DIFF),
             "griffin_lim": (pc("zero_phase", "pesq"), pc(gl, "pesq"), tost_level())}
    out: dict[str, dict | None] = {"convergence": None, "generation": None}
    for cid, (a, bb, level) in tests.items():
        claimed = CLAIMS[cid]["claimed"]
        by_speakers = speaker_bootstrap(a, speakers, bb, seed=seed, level=level)
        by_clips = paired_bootstrap(a, bb, seed=seed, level=level)
        out[cid] = {"interval": by_speakers.to_dict(), "verdict": _read(by_speakers, claimed),
                    "clips_interval": by_clips.to_dict(), "clips_verdict": _read(by_clips, claimed)}
    return out


LEVEL_DIFF = 0.95


def verdicts_by_judges(verdicts_per_judge: dict[str, list[dict]]) -> list[dict]:
    """``{judge name: verdicts(...) measured with that judge}`` -> one list of verdicts.

    A claim about reconstructed or generated sound holds only when it holds by every judge; it
    does not hold when it does not hold by every judge; otherwise the judges disagree and it is
    inconclusive. Claims that no judge enters (PESQ, RMSE, epochs) get the same verdict from every
    list; each row keeps ``by_judge`` (the verdicts) and, where the judges' evidence differs,
    ``interval_by_judge`` and the evidence of each, so that a table can show them all.
    """
    names = list(verdicts_per_judge)
    if not names:
        from ..errors import AudiogenError

        raise AudiogenError("verdicts_by_judges needs the verdicts of at least one judge")
    rows = {v["id"]: dict(v, by_judge={}, interval_by_judge={}, evidence_by_judge={})
            for v in verdicts_per_judge[names[0]]}
    for name in names:
        for v in verdicts_per_judge[name]:
            rows[v["id"]]["by_judge"][name] = v["verdict"]
            rows[v["id"]]["interval_by_judge"][name] = v["interval"]
            rows[v["id"]]["evidence_by_judge"][name] = v["evidence"]
    for row in rows.values():
        words = set(row["by_judge"].values())
        row["verdict"] = words.pop() if len(words) == 1 else "inconclusive"
        if len(set(row["evidence_by_judge"].values())) > 1:
            row["evidence"] = "; ".join(f"{name} judge: {e}" for name, e in row["evidence_by_judge"].items())
            row["basis"] = f"{row['basis']}, by each judge"
        else:  # no judge enters this claim: one interval, one evidence
            row.pop("interval_by_judge"), row.pop("evidence_by_judge")
    return list(rows.values())


PRIOR, REAL = "prior N(0, I)", "real test audio"


def generation_by_judges(vae, train, test, judges: dict, *, n_samples: int, n_iter: int, seed: int = 0) -> dict:
    """The generation claim's evidence by every judge: ``{judge name: {PRIOR: row, REAL: row}}``.

    The prior samples are those of :func:`audiogen_lib.experiments.experiment_generation` with the
    same ``seed`` (its first draw, decoded in the same chunks with the same seeds), so the CNN's
    rows here equal its rows there; ``judges`` is :func:`audiogen_lib.judges.load_judges` (or any
    ``{name: judge}`` with ``probabilities(y)``). Each row is what that experiment records: the
    inception score with its interval, the histogram and the mean confidence.
    """
    from .audio import CHUNK
    from .generation import _judge, decode_to_audio, generation_db_range

    config = test.config
    z = np.random.default_rng(seed).standard_normal((n_samples, vae.latent_dim)).astype(np.float32)
    db_range = generation_db_range(vae, config=config, train=train)["db_range"]
    y = np.concatenate([decode_to_audio(vae, z[start:start + CHUNK], config=config, n_iter=n_iter, seed=seed + k,
                                        db_range=db_range)[1]
                        for k, start in enumerate(range(0, n_samples, CHUNK))])
    return {name: {PRIOR: _judge(judge.probabilities(y)), REAL: _judge(judge.probabilities(test.waveforms))}
            for name, judge in judges.items()}


def with_judges(results: dict, by_judge: dict) -> dict:
    """``results`` with ``generation["by_judge"]`` set to ``by_judge`` (from :func:`generation_by_judges`)
    and its verdicts those of every judge (:func:`verdicts`)."""
    out = {**results, "generation": {**results["generation"], "by_judge": by_judge}}
    out["verdicts"] = verdicts(out)
    return out


def main(argv=None) -> None:
    """``python -m audiogen_lib.experiments.claims --out FILE [--config paper] [--profile book]``: the
    generation claim's evidence by both judges (:func:`generation_by_judges`) for the models of the
    profile, written with its provenance and the weights it was measured on."""
    import argparse
    import json
    import sys

    from ..config import get_config, get_profile
    from ..features import load_features
    from ..files import atomic_write
    from ..generation import provenance
    from ..judges import load_judges
    from ..models import weights_sha256
    from .audio import phase_method
    from .study_models import get_models

    parser = argparse.ArgumentParser(prog="python -m audiogen_lib.experiments.claims", description=main.__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--config", default="paper")
    parser.add_argument("--profile", default="book")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    command = " ".join(["python -m audiogen_lib.experiments.claims", *(sys.argv[1:] if argv is None else argv)])
    config, profile = get_config(args.config), get_profile(args.profile)
    train = load_features("train", config=config).subset(profile.n_train)
    test = load_features("test", config=config).subset(profile.n_test)
    models = get_models(config.name, profile=profile, seed=args.seed)
    judges = load_judges(config.name)
    by_judge = generation_by_judges(models["vae"], train, test, judges, n_samples=len(test), n_iter=profile.n_iter,
                                    seed=args.seed)
    out = {"by_judge": by_judge, "n_samples": len(test), "n_iter": profile.n_iter, "seed": args.seed,
           "phase_method": phase_method(), "config": config.name, "profile": profile.name,
           "models": {"vae": weights_sha256(models["vae"]), "classifier": weights_sha256(models["classifier"]),
                      "judges": {name: j.weights_sha256 for name, j in judges.items()}},
           "provenance": provenance(command)}
    with atomic_write(args.out) as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps({name: rows[PRIOR]["inception_score_ci"] for name, rows in by_judge.items()}, indent=1))


if __name__ == "__main__":
    main()
