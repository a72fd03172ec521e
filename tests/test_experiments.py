import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import AudiogenError, experiments  # noqa: E402
from audiogen_lib.config import get_config  # noqa: E402
from audiogen_lib.experiments import epochs_to_plateau, perturb_db, perturb_features, verdicts  # noqa: E402
from audiogen_lib.features import amplitude_to_db, normalise  # noqa: E402
from audiogen_lib.stats import VERDICTS  # noqa: E402


def clip_images(rng, n=4, config=get_config("paper")):
    """Normalised images as the pipeline makes them: each clip floored top_db below its peak."""
    S = rng.lognormal(mean=-4, sigma=2.5, size=(n, config.n_bins, config.n_frames))
    S_db = amplitude_to_db(S, config=config)
    x, lo, hi = normalise(S_db, config=config)
    assert np.allclose(hi - lo, config.top_db)
    return x[..., None], lo, hi


def test_one_offset_per_clip_is_removed_by_per_clip_normalisation(rng):
    config = get_config("paper")
    S_db = rng.uniform(-60, 20, size=(4, 256, 64)).astype("float32")
    shifted = perturb_db(S_db, mode="clip", seed=1)
    offsets = (shifted - S_db).reshape(4, -1)
    assert np.allclose(offsets, offsets[:, :1], atol=1e-4) and np.all(np.abs(offsets) <= 10)
    np.testing.assert_allclose(normalise(shifted, config=config)[0], normalise(S_db, config=config)[0], atol=1e-5)
    x, lo, hi = clip_images(rng)
    x_clip, _, _ = perturb_features(x, lo, hi, config=config, mode="clip")
    np.testing.assert_allclose(x_clip, x, atol=1e-5)


def test_per_bin_noise_changes_the_input(rng):
    config = get_config("paper")
    S_db = rng.uniform(-60, 20, size=(2, 256, 64)).astype("float32")
    noisy = perturb_db(S_db, mode="bin", max_db=10, seed=1)
    delta = noisy - S_db
    assert np.abs(delta).max() <= 10 and delta.std() == pytest.approx(20 / np.sqrt(12), rel=0.02)
    assert not np.allclose(normalise(noisy, config=config)[0], normalise(S_db, config=config)[0], atol=1e-2)
    with pytest.raises(AudiogenError, match="perturbation mode 'frame'"):
        perturb_db(S_db, mode="frame")


def test_the_floor_is_reapplied_after_per_bin_noise(rng):
    """With the pipeline's floor, a perturbed clip spans top_db again and its floor pixels are 0 again."""
    config = get_config("paper")
    x, lo, hi = clip_images(rng)
    floor = x[..., 0] == 0
    x_new, lo_new, hi_new = perturb_features(x, lo, hi, config=config, mode="bin", seed=3)
    np.testing.assert_allclose(hi_new - lo_new, config.top_db, atol=1e-3)
    assert np.all(x_new.min(axis=(1, 2, 3)) == 0) and np.all(x_new.max(axis=(1, 2, 3)) == 1)
    assert np.median(x_new[..., 0][floor]) == 0           # most of the floor stays at 0
    x_old, lo_old, hi_old = perturb_features(x, lo, hi, config=config, mode="bin", seed=3, reapply_floor=False)
    assert np.all(hi_old - lo_old > config.top_db + 5)     # up to top_db + 2 x 10 dB
    assert np.median(x_old[..., 0][floor]) == pytest.approx(10 / (config.top_db + 20), abs=0.02)


def test_the_units_reading_adds_in_image_units_and_clips(rng):
    config = get_config("paper")
    x, lo, hi = clip_images(rng, n=2)
    x_units, lo_u, hi_u = perturb_features(x, lo, hi, config=config, mode="units", max_db=10, seed=0)
    assert x_units.min() == 0 and x_units.max() == 1 and np.mean((x_units == 0) | (x_units == 1)) > 0.85
    np.testing.assert_array_equal(lo_u, lo)
    with pytest.raises(AudiogenError, match="reading 'volume'"):
        perturb_features(x, lo, hi, config=config, mode="volume")


@pytest.mark.parametrize("values, expected", [
    ([5, 3, 2, 1.01, 1.0, 1.0], 4),          # 1.01 is within 2% of the 4.0 of total improvement
    ([5, 3, 2, 1.2, 1.0, 1.0], 5),           # 0.2 is 5% of it: not yet
    ([1.0, 2, 3], 1), ([3, 2, 1], 3),
    ([10, 5, 4, 6, 7, 3.9, 3.95], 3),        # a later rise does not undo a plateau reached (running best)
])
def test_epochs_to_plateau(values, expected):
    assert epochs_to_plateau(values) == expected


def test_the_plateau_of_a_longer_run_comes_no_earlier():
    """Why a censored run's plateau epoch is a lower bound: more epochs can only lower the best."""
    rng = np.random.default_rng(0)
    curve = 0.04 + 0.1 * np.exp(-np.arange(300) / 40) + rng.normal(0, 1e-4, 300)
    plateaus = [epochs_to_plateau(curve[:cap]) for cap in (30, 60, 150, 300)]
    assert plateaus == sorted(plateaus) and plateaus[0] < plateaus[-1]


@pytest.mark.parametrize("epochs_run, cap, best, patience, censored", [
    (30, 30, 27, 3, True), (150, 150, 149, 10, True), (30, 30, 26, 3, False),
    (141, 150, 131, 10, False), (17, 30, 15, 3, False)])
def test_a_run_its_cap_ended_is_censored(epochs_run, cap, best, patience, censored):
    assert experiments.is_censored(epochs_run=epochs_run, cap=cap, best_epoch=best, patience=patience) is censored


def conv_row(plateau, *, censored):
    return {"epochs_to_plateau": plateau, "censored": censored}


@pytest.mark.parametrize("unet, vae, expected", [
    (conv_row(4, censored=False), conv_row(120, censored=False), "holds"),
    (conv_row(20, censored=False), conv_row(120, censored=False), "does not hold"),   # the study's number, not the sign
    (conv_row(4, censored=False), conv_row(40, censored=False), "does not hold"),
    (conv_row(4, censored=True), conv_row(120, censored=False), "cannot be reached"),  # a longer run could plateau later
    (conv_row(20, censored=True), conv_row(99, censored=True), "does not hold"),       # the bound already refutes "5"
    (conv_row(4, censored=False), conv_row(40, censored=True), "cannot be reached"),   # the VAE's bound is too low to say
    (conv_row(4, censored=False), conv_row(99, censored=True), "holds"),               # ... or high enough
    ({"epochs_to_plateau": 4}, conv_row(120, censored=False), "cannot be reached"),    # censoring not recorded
])
def test_convergence_verdict_tests_the_study_numbers_and_censoring(unet, vae, expected):
    assert experiments.convergence_verdict({"unet": unet, "vae": vae})[0] == expected


def test_the_shipped_paper_runs_are_censored_and_the_unet_does_not_plateau_in_5_epochs():
    """The shipped cards' own histories: both runs end at their caps; the U-Net's bound is far above 10."""
    from audiogen_lib import pretrained

    vae_best = min(pretrained.card("vae", "paper")["history"]["val_reconstruction"])
    rows = {n: experiments.convergence_row(pretrained.card(n, "paper"), vae_best=vae_best) for n in ("unet", "vae")}
    assert rows["unet"]["censored"] and rows["vae"]["censored"]
    assert rows["unet"]["epochs_to_plateau"] > 10 and rows["vae"]["epochs_to_plateau"] >= 75
    assert rows["unet"]["epochs_to_vae_best"] <= 5          # what the study may have seen: the VAE's best, early
    assert experiments.convergence_verdict(rows) == ("does not hold", {"unet": "does not hold", "vae": "holds"})


# --- generation: the decode range -------------------------------------------------------------

class FakeVAE:
    latent_dim = 4

    def __init__(self, card=None):
        self.card = card or {}
        self.feature_config = get_config("paper")
        self.decoder = self

    def predict(self, z, **kwargs):
        return np.full((len(z), 256, 64, 1), 0.5, np.float32)


class FakeSet:
    def __init__(self, db_max):
        self.db_max = np.asarray(db_max, float)


def test_generated_images_are_read_in_a_top_db_wide_range(monkeypatch):
    config = get_config("paper")
    from_card = experiments.generation_db_range(
        FakeVAE({"normalisation": {"generation_db_range": [-61.5, 18.5]}}), config=config)
    assert from_card["db_range"] == [-61.5, 18.5] and from_card["source"] == "the model card"
    fallback = experiments.generation_db_range(FakeVAE(), config=config, train=FakeSet([10.0, 20.0, 30.0]))
    lo, hi = fallback["db_range"]
    assert hi == 20.0 and hi - lo == config.top_db and "median peak" in fallback["source"]
    wrong = {"normalisation": {"generation_db_range": [-60.0, 40.0]}}       # not top_db wide: not used
    assert experiments.generation_db_range(FakeVAE(wrong), config=config, train=FakeSet([5.0]))["db_range"] == [-75.0, 5.0]

    # decoding goes through reconstruction.latents_to_audio, in the card's range
    from audiogen_lib import reconstruction

    seen = {}
    monkeypatch.setattr(reconstruction, "features_to_audio",
                        lambda x, **kw: seen.update(kw) or np.zeros((len(x), config.n_samples)))
    images, y = experiments.decode_to_audio(FakeVAE({"normalisation": {"generation_db_range": [-70.0, 10.0]}}),
                                            np.zeros((2, 4), np.float32), config=config, n_iter=1)
    assert (seen["db_min"], seen["db_max"]) == (-70.0, 10.0) and seen["method"] == reconstruction.DEFAULT_METHOD
    assert seen["n_iter"] is None                 # n_iter is the random-start Griffin-Lim's only
    assert images.shape == (2, 256, 64, 1) and y.shape == (2, config.n_samples)
    with pytest.raises(AudiogenError, match="low < high"):
        reconstruction.latents_to_audio(FakeVAE(), np.zeros((1, 4)), config=config, db_range=(10.0, -70.0))


# --- verdicts -----------------------------------------------------------------------------------

def fake_results(rng, *, lead=1.0, unet_degrades=0.03, zero_phase_gap=-1.2, prior_is=4.0, n=200):
    """Results as `measure` writes them, with per-clip numbers drawn around chosen differences."""
    def noise(sd):  # centred, so that each mean difference is exactly the one chosen
        e = rng.normal(0, sd, n)
        return e - e.mean()

    base = rng.normal(2.0, 0.4, n)
    pesq = {"vae": base, "unet": base + lead + noise(0.2), "unet_noskip": base + 0.2 * lead + noise(0.2),
            "ceiling": base + 1.5, "zero_phase": base + 1.5 + zero_phase_gap + noise(0.2)}
    pesq["vae"][:3] = np.nan                            # unscored clips
    per_clip = {c: {"pesq": v.tolist(), "lsd_db": (10 - v).tolist(), "rmse": np.abs(0.05 - v / 100).tolist()}
                for c, v in pesq.items()}
    rec = {c: {"pesq": float(np.nanmean(v)), "rmse": float(np.nanmean(np.abs(0.05 - v / 100)))} for c, v in pesq.items()}
    deg_vae = rng.normal(0.02, 0.01, n)
    interval = lambda v: {"estimate": float(np.mean(v)), "low": 0.0, "high": 0.0, "n": n, "method": "", "level": 0.95}  # noqa: E731
    rob = {mode: {"per_clip": {"vae": deg_vae.tolist(), "unet": (deg_vae + unet_degrades + noise(0.01)).tolist(),
                               "unet_noskip": deg_vae.tolist()},
                  **{m: {"degradation": interval(deg_vae), "error_clean": interval(deg_vae)} for m in experiments.MODEL_NAMES}}
           for mode in ("clip", "bin", "units")}
    conv = {"vae": {"epochs_to_plateau": 40, "seconds_to_plateau": 400, "epochs_to_vae_best": 40},
            "unet": {"epochs_to_plateau": 4, "seconds_to_plateau": 100, "epochs_to_vae_best": 2}}
    gen = {"rows": {name: {"inception_score_ci": {"estimate": v, "low": v - 0.3, "high": v + 0.3, "n": 300,
                                                  "method": "", "level": 0.95}}
                    for name, v in (("prior N(0, I)", prior_is), ("real test audio", 9.5))}}
    return {"reconstruction": rec, "per_clip": per_clip, "robustness": rob, "convergence": conv, "generation": gen}


def by_claim(results):
    return {v["id"]: v for v in verdicts(results)}


def test_verdicts_follow_the_paired_differences(rng):
    v = by_claim(fake_results(rng))
    assert set(v) == set(experiments.CLAIMS)
    assert v["reconstruction"]["verdict"] == "holds" and v["robustness"]["verdict"] == "does not hold"
    assert v["generation"]["verdict"] == "does not hold" and v["griffin_lim"]["verdict"] == "does not hold"
    assert v["skip_connections"]["verdict"] == "holds"
    assert v["convergence"]["verdict"] == "cannot be reached" and v["convergence"]["interval"] is None  # not recorded
    assert v["reconstruction"]["interval"]["n"] == 197                                            # NaN clips left out

    flipped = by_claim(fake_results(rng, lead=-1.0, unet_degrades=-0.03, zero_phase_gap=0.0, prior_is=9.0))
    assert flipped["reconstruction"]["verdict"] == "does not hold" and flipped["robustness"]["verdict"] == "holds"
    assert flipped["griffin_lim"]["verdict"] == "holds" and flipped["generation"]["verdict"] == "holds"
    assert flipped["griffin_lim"]["interval"]["level"] == pytest.approx(0.90)   # TOST reads a 90% interval
    noise = by_claim(fake_results(rng, lead=0.0, unet_degrades=0.0, zero_phase_gap=0.1, prior_is=8.0))
    assert {noise[k]["verdict"] for k in ("reconstruction", "robustness", "griffin_lim", "generation")} == {"inconclusive"}


def test_speaker_check_resamples_speakers_and_can_overturn_a_verdict(rng):
    """One speaker carries the whole U-Net lead: the clips say 'holds', the speakers do not."""
    results = fake_results(rng, lead=0.0, n=300)
    speakers = list(np.repeat(list("abcdef"), 50))
    unet = np.asarray(results["per_clip"]["unet"]["pesq"])
    unet[:50] += 1.0
    results["per_clip"]["unet"]["pesq"] = unet.tolist()
    check = experiments.speaker_check(results, speakers=speakers)
    assert check["generation"] is None and check["convergence"] is None
    assert check["reconstruction"]["clips_verdict"] == "holds"
    assert check["reconstruction"]["verdict"] == "inconclusive"
    assert check["griffin_lim"]["interval"]["level"] == pytest.approx(0.90)
    with pytest.raises(AudiogenError, match="not the 300 test clips"):
        experiments.clip_speakers(fake_results(rng, n=16))
    assert experiments.clip_speakers(fake_results(rng, n=300))[:3] == ["george", "george", "george"]


def test_verdicts_by_judges_holds_only_when_every_judge_agrees(rng):
    one = verdicts(fake_results(rng))
    other = [dict(v, verdict="does not hold") if v["id"] == "reconstruction" else v for v in one]
    both = {v["id"]: v for v in experiments.verdicts_by_judges({"cnn": one, "mfcc": other})}
    assert both["reconstruction"]["verdict"] == "inconclusive"
    assert both["reconstruction"]["by_judge"] == {"cnn": "holds", "mfcc": "does not hold"}
    assert both["skip_connections"]["verdict"] == "holds"
    with pytest.raises(AudiogenError, match="at least one judge"):
        experiments.verdicts_by_judges({})


def test_a_generation_claim_holds_only_when_it_holds_by_both_judges(rng):
    """The generation rows of two judges: the claim holds by one, not by the other, so it is open."""
    from audiogen_lib.experiments.claims import PRIOR, REAL, with_judges

    def rows(prior_is):
        ci = lambda v: {"estimate": v, "low": v - 0.3, "high": v + 0.3, "n": 300, "method": "", "level": 0.95}  # noqa: E731
        return {PRIOR: {"inception_score_ci": ci(prior_is)}, REAL: {"inception_score_ci": ci(9.0)}}

    results = fake_results(rng)
    judged = {v["id"]: v for v in with_judges(results, {"cnn": rows(9.0), "mfcc": rows(4.0)})["verdicts"]}
    gen = judged["generation"]
    assert gen["by_judge"] == {"cnn": "holds", "mfcc": "does not hold"} and gen["verdict"] == "inconclusive"
    assert set(gen["interval_by_judge"]) == {"cnn", "mfcc"} and "mfcc judge:" in gen["evidence"]
    assert judged["reconstruction"]["verdict"] == by_claim(results)["reconstruction"]["verdict"]
    assert "interval_by_judge" not in judged["reconstruction"]          # no judge enters it
    both = {v["id"]: v for v in with_judges(results, {"cnn": rows(9.0), "mfcc": rows(9.0)})["verdicts"]}
    assert both["generation"]["verdict"] == "holds"
    assert "by_judge" not in results["generation"]                     # the results given are left as they were


def test_with_several_seeds_training_claims_use_the_spread_over_seeds(rng):
    results = fake_results(rng)
    results["seeds"] = [{"seed": s, "estimates": {"reconstruction": r, "robustness": 0.03, "convergence": c,
                                                  "generation": -4.0 + s, "skip_connections": 0.5, "griffin_lim": -1.0}}
                        for s, (r, c) in enumerate([(1.0, 30), (1.1, -20), (0.9, 10)])]
    v = by_claim(results)
    assert v["reconstruction"]["basis"] == "3 training seeds" and v["reconstruction"]["verdict"] == "holds"
    assert v["convergence"]["interval"] is None       # the study's numbers, not a spread of differences
    assert v["griffin_lim"]["basis"] == "test clips"          # no training in that claim: still the clips


# --- the cache shared between chapters ---------------------------------------------------------

class FakeModel:
    def __init__(self, w):
        self.w = np.asarray(w, np.float32)

    def get_weights(self):
        return [self.w]


def test_cache_returns_the_same_result_and_forgets_it_when_weights_change(tmp_path, monkeypatch):
    monkeypatch.setenv("AUDIOGEN_CACHE", str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"value": np.float32(0.25), "array": np.arange(3), "nan": float("nan")}

    models = {"vae": FakeModel([1.0, 2.0]), "unet": FakeModel([3.0])}
    first = experiments.cached("demo", models, {"n_test": 16}, compute)
    again = experiments.cached("demo", models, {"n_test": 16}, compute)
    assert first["value"] == again["value"] == 0.25 and again["array"] == [0, 1, 2] and np.isnan(again["nan"])
    assert len(calls) == 1 and len(list((tmp_path / "results").glob("demo-*.json"))) == 1
    models["unet"] = FakeModel([3.0001])                      # retrained: other weights
    experiments.cached("demo", models, {"n_test": 16}, compute)
    experiments.cached("demo", models, {"n_test": 300}, compute)   # other clips
    assert len(calls) == 3


def test_paper_training_is_budgeted_in_epochs_not_seconds(monkeypatch, tmp_path):
    """get_models trains without a clock: same seed, same models; the wall time is only recorded."""
    from audiogen_lib import pretrained, training

    monkeypatch.setenv("AUDIOGEN_CACHE", str(tmp_path / "features"))
    calls = []

    class Run:
        def __init__(self, kwargs):
            self.model, self.card = FakeModel([0.0]), {"kwargs": kwargs}

    monkeypatch.setattr(training, "train", lambda kind, **kw: calls.append((kind, kw)) or Run(kw))
    monkeypatch.setattr(pretrained, "load_pretrained", lambda kind, config: FakeModel([1.0]))
    models = experiments.get_models("paper", profile="smoke", seed=3, train=True)
    assert [kind for kind, _ in calls] == ["vae", "unet", "unet"] and set(models) == {"classifier", *experiments.MODEL_NAMES}
    for _, kw in calls:
        assert kw["seed"] == 3 and "max_seconds" not in kw and "seed3" in str(kw["out_dir"])


def test_a_shipped_model_stands_for_the_seed_its_card_records():
    """reproduce --profile paper --seeds N loads a shipped model for the run its card records, and only that."""
    from audiogen_lib.config import get_profile
    from audiogen_lib.pretrained import card

    paper, cfg = get_profile("paper"), get_config("paper")
    for name in experiments.MODEL_NAMES:
        seed = card(name, "paper")["hyperparameters"]["seed"]
        assert experiments._shipped_is_this_run(name, cfg, paper, seed)
        assert not experiments._shipped_is_this_run(name, cfg, paper, seed + 1)
        assert not experiments._shipped_is_this_run(name, cfg, get_profile("smoke"), seed)


# --- the whole run ------------------------------------------------------------------------------

def test_reproduce_smoke_with_two_seeds_writes_every_result_and_their_spread(tmp_path, capsys, monkeypatch):
    """The whole run, once, at the spy's tiny size (tests/split_spy.py): every result file, and each
    generative model trained per seed."""
    from split_spy import TINY

    from audiogen_lib import config
    from audiogen_lib.cli import main

    monkeypatch.setitem(config.PROFILES, "smoke", TINY)
    assert main(["reproduce", "--profile", "smoke", "--seeds", "2", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["profile"] == "smoke" and results["n_test"] == TINY.n_test
    prov = results["provenance"]
    assert prov["command"] == f"audiogen reproduce --config paper --out {tmp_path} --profile smoke --seeds 2"
    assert {"date", "git_commit", "machine", "data_manifest"} <= set(prov)
    assert {"original", "ceiling", "zero_phase", "vae", "unet", "unet_noskip", "pca"} <= set(results["reconstruction"])
    assert results["reconstruction"]["original"]["rmse"] == 0.0
    r = results["reconstruction"]["unet"]
    assert r["pesq_ci"]["low"] <= r["pesq"] <= r["pesq_ci"]["high"]
    assert len(results["per_clip"]["unet"]["pesq"]) == TINY.n_test
    assert set(results["robustness"]) >= {"clip", "bin", "units"}
    assert results["verdicts"] == experiments.verdicts(results)      # the file's verdicts follow from its own numbers
    assert results["generation"]["normalisation"]["width_db"] == get_config("paper").top_db
    seeds = results["seeds"]
    assert [s["seed"] for s in seeds] == [0, 1] and set(seeds[0]["estimates"]) == set(experiments.CLAIMS)
    assert results["trained_now"] and results["models"]["vae"]["seed"] == 0
    v = {x["id"]: x for x in results["verdicts"]}
    assert v["reconstruction"]["basis"] == "2 training seeds" and v["griffin_lim"]["basis"] == "test clips"
    report = (tmp_path / "results.md").read_text()
    assert "## Verdicts" in report and "| **" in report and "95%" in report and "## Training seeds" in report
    assert len(list((tmp_path / "wav").glob("*.wav"))) >= 3 * 6
    assert {p.name for p in (tmp_path / "figures").iterdir()} >= {"spectrograms.png", "convergence.png"}
    assert "results written to" in capsys.readouterr().out


def test_pca_baseline_matches_svd_and_reconstructs_its_span(rng):
    from audiogen_lib.experiments import pca_reconstruct

    train = rng.random((12, 8, 4, 1)).astype("float32") * 0.5 + 0.25
    test = rng.random((3, 8, 4, 1)).astype("float32") * 0.5 + 0.25
    X = train.reshape(12, -1)
    _, _, Vt = np.linalg.svd(X - X.mean(0), full_matrices=False)
    V = Vt[:3]
    expected = ((test.reshape(3, -1) - X.mean(0)) @ V.T) @ V + X.mean(0)
    np.testing.assert_allclose(pca_reconstruct(train, test, n_components=3).reshape(3, -1), expected, atol=1e-5)
    np.testing.assert_allclose(pca_reconstruct(train, train, n_components=11), train, atol=1e-5)


# --- one RMSE, checked features, progress from the first second ------------------------------------

def test_one_rmse_the_keras_loss_and_the_pooled_rmse_are_metrics_rmse(rng):
    from audiogen_lib import metrics
    from audiogen_lib.models import rmse as loss

    a, b = rng.random((5, 8, 4, 1)).astype("float32"), rng.random((5, 8, 4, 1)).astype("float32")
    per_clip = metrics.rmse(a, b, per_clip=True)
    np.testing.assert_allclose(np.asarray(loss(a, b)), per_clip, rtol=1e-5)
    assert experiments._rmse_of(per_clip) == pytest.approx(metrics.rmse(a, b), rel=1e-12)


class FakeUNet:
    """A model as load_model gives it: trained on the paper config's clip-normalised features."""

    name = "fake_unet"

    def __init__(self, config=get_config("paper")):
        self.feature_config, self.normalisation, self.calls = config, "clip", 0

    def predict(self, x, **kwargs):
        self.calls += 1
        return np.asarray(x) * 0.5


def feature_set(rng, n=3, config=get_config("paper")):
    from audiogen_lib.data import Recording
    from audiogen_lib.features import FeatureSet

    x, lo, hi = clip_images(rng, n=n, config=config)
    recs = [Recording(f"{d}_fake_{d}.wav", d, "fake", d) for d in range(n)]
    return FeatureSet(config, "clip", x, lo, hi, np.zeros((n, config.n_samples), np.float32), recs)


def test_reconstruct_checks_the_features_against_the_model(rng):
    model, test = FakeUNet(), feature_set(rng)
    np.testing.assert_allclose(experiments.reconstruct(model, test), test.x * 0.5)
    with pytest.raises(AudiogenError, match="native8k"):
        experiments.reconstruct(model, test.x, config="native8k")
    with pytest.raises(AudiogenError, match="'global' normalisation"):
        experiments.reconstruct(model, test.x, config="paper", normalisation="global")
    other = feature_set(rng, config=get_config("native8k"))
    with pytest.raises(AudiogenError, match="trained on features of config 'paper'"):
        experiments.reconstruct(model, other)
    assert model.calls == 1


def test_the_classifier_checks_the_features_it_is_given(rng):
    from audiogen_lib.classifier import digit_probabilities

    class Judge(FakeUNet):
        def predict(self, x, **kwargs):
            return np.full((len(x), 10), 0.1, np.float32)

    test = feature_set(rng)
    assert digit_probabilities(Judge(), test).shape == (3, 10)
    assert digit_probabilities(Judge(), test.x, config="paper").shape == (3, 10)
    with pytest.raises(AudiogenError, match="say which features"):
        digit_probabilities(Judge(), test.x)
    with pytest.raises(AudiogenError, match="native8k"):
        digit_probabilities(Judge(), test.x, config="native8k")


class RecordingBar:
    """A stand-in for runtime.progress that logs when it was opened, moved and closed."""

    def __init__(self, log, **kwargs):
        self.log, self.total, self.n = log, kwargs.get("total"), 0
        log.append(("open", kwargs.get("desc"), self.total))

    def update(self, n=1):
        self.n += n
        self.log.append(("update", n))

    def set_postfix_str(self, *args, **kwargs):
        pass

    def close(self):
        self.log.append(("close", self.n))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def test_reconstruction_shows_progress_from_the_first_second_chunk_by_chunk(rng, monkeypatch):
    log = []
    for module in (experiments.reconstruction, experiments.audio):   # each module's own progress
        monkeypatch.setattr(module, "progress", lambda iterable=None, **kw: RecordingBar(log, **kw))
    monkeypatch.setattr(experiments.audio, "CHUNK", 2)
    monkeypatch.setattr(experiments.audio, "images_to_audio",
                        lambda x, lo, hi, **kw: log.append(("audio", len(x))) or np.zeros((len(x), 8)))
    monkeypatch.setattr(experiments.reconstruction, "score_audio",
                        lambda test, y, **kw: log.append(("score",)) or ({}, {}))
    test = feature_set(rng, n=3)
    models = {name: FakeUNet() for name in experiments.MODEL_NAMES} | {"classifier": None}
    experiments.experiment_reconstruction(test, models, n_iter=1)
    conditions = 3 + len(experiments.MODEL_NAMES)          # ceiling, zero phase, Griffin-Lim, the models
    assert log[0] == ("open", "phase reconstruction", conditions * 3)   # before any work
    assert [e for e in log if e[0] == "audio"] == [("audio", 2), ("audio", 1)] * conditions
    first_close = log.index(("close", conditions * 3))
    assert log[first_close + 1][:2] == ("open", "scoring (PESQ, STOI, LSD, digits)")
    assert log[-1] == ("close", (conditions + 1) * 3)      # every condition scored, the original included


def test_no_bare_tqdm_bar_in_the_library():
    """Only runtime.progress makes bars: tqdm.auto's widget would stay dead in a saved notebook and the book."""
    from pathlib import Path

    package = Path(experiments.__file__).parents[1]   # audiogen_lib/, experiments being a package
    offenders = [str(p.relative_to(package)) for p in package.rglob("*.py")
                 if p.name != "runtime.py" and "tqdm" in p.read_text(encoding="utf8")]
    assert not offenders, f"use audiogen_lib.runtime.progress instead of tqdm in {offenders}"


def test_vaes_are_compared_with_pca_clip_by_clip():
    """experiment_vae_reconstruction: paired differences against PCA, their verdicts by the rule, the goals."""
    from audiogen_lib.features import load_features
    from audiogen_lib.pretrained import load_pretrained
    from audiogen_lib.stats import paired_bootstrap, verdict

    train = load_features("train", config="paper").subset(64)
    test = load_features("test", config="paper").subset(10)
    vae, judge = load_pretrained("vae", "paper"), load_pretrained("classifier", "paper")
    out = experiments.experiment_vae_reconstruction(test, {"vae": vae}, judge, train=train)
    assert set(out["rows"]) == {"pca", "vae"} and set(out["differences"]) == {"vae"}
    for metric, goal in experiments.RECONSTRUCTION_GOALS.items():
        ci = paired_bootstrap(out["per_clip"]["vae"][metric], out["per_clip"]["pca"][metric])
        d = out["differences"]["vae"][metric]
        assert d["estimate"] == pytest.approx(ci.estimate) and d["verdict"] == verdict(ci, claimed="positive")
        mean = out["rows"]["vae"]["digit_accuracy" if metric == "digit_correct" else metric]
        assert mean == pytest.approx(np.nanmean(out["per_clip"]["vae"][metric]))
        assert out["goals"]["vae"][metric] == (mean >= goal)


def test_judge_reconstructions_asks_both_judges_and_holds_only_by_both():
    from types import SimpleNamespace

    from audiogen_lib.experiments import judge_reconstructions
    from audiogen_lib.judges import Judge

    digits = np.array([0, 1, 2, 3] * 10)
    test = SimpleNamespace(digits=digits, config=get_config("paper"))
    right = lambda y: np.eye(10)[digits]  # noqa: E731
    wrong = lambda y: np.eye(10)[(digits + 1) % 10]  # noqa: E731
    judges = {"cnn": Judge("cnn", "a", 8000, right, right, ""), "mfcc": Judge("mfcc", "b", 8000, wrong, wrong, "")}
    out = judge_reconstructions({"x": np.zeros((40, 10))}, test, judges=judges)
    row = out["conditions"]["x"]
    assert row["by_judge"]["cnn"]["status"] == "met" and row["by_judge"]["mfcc"]["status"] == "missed"
    assert row["both"] == "missed"
    judges["mfcc"] = judges["cnn"]
    assert judge_reconstructions({"x": np.zeros((40, 10))}, test, judges=judges)["conditions"]["x"]["both"] == "met"


def test_the_listening_file_is_read_with_its_provenance_and_refused_when_missing(tmp_path, monkeypatch):
    from audiogen_lib.experiments import results as res

    monkeypatch.setattr(res, "_RESULTS", tmp_path)
    with pytest.raises(AudiogenError, match="audiogen listen"):
        res.read_listening("paper")
    (tmp_path / "listening_paper.json").write_text(json.dumps({"provenance": {"command": "audiogen listen"}}))
    assert res.read_listening("paper")["provenance"]["command"] == "audiogen listen"


def test_the_listen_command_is_in_the_parser():
    from audiogen_lib.cli import build_parser

    args = build_parser().parse_args(["listen", "--config", "paper", "--out", "x.json"])
    assert args.func.__name__ == "_cmd_listen" and args.out == "x.json"
