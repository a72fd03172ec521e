"""The study's claims, and the verdict on each: paired differences between conditions and the written rule.

Public names
------------
CLAIMS, GENERATION_IS_THRESHOLD
comparisons             paired differences between conditions, per metric, with intervals
claim_estimates, verdicts   each claim's paired difference and the written rule's verdict on it

Notebook: notebooks/08_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..stats import Interval, bootstrap_statistic, paired_bootstrap, seed_spread, verdict
from .audio import _rmse_of
from .study_models import MODEL_NAMES


# The verdict on generation compares the inception score of prior samples with this written
# threshold (10 at most): the project's goal, set before measuring (../shared/MEASURED.md).
GENERATION_IS_THRESHOLD = 8.0


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
