"""The goals of a VAE that generates, each measured with its interval: met, missed or undecided.

A goal is met or missed by where the 95% interval of its measure lies against the goal
(:func:`audiogen_lib.stats.goal_status`), undecided while the interval straddles it.

Public names
------------
GOALS                  the goals: inception scores, the rarest digit's share, the digit asked for heard
generation_goals       each goal measured (``audiogen generate --evaluate`` JSONs, VAEs against PCA)
goals_table            those rows as Markdown

Notebook: notebooks/09_listening_experiments.ipynb
"""

from __future__ import annotations

import numpy as np

from ..experiments import PCA_COMPONENTS, summary_key
from ..stats import goal_status
from .formatting import _table, interval_text


GOALS = {"unconditional_is": 8.0, "digit_share": 0.05, "conditional_asked": 0.95, "conditional_is": 9.0}


def _share_interval(k: int, n: int, seed: int = 0) -> dict:
    """A proportion ``k / n`` with its bootstrap interval over the ``n`` sounds."""
    from ..stats import bootstrap_mean

    return bootstrap_mean(np.r_[np.ones(k), np.zeros(n - k)], seed=seed).to_dict()


def generation_goals(sampling: dict, reconstruction: dict | None = None) -> list[dict]:
    """The goals of a VAE that generates, each measured on the test split with its interval and status.

    ``sampling``: model name -> the JSON of ``audiogen generate --evaluate`` (each model's sampler
    is the one its validation codes chose); ``reconstruction``: the result of
    :func:`audiogen_lib.experiments.experiment_vae_reconstruction`. Rows: ``goal``, ``model``,
    ``measured`` (text), ``status`` (:func:`goal_status`).
    """
    rows = []
    for name, res in sampling.items():
        best = res["validation"]["best"]
        row = res["test"][best]
        hist = np.asarray(row["histogram"])
        label = f"{name} ({best} sampler)"
        conditional = res.get("conditional", False)
        # A conditional VAE asked for each digit equally often is also an unconditional generator
        # (the digit drawn uniformly, then the code): its sounds answer both goals.
        is_goals = ([("unconditional: the digit drawn uniformly, then the code", GOALS["unconditional_is"]),
                     ("each digit asked for equally often", GOALS["conditional_is"])] if conditional
                    else [("unconditional", GOALS["unconditional_is"])])
        for what, is_goal in is_goals:
            rows.append({"goal": f"inception score >= {is_goal:g} ({what})", "model": label,
                         "measured": interval_text(row["inception_score"], ".2f"),
                         "status": goal_status(row["inception_score"], is_goal)})
        low = int(hist.argmin())
        share = _share_interval(int(hist[low]), int(hist.sum()))
        rows.append({"goal": f"every digit heard in >= {GOALS['digit_share']:.0%} of the sounds", "model": label,
                     "measured": f"rarest, {low}: {interval_text(share, '.1%')}",
                     "status": goal_status(share, GOALS["digit_share"])})
        if conditional:
            k = int(round(row["heard_as_asked"] * row["n"]))
            asked = _share_interval(k, row["n"])
            rows.append({"goal": f"the digit asked for is heard in >= {GOALS['conditional_asked']:.0%}",
                         "model": label, "measured": interval_text(asked, ".1%"),
                         "status": goal_status(asked, GOALS["conditional_asked"])})
        floor = res["frechet_floors"]["train_subsets"]
        fd = row.get("frechet_to_test")
        rows.append({"goal": "Fréchet distance to real test audio, near the real-vs-real floor", "model": label,
                     "measured": f"{interval_text(fd, ',.0f')} (floor {interval_text(floor, ',.0f')})",
                     "status": "reported"})
    if reconstruction is not None:
        goals = reconstruction["goal_values"]
        for name, diffs in reconstruction["differences"].items():
            r = reconstruction["rows"][name]
            for metric, what, spec in (("pesq", "PESQ-NB", ".2f"), ("digit_correct", "digit accuracy", ".1%")):
                key = summary_key(metric)
                rows.append({"goal": f"reconstruction {what} >= {goals[metric]:{spec}}",
                             "model": name, "measured": interval_text(r[f"{key}_ci"], spec),
                             "status": goal_status(r[f"{key}_ci"], goals[metric])})
                d = diffs[metric]
                rows.append({"goal": f"reconstruction {what} better than PCA-{PCA_COMPONENTS}",
                             "model": name, "measured": interval_text(d, "+" + spec),
                             "status": {"holds": "met", "does not hold": "missed"}.get(d["verdict"], "undecided")})
    return rows


def goals_table(rows: list[dict]) -> str:
    """:func:`generation_goals` as Markdown."""
    return _table(["goal", "model", "measured on test, 95% interval", "status"],
                  [[r["goal"], r["model"], r["measured"], f"**{r['status']}**"] for r in rows])
