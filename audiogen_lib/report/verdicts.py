"""The study's claims judged: the verdict rule, the verdicts as tables and prose, a results file judged again.

Public names
------------
verdict_table          the study's claims: the difference that tests each, its interval, the verdict (Markdown)
verdict_rule           the rule that turns an interval into a verdict, in words
held_up                "what held up, what did not, what is open", built from the verdicts (Markdown)
claims_table           claim, estimate, interval, verdict and the verdict with speakers resampled (Markdown)
seeds_table            each training seed's estimate of each claim (Markdown), when several were trained
rejudge, rejudge_file  a results file judged again by today's rules from its own numbers, the change recorded

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import json
from pathlib import Path

from .formatting import _ci, _fmt, _table


def verdict_rule() -> str:
    """The verdict rule in a few sentences (the same words as :func:`audiogen_lib.stats.verdict`,
    :func:`audiogen_lib.stats.equivalence` and :func:`audiogen_lib.experiments.convergence_verdict`)."""
    from ..experiments import EQUIVALENCE_MARGIN_PESQ

    return ("A claim of a difference **holds** when the 95% interval of the difference that tests it lies "
            "entirely on the side the claim puts it, **does not hold** when it lies entirely on the other side, and "
            "is **inconclusive** when it contains zero. A claim of *no* difference holds when the 90% interval lies "
            f"within the margin (+-{EQUIVALENCE_MARGIN_PESQ:g} PESQ: two one-sided tests) and does not hold when it "
            "lies entirely outside it. The convergence claim is read from the validation curves; where an epoch cap "
            "ended a run and its bound does not decide, it **cannot be reached**. The intervals cover new recordings "
            "by the same six speakers.")


def verdict_table(results: dict) -> str:
    rows = []
    for v in results["verdicts"]:
        side = {"positive": "> 0", "negative": "< 0", "equivalent": "within the margin"}.get(v["claimed"], "numbers")
        interval = (f"{_ci(v['interval'], '+.3f')} ({v['interval'].get('level', 0.95):.0%}, {v['basis']})"
                    if v["interval"] else f"– ({v['basis']})")
        rows.append([v["claim"], f"{v['measure']} (claimed {side})", interval,
                     f"**{v['verdict']}**", v["evidence"]])
    return _table(["claim", "the difference that tests it", "interval", "verdict", "the numbers"], rows)


def held_up(results: dict) -> str:
    """Three short paragraphs, what held up, what did not and what is open, from ``results["verdicts"]``."""
    from ..stats import CENSORED

    groups = {"holds": [], "does not hold": [], "inconclusive": [], CENSORED: []}
    for v in results["verdicts"]:
        groups[v["verdict"]].append(v)
    titles = {"holds": "What held up", "does not hold": "What did not",
              "inconclusive": "What the numbers cannot decide", CENSORED: "What the runs cannot reach (epoch caps)"}
    parts = []
    for verdict, items in groups.items():
        if not items and verdict == CENSORED:
            continue
        if not items:
            parts.append(f"**{titles[verdict]}.** Nothing.")
            continue
        lines = "; ".join(f"{v['claim'].rstrip('.')} ("
                          + (f"interval {_ci(v['interval'], '+.3f')}, " if v["interval"] else "")
                          + f"{v['basis']})" for v in items)
        parts.append(f"**{titles[verdict]}.** {lines}.")
    return "\n\n".join(parts) + "\n"


def claims_table(results: dict, check: dict | None = None) -> str:
    """Claim, estimate, interval, verdict, and the verdict when speakers are resampled (Markdown).

    ``check`` is :func:`audiogen_lib.experiments.speaker_check` of the same results (computed
    here when the results cover every test clip, else that column says why it is missing).
    """
    from .. import experiments as ex
    from ..errors import AudiogenError

    if check is None:
        try:
            check = ex.speaker_check(results)
        except AudiogenError:
            check = {}
    rows = []
    for v in results["verdicts"]:
        s = check.get(v["id"])
        iv = v["interval"]
        rows.append([v["claim"], _fmt(iv["estimate"], "+.3f") if iv else
                     ", ".join(f"{k} {_fmt(r['epochs_to_plateau'], 'd')}" for k, r in results["convergence"].items()
                               if k in ("unet", "vae")),
                     f"{_ci(iv, '+.3f')} ({iv.get('level', 0.95):.0%}, {v['basis']})" if iv else f"– ({v['basis']})",
                     f"**{v['verdict']}**",
                     (f"{_ci(s['interval'], '+.3f')}: **{s['verdict']}** (over clips: {s['clips_verdict']})"
                      if s else "not applicable" if v["id"] in check else "needs every test clip")])
    return _table(["claim", "estimate", "interval", "verdict", "speakers resampled (seed 0)"], rows)


def seeds_table(results: dict) -> str:
    seeds = results.get("seeds") or []
    if not seeds:
        return ""
    claims = list(seeds[0]["estimates"])
    rows = [[str(s["seed"])] + [_fmt(s["estimates"][c], "+.3f") for c in claims] +
            [" / ".join(_fmt(s["training_wall_time_s"][k], ".0f") for k in ("vae", "unet", "unet_noskip"))]
            for s in seeds]
    return _table(["seed"] + claims + ["training wall time, s (VAE / U-Net / no skips), measured"], rows)


def rejudge(results: dict, *, command: str) -> dict:
    """``results`` judged again by today's rules, from its own per-clip numbers; the change is recorded.

    Where seed 0's models are the shipped ones (the weights' sha256 in ``results["models"]``
    match the shipped cards), the convergence rows are read again from those cards, so that
    they carry the censoring the rule needs. The verdicts and the speaker check are recomputed;
    ``results["rejudged"]`` records the command, date, commit and what was recomputed. Nothing
    measured (scores, intervals over clips, seed estimates) is changed.
    """
    from .. import experiments as ex
    from ..generation import provenance
    from ..pretrained import available, card

    out = json.loads(json.dumps(results))
    cfg = out["config"]["name"]
    shipped = all(f"{n}_{cfg}" in available() and card(n, cfg).get("weights_sha256") ==
                  out["models"].get(n, {}).get("weights_sha256") for n in ex.MODEL_NAMES)
    redone = ["verdicts", "speaker_check"]
    if shipped:
        cards = {n: card(n, cfg) for n in ex.MODEL_NAMES}
        vae_best = min(ex.convergence._val_rmse(cards["vae"]["history"]))
        out["convergence"] = {n: ex.convergence_row(c, vae_best=vae_best) for n, c in cards.items()}
        redone.insert(0, "convergence (from the shipped cards: the same weights, sha256 checked)")
    out["verdicts"] = ex.verdicts(out)
    out["speaker_check"] = ex.speaker_check(out)
    out["rejudged"] = {**provenance(command), "recomputed": redone,
                       "note": "the measurements are those of the run in 'provenance'; only what is listed in "
                               "'recomputed' was computed again, from them, by the command above"}
    return out


def rejudge_file(path: str | Path) -> Path:
    """:func:`rejudge` a results file in place (written whole or not at all), recording this very call."""
    from ..files import atomic_write

    path = Path(path)
    out = rejudge(json.loads(path.read_text()),
                  command=f"python -c 'from audiogen_lib import report; report.rejudge_file(\"{path}\")'")
    with atomic_write(path) as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    return path
