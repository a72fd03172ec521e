"""Sampling a VAE's latent space: seeded densities fitted to the codes, the Fréchet distance, and
`audiogen generate`, which writes every sound and its index or nothing, and refuses what it cannot do."""

import json
import os
import shutil

import numpy as np
import pytest

from audiogen_lib import AudiogenError, generation, pretrained
from audiogen_lib.cli import main
from audiogen_lib.generation import choose_gmm, fit_sampler, frechet_distance


def blobs(rng, n=600, d=4, centres=((0, 0, 0, 0), (6, 0, 0, 0), (0, 6, 3, 0))):
    """``n`` codes from well-separated Gaussian clusters (unit variance), with a label per cluster."""
    centres = np.asarray(centres, float)[:, :d]
    label = rng.integers(0, len(centres), n)
    return centres[label] + rng.standard_normal((n, d)), label


def run(argv, capsys):
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


# --- densities -----------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", generation.SAMPLERS)
def test_a_seeded_sampler_repeats_and_another_seed_differs(kind, rng):
    codes, _ = blobs(rng)
    s = fit_sampler(kind, codes, n_components=3)
    a, b, c = s.sample(50, seed=3), s.sample(50, seed=3), s.sample(50, seed=4)
    assert a.shape == (50, 4) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert np.array_equal(s.sample(80, seed=3)[:50], a)   # more draws of one seed begin with the same codes


def test_a_per_digit_sampler_repeats_and_needs_a_digit(rng):
    codes, label = blobs(rng, n=400)
    digits = np.arange(400) % 10
    s = fit_sampler("gaussian", codes, digits)
    assert s.conditional and np.array_equal(s.sample(5, seed=1, digit=7), s.sample(5, seed=1, digit=7))
    assert not np.allclose(s.sample(5, seed=1, digit=7), s.sample(5, seed=1, digit=2))
    with pytest.raises(AudiogenError, match="one density per digit"):
        s.sample(5, seed=1)
    with pytest.raises(AudiogenError, match="0 to 9, got 11"):
        s.sample(5, seed=1, digit=11)


def test_gmm_samples_have_the_fitted_mean_and_the_fit_keeps_the_codes_mean(rng):
    codes, _ = blobs(rng)
    density = fit_sampler("gmm", codes, n_components=3, covariance_type="full").densities[None]
    # EM's M-step keeps the mixture's mean at the data's mean.
    np.testing.assert_allclose(density.mean(), codes.mean(0), atol=1e-6)
    z = density.sample(40_000, seed=0)
    spread = np.sqrt(np.diag(np.cov(z, rowvar=False)) / len(z))
    assert np.all(np.abs(z.mean(0) - density.mean()) < 4 * spread)
    # and the samples' covariance is the mixture's: sum_k w_k (C_k + m_k m_k^T) - m m^T
    m = density.mean()
    cov = np.einsum("k,kij->ij", density.weights, density.covariances + np.einsum("ki,kj->kij", density.means,
                                                                                  density.means)) - np.outer(m, m)
    np.testing.assert_allclose(np.cov(z, rowvar=False), cov, atol=0.25)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag"])
def test_every_covariance_type_samples_its_own_mixture(covariance_type, rng):
    codes, _ = blobs(rng)
    density = fit_sampler("gmm", codes, n_components=3, covariance_type=covariance_type).densities[None]
    assert density.covariances.shape == (3, 4, 4)
    np.testing.assert_allclose(density.sample(20_000, seed=0).mean(0), density.mean(), atol=0.1)


def test_log_likelihood_is_the_gaussian_density(rng):
    from scipy.stats import multivariate_normal

    codes, _ = blobs(rng)
    g = fit_sampler("gaussian", codes).densities[None]
    np.testing.assert_allclose(g.log_likelihood(codes[:20]),
                               multivariate_normal(g.means[0], g.covariances[0]).logpdf(codes[:20]), rtol=1e-9)
    prior = fit_sampler("prior", codes).densities[None]
    np.testing.assert_allclose(prior.log_likelihood(codes[:5]), multivariate_normal(np.zeros(4)).logpdf(codes[:5]))


def test_choose_gmm_finds_the_clusters_on_held_out_codes(rng):
    train, _ = blobs(rng, n=600)
    validation, _ = blobs(rng, n=300)
    result = choose_gmm(train, validation, grid={"full": (1, 2, 3, 700), "diag": (1,)})
    assert result["chosen"] == {"n_components": 3, "covariance_type": "full"}
    assert [(r["covariance_type"], r["n_components"]) for r in result["rows"]] == [
        ("full", 1), ("full", 2), ("full", 3), ("diag", 1)]   # 700 components > 600 codes: skipped
    lls = {r["n_components"]: r["validation_log_likelihood"] for r in result["rows"] if r["covariance_type"] == "full"}
    assert lls[3] > lls[2] > lls[1]


def test_of_settings_within_noise_of_the_best_the_simplest_is_chosen(rng):
    train, _ = blobs(rng, n=600)
    validation, _ = blobs(rng, n=300)
    result = choose_gmm(train, validation, grid={"full": (3, 4, 5)})
    # four or five components fit three clusters no better than three: within the noise, the fewest parameters win
    assert result["chosen"] == {"n_components": 3, "covariance_type": "full"}
    assert all(r["not_reliably_worse"] for r in result["rows"])
    assert [r["parameters"] for r in result["rows"]] == [generation.n_parameters("full", k, 4) for k in (3, 4, 5)]
    assert generation.n_parameters("full", 3, 4) == 2 + 3 * 4 + 3 * 10
    assert generation.n_parameters("tied", 3, 4) == 2 + 3 * 4 + 10
    assert generation.n_parameters("diag", 3, 4) == 2 + 3 * 4 + 3 * 4


def test_unknown_sampler_and_covariance_type_are_refused(rng):
    codes, _ = blobs(rng)
    with pytest.raises(AudiogenError, match="unknown sampler 'flow'"):
        fit_sampler("flow", codes)
    with pytest.raises(AudiogenError, match="unknown covariance type 'spherical'"):
        fit_sampler("gmm", codes, covariance_type="spherical")


# --- Fréchet distance ----------------------------------------------------------------------------

def _frechet_scipy(a, b):
    from scipy.linalg import sqrtm

    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    return float(np.sum((a.mean(0) - b.mean(0)) ** 2) + np.trace(ca + cb - 2 * np.real(sqrtm(ca @ cb))))


@pytest.mark.parametrize("n, d", [(200, 5), (30, 80)])  # more rows than dimensions, and fewer
def test_frechet_distance_is_zero_for_one_set_and_grows_by_the_shift(n, d, rng):
    a = rng.standard_normal((n, d)) * rng.uniform(0.5, 2.0, d)
    assert frechet_distance(a, a) == pytest.approx(0.0, abs=1e-8 * d)
    shift = rng.standard_normal(d)
    # the covariances are equal, so only the means' distance is left
    assert frechet_distance(a, a + shift) == pytest.approx(np.sum(shift ** 2), rel=1e-8)
    # scaled about its mean by s: (1 - s)^2 Tr C
    s = 1.7
    scaled = a.mean(0) + s * (a - a.mean(0))
    assert frechet_distance(a, scaled) == pytest.approx((1 - s) ** 2 * np.trace(np.cov(a, rowvar=False)), rel=1e-8)


def test_frechet_distance_agrees_with_the_matrix_square_root(rng):
    a, b = rng.standard_normal((300, 6)), 0.5 + 1.5 * rng.standard_normal((250, 6)) @ rng.standard_normal((6, 6))
    assert frechet_distance(a, b) == pytest.approx(_frechet_scipy(a, b), rel=1e-7)
    assert frechet_distance(a, b) == pytest.approx(frechet_distance(b, a), rel=1e-9)


def test_frechet_distance_of_two_gaussians_tends_to_the_closed_form(rng):
    # N(0, I) and N(m, s^2 I) in d dimensions: |m|^2 + d (1 - s)^2
    d, m, s = 4, np.array([1.0, -2.0, 0.5, 0.0]), 2.0
    a = rng.standard_normal((50_000, d))
    b = m + s * rng.standard_normal((50_000, d))
    assert frechet_distance(a, b) == pytest.approx(np.sum(m ** 2) + d * (1 - s) ** 2, rel=0.02)


def test_frechet_distance_refuses_mismatched_or_too_few_rows(rng):
    with pytest.raises(AudiogenError, match="different widths"):
        frechet_distance(rng.standard_normal((10, 3)), rng.standard_normal((10, 4)))
    with pytest.raises(AudiogenError, match="at least 2"):
        frechet_distance(rng.standard_normal((1, 3)), rng.standard_normal((10, 3)))


# --- models, the classifier's embedding ----------------------------------------------------------

@pytest.fixture(scope="module")
def classifier():
    return pretrained.load_pretrained("classifier", "paper")


def test_the_embedding_is_what_the_softmax_layer_reads(classifier):
    """softmax(embedding @ W + b) is the classifier's own answer: the embedding is its penultimate layer."""
    from conftest import chirp, sine

    from audiogen_lib.classifier import audio_to_probabilities
    from audiogen_lib.config import CONFIGS

    cfg = CONFIGS["paper"]
    y = np.stack([sine(cfg, 440.0), chirp(cfg, 300.0, 3000.0), np.zeros(cfg.n_samples, np.float32)])
    emb = generation.classifier_embedding(classifier, y)
    assert emb.shape == (3, 4096)
    assert np.isnan(emb[2]).all()                      # a silent clip has no per-clip normalisation
    w, b = generation._softmax_layer(classifier).get_weights()
    logits = emb[:2] @ w + b
    p = np.exp(logits - logits.max(1, keepdims=True))
    np.testing.assert_allclose(p / p.sum(1, keepdims=True), audio_to_probabilities(classifier, y[:2]), atol=1e-5)


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    """A tiny vae_gen and cvae (one epoch on 16 clips), saved as a pretrained folder with the classifier."""
    from split_spy import TINY

    from audiogen_lib.training import train

    folder = tmp_path_factory.mktemp("pretrained")
    for kind in ("vae_gen", "cvae"):
        run = train(kind, config="paper", profile=TINY, epochs=1, out_dir=folder / f"run_{kind}", verbose=0)
        shutil.copyfile(run.path, folder / f"{kind}_paper.keras")
        shutil.copyfile(folder / f"run_{kind}" / "card.json", folder / f"{kind}_paper.json")
    for suffix in (".keras", ".json"):
        shutil.copyfile(pretrained.HERE / f"classifier_paper{suffix}", folder / f"classifier_paper{suffix}")
    return folder


@pytest.fixture(autouse=True)
def sampler_cache(tmp_path_factory, monkeypatch):
    """Sampler choices cached in a fresh folder per test, so that every test makes its choice afresh."""
    folder = tmp_path_factory.mktemp("sampling-cache")
    monkeypatch.setattr(generation.sampler_choice, "_cache_root", lambda: folder)


def test_a_conditional_vae_makes_the_digit_asked_for_from_its_own_density(tiny_models, classifier, monkeypatch):
    from audiogen_lib.features import load_features

    monkeypatch.setattr(pretrained, "HERE", tiny_models)
    cvae = generation.load_generator("cvae", "paper")
    train = load_features("train", config="paper").subset(100)
    codes = generation.encode_means(cvae, train.x, train.digits)
    sampler = fit_sampler("gaussian", codes, train.digits)
    a = generation.generate(cvae, sampler, 3, seed=5, digit=4, classifier=classifier)
    b = generation.generate(cvae, sampler, 3, seed=5, digit=4, classifier=classifier)
    assert a.waveforms.shape == (3, cvae.feature_config.n_samples) and a.probabilities.shape == (3, 10)
    assert np.array_equal(a.waveforms, b.waveforms) and np.array_equal(a.z, sampler.sample(3, seed=5, digit=4))
    assert a.digit_asked == 4 and a.draws == 3
    # without a digit: ancestral sampling, each sound's digit drawn uniformly, then its code from that digit
    free = generation.generate(cvae, sampler, 40, seed=5, classifier=classifier)
    again = generation.generate(cvae, sampler, 40, seed=5, classifier=classifier)
    assert free.digit_asked is None and np.array_equal(free.waveforms, again.waveforms)
    assert free.digits_drawn.shape == (40,) and len(set(free.digits_drawn.tolist())) >= 6
    for d in (int(free.digits_drawn[0]), int(free.digits_drawn[-1])):
        mine = free.digits_drawn == d
        np.testing.assert_array_equal(free.z[mine], sampler.sample(int(mine.sum()), seed=5, digit=d))
    assert free.selection.startswith("none: each sound's digit drawn uniformly")


def test_a_digit_from_an_unconditional_vae_is_found_by_rejection(tiny_models, classifier, monkeypatch):
    monkeypatch.setattr(pretrained, "HERE", tiny_models)
    vae = generation.load_generator("vae_gen", "paper")
    sampler = fit_sampler("prior", np.zeros((2, vae.latent_dim)))
    free = generation.generate(vae, sampler, 64, seed=0, classifier=classifier)
    heard = np.bincount(free.digits_heard, minlength=10)
    digit = int(heard.argmax())
    got = generation.generate(vae, sampler, 2, seed=0, digit=digit, classifier=classifier)
    assert (got.digits_heard == digit).all() and got.draws == 64 and got.selection.startswith("rejection")
    # the kept sounds are the first draws heard as the digit, the same as without rejection
    np.testing.assert_array_equal(got.indices, np.flatnonzero(free.digits_heard == digit)[:2])
    absent = [d for d in range(10) if heard[d] == 0]
    if absent:
        with pytest.raises(AudiogenError, match=rf"heard {absent[0]} in only 0 of 64 sounds"):
            generation.generate(vae, sampler, 1, seed=0, digit=absent[0], classifier=classifier, max_draws=64)


# --- audiogen generate ---------------------------------------------------------------------------

def test_generate_writes_n_wavs_and_the_index(tmp_path, capsys, classifier):
    import soundfile as sf

    from audiogen_lib.classifier import audio_to_probabilities

    out = tmp_path / "new" / "digits"
    code, stdout, err = run(["generate", "--model", "vae", "--n", "3", "--sampler", "gmm", "--seed", "2",
                             "--profile", "smoke", "--out", str(out)], capsys)
    assert code == 0, err
    assert sorted(p.name for p in out.iterdir()) == ["index.json", "sample_000.wav", "sample_001.wav",
                                                      "sample_002.wav"]
    index = json.loads((out / "index.json").read_text())
    card = pretrained.card("vae", "paper")
    assert index["model"] == "vae" and index["sampler"] == "gmm" and index["seed"] == 2 and index["n"] == 3
    assert index["weights_sha256"] == card["weights_sha256"]
    assert index["generation_db_range"] == card["normalisation"]["generation_db_range"]
    assert index["command"].startswith("audiogen generate --model vae --n 3 --sampler gmm --seed 2")
    for i, row in enumerate(index["sounds"]):
        assert row["file"] == f"sample_{i:03d}.wav" and row["draw"] == i
        assert (row["sampler"], row["model"], row["seed"], row["weights_sha256"]) == (
            "gmm", "vae", 2, card["weights_sha256"])
        y, sr = sf.read(out / row["file"])
        assert sr == 22050 and len(y) == 16317 and np.abs(y).max() > 0.01
        # the row says what the shipped judge hears in this very file: heard again from the wav (16-bit, and
        # scaled only if it would clip, which per-clip normalisation undoes), the same digit and confidence
        p = audio_to_probabilities(classifier, y.astype(np.float32)[None])[0]
        assert row["confidence"] == pytest.approx(p.max(), abs=0.02)
        top2 = np.sort(p)[-2:]
        assert row["digit_heard"] == int(p.argmax()) or top2[1] - top2[0] < 0.04
    assert "3 sounds from vae (gmm sampler, seed 2)" in stdout
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]


@pytest.mark.parametrize("argv, message", [
    (["--digit", "11"], "a digit is a whole number from 0 to 9, got 11"),
    (["--digit", "-1"], "a digit is a whole number from 0 to 9, got -1"),
    (["--model", "gan"], "unknown generative model 'gan'; use one of ('vae', 'vae_gen', 'cvae')"),
    (["--sampler", "flow"], "unknown sampler 'flow'"),
    (["--n", "0"], "--n must be a whole number from 1 to 10,000, got 0"),
])
def test_generate_refuses_what_it_cannot_do_before_any_work(argv, message, tmp_path, capsys):
    out = tmp_path / "out"
    code, _, err = run(["generate", "--model", "vae", *argv, "--out", str(out)], capsys)
    assert code == 2 and message in err
    assert list(tmp_path.iterdir()) == []


def test_generate_refuses_an_output_folder_it_cannot_write(tmp_path, capsys):
    blocker = tmp_path / "a file"
    blocker.write_text("not a folder")
    code, _, err = run(["generate", "--model", "vae", "--out", str(blocker / "digits")], capsys)
    assert code == 2 and "cannot write the output folder" in err and "not a writable folder" in err
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("mine")
    code, _, err = run(["generate", "--model", "vae", "--out", str(full)], capsys)
    assert code == 2 and "already exists and is not empty" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a file", "full"] and os.listdir(full) == ["keep.txt"]


def test_generate_says_a_model_is_not_shipped_and_how_to_ship_it(tmp_path, monkeypatch, capsys):
    folder = tmp_path / "pretrained"
    folder.mkdir()
    for suffix in (".keras", ".json"):  # the study's VAE and the classifier only
        for name in ("vae_paper", "classifier_paper"):
            shutil.copyfile(pretrained.HERE / f"{name}{suffix}", folder / f"{name}{suffix}")
    monkeypatch.setattr(pretrained, "HERE", folder)
    for model in ("vae_gen", "cvae"):
        code, _, err = run(["generate", "--model", model, "--out", str(tmp_path / "out")], capsys)
        assert code == 2
        assert f"the {model} model for config 'paper' is not shipped yet" in err
        assert f"`audiogen train {model} --config paper --profile paper --ship`" in err
    assert generation.default_model(7, "paper") == "vae" and generation.default_model(None, "paper") == "vae"
    assert not (tmp_path / "out").exists()


def test_generate_with_a_digit_uses_the_shipped_conditional_vae(tiny_models, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(pretrained, "HERE", tiny_models)
    assert generation.default_model(3, "paper") == "cvae" and generation.default_model(None, "paper") == "cvae"
    (tiny_models / "generator_choice_paper.json").write_text(json.dumps({"model": "vae_gen", "rule": "test"}))
    assert generation.default_model(None, "paper") == "vae_gen"     # the choice validation recorded
    (tiny_models / "generator_choice_paper.json").unlink()
    free = tmp_path / "any"
    code, _, err = run(["generate", "--model", "cvae", "--n", "3", "--profile", "smoke", "--out", str(free)], capsys)
    assert code == 0, err
    index = json.loads((free / "index.json").read_text())
    assert index["digit_asked"] is None and all(0 <= r["digit_asked"] <= 9 for r in index["sounds"])
    out = tmp_path / "threes"
    code, stdout, err = run(["generate", "--digit", "3", "--n", "2", "--profile", "smoke", "--out", str(out)], capsys)
    assert code == 0, err
    index = json.loads((out / "index.json").read_text())
    assert index["model"] == "cvae" and index["digit_asked"] == 3 and index["draws"] == 2
    assert index["sampler"] in generation.SAMPLERS and index["sampler"] == index["sampler_choice"]["best_on_validation"]
    assert index["sampler_settings"]["per_digit"] is True
    assert [r["digit_asked"] for r in index["sounds"]] == [3, 3]
    assert index["weights_sha256"] == json.loads((tiny_models / "cvae_paper.json").read_text())["weights_sha256"]


def test_nothing_partial_is_left_when_writing_fails(tmp_path, monkeypatch, capsys):
    import soundfile as sf

    written = []
    real_write = sf.write

    def failing_write(path, *args, **kwargs):
        if written:
            raise OSError(28, "No space left on device")
        written.append(path)
        real_write(path, *args, **kwargs)

    monkeypatch.setattr(sf, "write", failing_write)
    out = tmp_path / "made" / "for" / "this"
    code, _, err = run(["generate", "--model", "vae", "--n", "2", "--sampler", "prior", "--profile", "smoke",
                        "--out", str(out)], capsys)
    assert code == 2 and "No space left on device" in err
    assert written and not os.path.exists(written[0])      # the first wav was written, then removed
    assert list(tmp_path.iterdir()) == []                   # and the folders made for the run too


def test_evaluate_refuses_out_and_a_path_that_is_not_json(tmp_path, capsys):
    code, _, err = run(["generate", "--evaluate", str(tmp_path / "s.json"), "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "drop --out" in err
    code, _, err = run(["generate", "--evaluate", str(tmp_path / "s.txt")], capsys)
    assert code == 2 and "ending in .json" in err
    code, _, err = run(["generate", "--evaluate", str(tmp_path / "s.json"), "--sets", "0"], capsys)
    assert code == 2 and "--sets must be a whole number of at least 1, got 0" in err
    code, _, err = run(["generate", "--model", "vae", "--sets", "2", "--out", str(tmp_path / "x")], capsys)
    assert code == 2 and "add --evaluate FILE.json" in err
    assert list(tmp_path.iterdir()) == []



@pytest.fixture(scope="module")
def judges():
    from audiogen_lib.judges import load_judges

    return load_judges("paper")


def test_evaluate_writes_every_sampler_by_both_judges_beside_floors_of_the_same_size(tmp_path, judges):
    path = tmp_path / "sampling.json"
    n = 16   # the smoke profile's validation and test splits hold 16 clips: every set below is of 16
    result = generation.run_evaluate(path, judges=judges, model="vae", n=n, n_sets=2, profile="smoke",
                                     command="audiogen generate --evaluate sampling.json", progress=lambda _: None)
    assert json.loads(path.read_text()) == json.loads(json.dumps(result, default=float))
    prov = result["provenance"]
    assert prov["models"]["vae"]["weights_sha256"] == pretrained.card("vae", "paper")["weights_sha256"]
    assert prov["models"]["classifier"]["weights_sha256"] == pretrained.card("classifier", "paper")["weights_sha256"]
    assert {k: v["weights_sha256"] for k, v in prov["judges"].items()} == {
        k: j.weights_sha256 for k, j in judges.items()}
    assert prov["git_commit"] and prov["machine"] and prov["date"] and prov["command"].startswith("audiogen generate")
    assert result["validation"]["best"] in generation.SAMPLERS
    assert result["set_size"] == n and result["splits"]["test"] == 16
    assert set(result["judges"]) == {"cnn", "mfcc"}
    for name, judged in result["judges"].items():
        assert set(judged["test"]) == set(generation.SAMPLERS)
        for kind, row in judged["test"].items():
            assert sum(row["histogram"]) == row["n"] == n
            # the first set's numbers are the first entries of the per-set lists, and the spread is over those
            assert row["inception_score"]["estimate"] == pytest.approx(row["inception_score_per_set"][0], rel=1e-9)
            assert row["kid"]["estimate"] == row["kid_per_set"][0] and row["frechet_lowdim"] == row[
                "frechet_lowdim_per_set"][0]
            assert row["kid_over_sets"]["estimate"] == pytest.approx(np.mean(row["kid_per_set"]))
            # every generated set and every floor is measured against the same real test clips by the same estimator
            assert (row["kid"]["n_a"], row["kid"]["n_b"], row["kid"]["method"]) == (n, 16, "jackknife")
        floors = judged["floors"]
        for floor in ("validation", "train_subsets", "phase_only"):
            assert (floors[floor]["kid"]["n_b"], floors[floor]["kid"]["method"]) == (16, "jackknife")
        assert floors["validation"]["kid"]["n_a"] == floors["train_subsets"]["kid"]["n_a"] == n
        sub = floors["train_subsets"]
        assert len(sub["kid_per_set"]) >= 2 and sub["kid"]["estimate"] == sub["kid_per_set"][0]
        assert sum(judged["real_test"]["histogram"]) == 16
        diff = judged["differences"]["gmm minus prior"]["kid"]
        assert diff["estimate"] == pytest.approx(np.mean(judged["test"]["gmm"]["kid_per_set"])
                                                 - np.mean(judged["test"]["prior"]["kid_per_set"]))
    # the CNN judge heard the very sounds the classifier labelled: the same histogram as the legacy row
    for kind, row in result["test"].items():
        assert result["judges"]["cnn"]["test"][kind]["histogram"] == row["histogram"]
        assert row["inception_score"]["estimate"] == pytest.approx(row["inception_score_per_set"][0], rel=1e-9)
        assert len(row["frechet_to_test_per_set"]) == 2
    assert set(result["frechet_floors"]) == {"validation", "train_subsets", "train_all", "phase_only"}
    diff = result["differences"]["gmm minus prior"]["frechet_to_test"]
    assert diff["estimate"] == pytest.approx(np.mean(result["test"]["gmm"]["frechet_to_test_per_set"])
                                             - np.mean(result["test"]["prior"]["frechet_to_test_per_set"]))
    assert result["embedding"]["dimensions"] == 4096 and "judges" in result["legacy_keys"]


def test_real_clips_score_the_floor_and_noise_does_not_and_test_is_read_after_the_choice(monkeypatch, judges, spy):
    """A "sampler" whose sounds are the real validation clips gets exactly the validation floor (the same estimator,
    the same sets); one whose sounds are noise is far above it by both judges, and the differences say so."""
    from audiogen_lib.features import load_features
    from audiogen_lib.pretrained import load_pretrained

    from audiogen_lib.generation import scoring

    validation = load_features("validation", config="paper").subset(16)
    chosen = scoring.choose_sampler

    def choose_sampler(*args, **kwargs):
        try:
            return chosen(*args, **kwargs)
        finally:
            spy.log("choice_end")

    def fake_draw(vae, sampler, n, *, seed, classifier, lo_hi):
        assert n == len(validation)
        y = validation.waveforms
        if sampler.kind == "prior":
            y = 0.05 * np.random.default_rng(seed).standard_normal(y.shape).astype(np.float32)
        return y, generation._probabilities(classifier, y), None

    monkeypatch.setattr(scoring, "choose_sampler", choose_sampler)
    monkeypatch.setattr(scoring, "_draw", fake_draw)
    result = generation.evaluate_samplers(generation.load_generator("vae", "paper"),
                                          load_pretrained("classifier", "paper"), judges=judges, n_samples=16,
                                          n_sets=2, n_train=64, n_validation=16, n_test=16,
                                          grid=generation.SMOKE_GMM_GRID, n_boot=200, progress=lambda _: None)
    kinds = [kind for kind, *_ in spy.events]
    assert kinds.index("choice_end") < kinds.index("test_read"), spy.events
    for name, judged in result["judges"].items():
        floor = judged["floors"]["validation"]
        for kind in ("gaussian", "gmm"):
            row = judged["test"][kind]
            assert row["kid"] == floor["kid"] and row["frechet_lowdim"] == floor["frechet_lowdim"]
            assert row["kid_per_set"] == [floor["kid"]["estimate"]] * 2
        assert judged["differences"]["gmm minus gaussian"]["kid"]["estimate"] == 0.0
        noise = judged["test"]["prior"]
        assert noise["kid"]["low"] > floor["kid"]["high"], name
        assert noise["kid"]["low"] > judged["floors"]["train_subsets"]["kid"]["high"], name
        assert judged["differences"]["gaussian minus prior"]["kid"]["high"] < 0, name


def test_disjoint_subsets_are_disjoint_of_the_size_asked_with_the_digits_balanced():
    digits = np.repeat(np.arange(10), [7, 9, 6, 8, 6, 7, 9, 6, 8, 10])
    subsets = generation._disjoint_subsets(digits, 16, seed=3)
    # 16 = one of each digit and one more of the first six: 2 of digit 0..5 -> 6 clips of digit 2 give three sets
    assert len(subsets) == 3
    assert all(len(s) == 16 for s in subsets)
    assert len(np.unique(np.concatenate(subsets))) == 48
    for s in subsets:
        assert np.bincount(digits[s], minlength=10).tolist() == [2] * 6 + [1] * 4
    assert [s.tolist() for s in generation._disjoint_subsets(digits, 16, seed=3)] == [s.tolist() for s in subsets]


def test_the_digit_chooser_shows_every_digit_then_makes_the_one_chosen(tiny_models, classifier, monkeypatch):
    import IPython.display

    from audiogen_lib import display
    from audiogen_lib.features import load_features

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(pretrained, "HERE", tiny_models)
    cvae = generation.load_generator("cvae", "paper")
    train = load_features("train", config="paper").subset(100)
    sampler = fit_sampler("gaussian", generation.encode_means(cvae, train.x, train.digits), train.digits)
    widget = display.digit_chooser(cvae, sampler, classifier, n=2)
    static = shown[0].data  # the grid a page without a kernel shows: one sound per digit
    assert all(f"asked for {d}: heard as" in static for d in range(10)) and static.count("<audio") == 10
    buttons, out = widget.children[0].children[0], widget.children[1]
    buttons.value = 3
    page = out.outputs[0]["data"]["text/html"]
    assert page.count("<audio") == 2 and "3, seed 1 #1: heard as" in page
    with pytest.raises(AudiogenError, match="conditional VAE"):
        display.digit_chooser(cvae, fit_sampler("prior", np.zeros((2, cvae.latent_dim))), classifier)


def test_morphing_the_label_keeps_the_code_and_ends_at_each_digit(tiny_models, monkeypatch):
    monkeypatch.setattr(pretrained, "HERE", tiny_models)
    cvae = generation.load_generator("cvae", "paper")
    z = np.random.default_rng(0).standard_normal(cvae.latent_dim).astype(np.float32)
    t, images, y = generation.morph_digit(cvae, z, 1, 7, steps=3)
    assert t.tolist() == [0.0, 0.5, 1.0] and images.shape[0] == y.shape[0] == 3
    for k, digit in ((0, 1), (2, 7)):  # the ends are the cvae told one digit
        np.testing.assert_allclose(images[k], generation.decode(cvae, z[None], digit)[0], atol=1e-5)
    z2 = -z
    _, both, _ = generation.morph_digit(cvae, z, 1, 7, z_to=z2, steps=3)  # the code moves too
    np.testing.assert_allclose(both[0], images[0], atol=1e-5)
    np.testing.assert_allclose(both[2], generation.decode(cvae, z2[None], 7)[0], atol=1e-5)
    with pytest.raises(AudiogenError, match="0-9|digit"):
        generation.morph_digit(cvae, z, 1, 12)
    vae = generation.load_generator("vae_gen", "paper")
    with pytest.raises(AudiogenError, match="not conditioned"):
        generation.morph_digit(vae, z, 1, 7)
    x, wav = generation.decode_audio(vae, z[None])
    assert x.shape[0] == wav.shape[0] == 1


def test_the_lowdim_frechet_of_projected_sets_is_the_one_on_the_raw_embeddings(rng):
    from audiogen_lib.distances import frechet_distance_lowdim
    from audiogen_lib.generation import judged_scores

    train = rng.standard_normal((400, 30)) * np.linspace(3, 0.1, 30)
    test, a = rng.standard_normal((60, 30)), 0.5 + 1.3 * rng.standard_normal((50, 30))
    real = {"test": test, "train": train, "project": judged_scores._projector(train)}
    assert judged_scores._lowdim(a, real) == pytest.approx(
        frechet_distance_lowdim(a, test, reference=train, n_components=judged_scores.LOWDIM_COMPONENTS), rel=1e-9)
