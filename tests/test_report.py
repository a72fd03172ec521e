import pytest

from audiogen_lib import report


def ci(estimate, low, high):
    return {"estimate": estimate, "low": low, "high": high, "n": 300, "method": "test", "level": 0.95}


VERDICTS = [
    {"id": "a", "claim": "A is better.", "measure": "A minus B", "claimed": "positive", "interval": ci(1.2, 1.1, 1.3),
     "basis": "test clips", "verdict": "holds", "evidence": "numbers"},
    {"id": "b", "claim": "B is robust.", "measure": "B minus A", "claimed": "negative", "interval": ci(0.03, 0.02, 0.04),
     "basis": "test clips", "verdict": "does not hold", "evidence": "numbers"},
    {"id": "c", "claim": "C is fast.", "measure": "epochs", "claimed": "positive", "interval": None,
     "basis": "one training seed: no interval", "verdict": "inconclusive", "evidence": "numbers"},
]


def test_verdict_table_prints_each_interval_and_side():
    table = report.verdict_table({"verdicts": VERDICTS})
    assert "+1.200 [+1.100, +1.300] (95%, test clips)" in table and "(claimed < 0)" in table
    assert "**inconclusive**" in table and table.count("\n") == 2 + len(VERDICTS)
    tost = dict(VERDICTS[0], claimed="equivalent", interval=dict(ci(0.02, -0.05, 0.08), level=0.90))
    assert "(90%, test clips)" in report.verdict_table({"verdicts": [tost]}) and "within the margin" in \
        report.verdict_table({"verdicts": [tost]})


def test_held_up_lists_the_claims_the_runs_cannot_reach():
    censored = dict(VERDICTS[2], verdict="cannot be reached")
    text = report.held_up({"verdicts": VERDICTS[:2] + [censored]})
    assert "What the runs cannot reach" in text and "C is fast" in text.split("\n\n")[-1]
    assert "cannot reach" not in report.held_up({"verdicts": VERDICTS})


def test_held_up_is_built_from_the_verdicts():
    text = report.held_up({"verdicts": VERDICTS})
    held, did_not, open_ = text.split("\n\n")
    assert held.startswith("**What held up.** A is better") and "B is robust" in did_not and "C is fast" in open_
    assert "What did not" in report.held_up({"verdicts": VERDICTS[:1]}) and "Nothing." in report.held_up({"verdicts": VERDICTS[:1]})


def test_ci_formatting():
    assert report._ci(ci(0.1234, 0.1, 0.15)) == "0.123 [0.100, 0.150]"
    assert report._ci(None) == "–"


def test_direction_follows_the_verdict_rule():
    words = dict(above="better", below="worse", across="level")
    assert report.direction(ci(0.2, 0.1, 0.3), **words) == "better"
    assert report.direction(ci(-0.2, -0.3, -0.1), **words) == "worse"
    assert report.direction(ci(0.1, -0.1, 0.3), **words) == "level" == report.direction(None, **words)


def test_labels_are_the_reports_and_cover_every_condition_and_reading():
    from audiogen_lib import experiments

    assert set(report.CONDITIONS) <= set(report.LABELS) and set(experiments.MODEL_NAMES) <= set(report.LABELS)
    assert tuple(report.READING_LABELS) == experiments.READINGS
    assert not hasattr(experiments, "LABELS")            # experiments returns data; words are the report's
    rob = {"input": {"input_change": ci(0.1, 0.09, 0.11)},
           **{m: {k: ci(0.02, 0.01, 0.03) for k in ("output_change", "error_clean", "error_perturbed", "degradation")}
              for m in experiments.MODEL_NAMES},
           "paired": {"unet_minus_vae": ci(0.01, 0.0, 0.02), "unet_noskip_minus_vae": ci(0.0, -0.01, 0.01)}}
    table = report.robustness_table({"robustness": {"bin": rob}})
    assert "independent per bin (dB)" in table and "*U-Net without skip connections minus VAE*" in table
    assert "one offset per clip" not in table            # readings not measured are left out


@pytest.mark.parametrize("low, high, status", [(8.1, 9.0, "met"), (7.0, 7.9, "missed"), (7.5, 8.5, "undecided")])
def test_a_goal_is_met_only_when_its_whole_interval_reaches_it(low, high, status):
    from audiogen_lib.report import goal_status

    assert goal_status({"estimate": (low + high) / 2, "low": low, "high": high}, 8.0) == status


def test_generation_goals_read_each_models_chosen_sampler():
    from audiogen_lib.report import generation_goals, goals_table

    ci = lambda e: {"estimate": e, "low": e - 0.2, "high": e + 0.2}  # noqa: E731
    res = {"validation": {"best": "gmm"}, "conditional": True,
           "frechet_floors": {"train_subsets": ci(480.0)},
           "test": {"gmm": {"inception_score": ci(9.5), "histogram": [30] * 10, "heard_as_asked": 0.99, "n": 300,
                            "frechet_to_test": ci(900.0)},
                    "prior": {"inception_score": ci(2.0), "histogram": [300] + [0] * 9, "n": 300}}}
    rows = generation_goals({"cvae": res})
    by_goal = {r["goal"].split(" (")[0]: r for r in rows}
    assert by_goal["inception score >= 9"]["status"] == "met" and "gmm" in by_goal["inception score >= 9"]["model"]
    assert by_goal["inception score >= 8"]["status"] == "met"  # its sounds are unconditional samples too
    assert by_goal["every digit heard in >= 5% of the sounds"]["status"] == "met"
    assert [r["status"] for r in rows if r["goal"].startswith("the digit asked for")] == ["met"]
    assert "| goal |" in goals_table(rows)


def test_rejudge_reads_the_shipped_cards_and_recomputes_only_the_verdicts():
    """results/paper_seeds.json judged by today's rules: the measurements untouched, the change recorded."""
    import json
    from pathlib import Path

    path = Path(__file__).parent.parent / "results" / "paper_seeds.json"
    before = json.loads(path.read_text())
    after = report.rejudge(before, command="test")
    for key in ("reconstruction", "per_clip", "robustness", "generation", "seeds", "provenance"):
        assert after[key] == before[key]
    assert after["convergence"]["unet"]["censored"] and after["rejudged"]["command"] == "test"
    v = {x["id"]: x for x in after["verdicts"]}
    assert v["convergence"]["verdict"] == "does not hold"           # the U-Net's bound is past "about 5"
    assert v["griffin_lim"]["interval"]["level"] == pytest.approx(0.90)
    table = report.claims_table(after, after["speaker_check"])
    assert table.count("\n") == 2 + len(after["verdicts"]) and "not applicable" in table
    assert "two-stage" in after["speaker_check"]["reconstruction"]["interval"]["method"]
    # the shipped file is today's judgement of its own numbers
    assert before["verdicts"] == after["verdicts"] and before["speaker_check"] == after["speaker_check"]
