"""The rate-distortion sweep: its rate is the KL in nats, its choice follows its written rule, and it
refuses what it cannot do before training anything."""

import dataclasses
import json
import math
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import AudiogenError, sweep  # noqa: E402
from audiogen_lib.cli import main  # noqa: E402
from audiogen_lib.config import get_config  # noqa: E402


class FakeEncoder:
    def __init__(self, mu, log_var):
        self.mu, self.log_var = mu, log_var

    def predict(self, x, batch_size=None, verbose=0):
        return self.mu, self.log_var


class FakeVAE:
    n_classes = 0

    def __init__(self, mu, log_var):
        self.encoder = FakeEncoder(mu, log_var)


def test_kl_nats_is_the_closed_form_summed_over_dimensions():
    x = np.zeros((3, 4, 4, 1))
    assert sweep.kl_nats(FakeVAE(np.zeros((3, 8)), np.zeros((3, 8))), x) == pytest.approx(0.0)
    # mu = 1 in every one of 8 dimensions, unit variance: 8 * 1/2 nats
    assert sweep.kl_nats(FakeVAE(np.ones((3, 8)), np.zeros((3, 8))), x) == pytest.approx(4.0)
    # variance e^-2, mu = 0: 1/2 (e^-2 - 1 + 2) per dimension
    log_var = np.full((3, 8), -2.0)
    assert sweep.kl_nats(FakeVAE(np.zeros((3, 8)), log_var), x) == pytest.approx(8 * 0.5 * (math.exp(-2) + 1))


def _point(beta, kids):
    """A sweep point whose two samplers have the KIDs ``kids[sampler][judge]``."""
    return {"beta": beta, "samplers": {kind: {name: {"kid": {"estimate": k}} for name, k in by_judge.items()}
                                       for kind, by_judge in kids.items()}}


def test_the_choice_is_the_setting_whose_worse_rank_by_the_two_judges_is_best():
    # beta 1 is the CNN's favourite and the MFCC judge's last; beta 4 the reverse; beta 2 is second by both
    points = [_point(1.0, {"prior": {"cnn": 0.1, "mfcc": 9.0}}),
              _point(2.0, {"prior": {"cnn": 0.2, "mfcc": 0.2}}),
              _point(4.0, {"prior": {"cnn": 9.0, "mfcc": 0.1}})]
    choice = sweep.choose(points)
    assert (choice["beta"], choice["sampler"]) == (2.0, "prior")
    assert choice["split"] == "validation" and choice["rule"] == sweep.CHOICE_RULE
    assert {r["beta"]: (r["rank_cnn"], r["rank_mfcc"]) for r in choice["ranks"]} == {1.0: (1, 3), 2.0: (2, 2),
                                                                                     4.0: (3, 1)}
    # a tie in the worse rank goes to the setting with the better other rank, and each sampler is a setting
    points = [_point(1.0, {"prior": {"cnn": 0.3, "mfcc": 0.5}, "gaussian": {"cnn": 0.1, "mfcc": 0.6}}),
              _point(2.0, {"prior": {"cnn": 0.2, "mfcc": 0.4}, "gaussian": {"cnn": 0.4, "mfcc": 0.1}})]
    # ranks (cnn, mfcc): 1/prior (3, 3), 1/gaussian (1, 4), 2/prior (2, 2), 2/gaussian (4, 1)
    assert (sweep.choose(points)["beta"], sweep.choose(points)["sampler"]) == (2.0, "prior")
    points[1]["samplers"]["prior"] = {"cnn": {"kid": {"estimate": 0.35}}, "mfcc": {"kid": {"estimate": 0.55}}}
    # now 1/prior (2, 2) and 2/prior (3, 3)
    assert (sweep.choose(points)["beta"], sweep.choose(points)["sampler"]) == (1.0, "prior")


def test_the_sweep_writes_every_point_chooses_by_its_rule_and_reads_no_test_clip_early(tmp_path, monkeypatch, spy):
    """Two points at the spy's tiny size (tests/split_spy.py): the rule, the sets, the references; and no
    test clip is read but each trained model's final score on its card, after its fit."""
    from split_spy import TINY

    from audiogen_lib.classifier import audio_to_probabilities
    from audiogen_lib.metrics import inception_score
    from audiogen_lib.pretrained import load_pretrained

    scored = []            # the sets each point is actually fitted and scored on
    real_measure = sweep.measure_point

    def measure_point(vae, judges, train, split, **kwargs):
        scored.append((train, split))
        return real_measure(vae, judges, train, split, **kwargs)

    monkeypatch.setattr(sweep, "measure_point", measure_point)
    out = tmp_path / "sweep.json"
    # 12 validation clips and samples: the low-dimensional Fréchet distance needs more than its 8 components
    profile = dataclasses.replace(TINY, n_test=12)
    result = sweep.run_sweep(out, betas=(1.0, 50.0), profile=profile, epochs=1, work_dir=tmp_path / "work",
                             command="audiogen sweep --profile smoke", progress=lambda *_: None)
    # the only test reads are each trained vae_gen card's final score, each after its own model's fit
    # and before the next point trains; the sweep's own scores and choice read validation only (below)
    events = [kind for kind, *_ in spy.events]
    assert events == ["fit_end", "test_read"] * 2, spy.events
    assert [w for w, _ in spy.test_reads()] == ["load_features('test')"] * 2
    assert json.loads(out.read_text())["choice"] == result["choice"]
    assert [p["beta"] for p in result["points"]] == [1.0, 50.0]
    # every point is scored on validation takes (5-9) and its densities fitted on training takes (10-49), and the
    # split record counts the clips those sets really held
    assert len(scored) == 2
    for train, split in scored:
        assert {r.take for r in split.recordings} <= set(range(5, 10))
        assert min(r.take for r in train.recordings) >= 10
        assert result["settings"]["splits"] == {"train": len(train), "validation": len(split)}
    # the reference is the real validation audio as the CNN hears it, recomputed here from the set scored
    validation = scored[0][1]
    probs = audio_to_probabilities(load_pretrained("classifier", "paper"), validation.waveforms)
    real = result["reference"]["real validation audio"]["judges"]
    assert set(real) == {"cnn", "mfcc"}
    assert real["cnn"]["inception_score"]["estimate"] == pytest.approx(inception_score(probs), rel=1e-6)
    assert real["cnn"]["histogram"] == np.bincount(probs.argmax(-1), minlength=10).tolist()
    d = math.prod(get_config("paper").shape)
    for p in result["points"]:
        assert p["alpha_equivalent"] == pytest.approx(d / (p["beta"] * p["rmse"]))
        assert p["kl_nats"] >= 0 and set(p["samplers"]) == set(sweep.SWEEP_SAMPLERS)
        for judged in p["samplers"].values():
            assert set(judged) == {"cnn", "mfcc"}
            for s in judged.values():
                assert sum(s["histogram"]) == result["settings"]["n_samples"]
                assert s["kid"]["low"] <= s["kid"]["estimate"] <= s["kid"]["high"]
    # the floor has as many real clips as a point has samples
    assert sum(real["mfcc"]["real_training_clips"]["histogram"]) == result["settings"]["n_samples"]
    settings = [(p["beta"], p["samplers"][k]) for p in result["points"] for k in sweep.SWEEP_SAMPLERS]
    worst = [max(sum(o["cnn"]["kid"]["estimate"] < s["cnn"]["kid"]["estimate"] for _, o in settings),
                 sum(o["mfcc"]["kid"]["estimate"] < s["mfcc"]["kid"]["estimate"] for _, o in settings))
             for _, s in settings]
    assert result["choice"]["beta"] in {b for (b, _), w in zip(settings, worst) if w == min(worst)}
    assert result["provenance"]["command"] == "audiogen sweep --profile smoke"
    assert "study VAE" not in result["reference"]  # smoke models are not the shipped ones
    # a second run reuses the trained models: the same numbers
    again = sweep.rate_distortion((1.0,), profile="smoke", epochs=1, work_dir=tmp_path / "work",
                                  progress=lambda *_: None)
    assert again["points"][0]["weights_sha256"] == result["points"][0]["weights_sha256"]


@pytest.mark.parametrize("argv, message", [
    (["--beta", "0"], "every beta must be a positive number"),
    (["--out", "{tmp}/sweep.txt"], "ending in .json"),
    (["--out", "{tmp}/missing/sweep.json"], "does not exist"),
])
def test_sweep_refuses_bad_settings_before_training(argv, message, tmp_path, capsys):
    args = ["sweep", "--profile", "smoke", "--out", str(tmp_path / "s.json")]
    args += [a.format(tmp=tmp_path) for a in argv]
    assert main(args) == 2
    assert message in capsys.readouterr().err
    assert not list(tmp_path.iterdir())
