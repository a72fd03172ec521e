"""The rate-distortion sweep: its rate is the KL in nats, its choice follows its written rule, and it
refuses what it cannot do before training anything."""

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


def test_the_sweep_writes_every_point_chooses_by_its_rule_and_reads_no_test_clip_early(tmp_path, monkeypatch, spy):
    """Two points at the spy's tiny size (tests/split_spy.py): the rule, the sets, the references; and no
    test clip is read but each trained model's final score on its card, after its fit."""
    from split_spy import TINY

    from audiogen_lib.classifier import audio_to_probabilities
    from audiogen_lib.metrics import inception_score
    from audiogen_lib.pretrained import load_pretrained

    scored = []            # the sets each point is actually fitted and scored on
    real_measure = sweep.measure_point

    def measure_point(vae, classifier, train, split, **kwargs):
        scored.append((train, split))
        return real_measure(vae, classifier, train, split, **kwargs)

    monkeypatch.setattr(sweep, "measure_point", measure_point)
    out = tmp_path / "sweep.json"
    result = sweep.run_sweep(out, betas=(1.0, 50.0), profile=TINY, epochs=1, work_dir=tmp_path / "work",
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
    # the reference is the real validation audio's inception score, recomputed here from the set scored
    validation = scored[0][1]
    probs = audio_to_probabilities(load_pretrained("classifier", "paper"), validation.waveforms)
    assert result["reference"]["real validation audio"]["inception_score"] == pytest.approx(inception_score(probs),
                                                                                            rel=1e-6)
    d = math.prod(get_config("paper").shape)
    for p in result["points"]:
        assert p["alpha_equivalent"] == pytest.approx(d / (p["beta"] * p["rmse"]))
        assert p["kl_nats"] >= 0 and set(p["samplers"]) == set(sweep.SWEEP_SAMPLERS)
        for s in p["samplers"].values():
            assert sum(s["histogram"]) == result["settings"]["n_samples"]
    best = min(result["points"], key=lambda p: min(s["frechet"] for s in p["samplers"].values()))
    assert result["choice"]["beta"] == best["beta"]
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
