"""The latent diffusion model: the autoencoder's latent, the flow-matching objective, the sampler, training at smoke size."""

import numpy as np
import pytest

from audiogen_lib import diffusion
from audiogen_lib.errors import AudiogenError
from audiogen_lib.models import build_denoiser, build_latent_autoencoder
from audiogen_lib.models.denoiser import NULL_DIGIT, LatentFlow


@pytest.fixture(scope="module")
def autoencoder():
    return build_latent_autoencoder((256, 64, 1), preset="f4c4")


@pytest.fixture(scope="module")
def denoiser():
    return build_denoiser((64, 16, 4), widths=(16, 32))


def test_latent_shape_is_a_quarter_each_way(autoencoder):
    assert autoencoder.latent_shape == (64, 16, 4)
    mu, log_var = autoencoder.encode(np.zeros((2, 256, 64, 1), np.float32))
    assert mu.shape == log_var.shape == (2, 64, 16, 4)
    assert autoencoder.decode(mu).shape == (2, 256, 64, 1)


def test_f8_preset_and_bad_shape():
    assert build_latent_autoencoder((256, 64, 1), preset="f8c4").latent_shape == (32, 8, 4)
    with pytest.raises(AudiogenError, match="divisible"):
        build_latent_autoencoder((250, 64, 1))
    with pytest.raises(AudiogenError, match="preset"):
        build_latent_autoencoder(preset="f2")


@pytest.mark.parametrize("preset, shape", [("f4c4p", (64, 16, 4)), ("f8c16", (32, 8, 16))])
def test_a_patch_latent_keeps_where_each_patch_lies_and_reloads(preset, shape, tmp_path, rng):
    import keras

    model = build_latent_autoencoder((256, 64, 1), preset=preset)
    assert model.latent_shape == shape
    from audiogen_lib.models.latent import LATENT_PRESETS

    f, reach = 256 // shape[0], 1 + 2 * LATENT_PRESETS[preset]["blocks"]  # cells: the full-size conv, two a block
    x = rng.random((1, 256, 64, 1)).astype(np.float32)
    y = x.copy()
    y[0, 12 * f:13 * f, 3 * f:4 * f] += 0.5  # one patch changed: latent cell (12, 3)
    moved = np.abs(np.asarray(model.encode(y)[0]) - np.asarray(model.encode(x)[0])).max(axis=(-1, -2))[0]
    assert moved[12] > 0 and np.all(moved[12 + reach + 1:] == 0) and np.all(moved[:12 - reach] == 0)
    assert model.decode(model.encode(x)[0]).shape == (1, 256, 64, 1)
    model.save(tmp_path / "ae.keras")
    again = keras.saving.load_model(tmp_path / "ae.keras")
    np.testing.assert_allclose(np.asarray(again(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6)


def test_encode_latents_divides_by_the_scale(autoencoder, rng):
    x = rng.random((3, 256, 64, 1)).astype(np.float32)
    mu = np.asarray(autoencoder.encoder.predict(x, verbose=0)[0])
    autoencoder.scale = 0.5
    try:
        np.testing.assert_allclose(diffusion.encode_latents(autoencoder, x), mu / 0.5, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(diffusion.decode_latents(autoencoder, mu / 0.5),
                                   autoencoder.decoder.predict(mu, verbose=0), rtol=1e-5, atol=1e-6)
    finally:
        autoencoder.scale = 1.0


def test_add_noise_is_the_straight_path(rng):
    z0, eps = rng.standard_normal((2, 5, 4, 4, 2)).astype(np.float32)
    np.testing.assert_allclose(diffusion.add_noise(z0, 0.0, eps), z0)
    np.testing.assert_allclose(diffusion.add_noise(z0, 1.0, eps), eps)
    t = np.linspace(0, 1, 5)
    np.testing.assert_allclose(diffusion.add_noise(z0, t, eps), (1 - t)[:, None, None, None] * z0
                               + t[:, None, None, None] * eps, rtol=1e-6, atol=1e-6)


def test_validation_loss_is_the_velocity_error(denoiser, rng):
    """LatentFlow.test_step scores || v(z_t, t, digit) - (eps - z_0) ||^2 with the EMA network."""
    import keras

    model = LatentFlow(denoiser, build_denoiser((64, 16, 4), widths=(16, 32)))
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    z0, eps = rng.standard_normal((2, 6, 64, 16, 4)).astype(np.float32)
    t = rng.uniform(size=(6, 1)).astype(np.float32)
    digits = np.arange(6, dtype=np.int32)
    loss = model.evaluate((z0, digits, eps, t), verbose=0, batch_size=6)
    z_t = diffusion.add_noise(z0, t[:, 0], eps)
    v = np.asarray(model.ema([z_t, t, digits[:, None]]))
    assert loss == pytest.approx(float(np.mean((v - (eps - z0)) ** 2)), rel=1e-4)


def test_guidance_mixes_the_two_velocities(denoiser, rng):
    z = rng.standard_normal((3, 64, 16, 4)).astype(np.float32)
    v_digit = diffusion.velocity(denoiser, z, 0.5, 7)
    v_none = diffusion.velocity(denoiser, z, 0.5, None)
    np.testing.assert_allclose(diffusion.velocity(denoiser, z, 0.5, 7, guidance=3.0),
                               v_none + 3.0 * (v_digit - v_none), rtol=1e-4, atol=1e-5)
    labels = np.full((3, 1), NULL_DIGIT, np.int32)
    np.testing.assert_allclose(v_none, np.asarray(denoiser([z, np.full((3, 1), 0.5, np.float32), labels])),
                               rtol=1e-5, atol=1e-6)


def test_sampler_is_seeded_and_its_path_ends_at_the_sample(denoiser):
    a, path = diffusion.sample(denoiser, 3, latent_shape=(64, 16, 4), digit=[1, 2, 3], steps=3, seed=4,
                               return_path=True)
    b = diffusion.sample(denoiser, 3, latent_shape=(64, 16, 4), digit=[1, 2, 3], steps=3, seed=4, batch_size=2)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    assert path.shape == (4, 3, 64, 16, 4)
    np.testing.assert_allclose(path[-1], a)
    np.testing.assert_allclose(path[0], np.random.default_rng(4).standard_normal((3, 64, 16, 4)), rtol=1e-6)


def test_euler_on_a_constant_field_is_exact():
    """With v = c everywhere, z_0 = z_1 - c whatever the method and the number of steps."""
    class Constant:
        def __call__(self, inputs, training=False):
            return np.full(inputs[0].shape, 0.25, np.float32)

    for method in diffusion.METHODS:
        out = diffusion.sample(Constant(), 2, latent_shape=(2, 2, 1), steps=5, method=method, seed=1)
        np.testing.assert_allclose(out, np.random.default_rng(1).standard_normal((2, 2, 2, 1)) - 0.25, rtol=1e-5)


@pytest.mark.parametrize("kwargs, match", [(dict(steps=0), "steps"), (dict(method="rk4"), "method"),
                                           (dict(digit=12), "digit"), (dict(n=0), "number")])
def test_sampler_refuses_bad_settings(denoiser, kwargs, match):
    args = dict(n=2, latent_shape=(64, 16, 4), steps=2) | kwargs
    n = args.pop("n")
    with pytest.raises(AudiogenError, match=match):
        diffusion.sample(denoiser, n, **args)


def _scores(acc_low, kid, *, hist=(30,) * 10, is_=(8.0, 7.5, 8.5)):
    return {"accuracy": {"estimate": acc_low + 0.01, "low": acc_low, "high": min(acc_low + 0.02, 1)},
            "histogram": list(hist), "rarest_share": min(hist) / sum(hist),
            "inception_score": dict(zip(("estimate", "low", "high"), is_)),
            "kid": dict(zip(("estimate", "low", "high"), kid))}


def _result(cnn_acc, mfcc_acc):
    real = {"inception_score": {"estimate": 9.0, "low": 8.8, "high": 9.2}}
    return {"conditional": {"cnn": _scores(cnn_acc, (0.1, 0.05, 0.15)), "mfcc": _scores(mfcc_acc, (0.2, 0.1, 0.3))},
            "unconditional": {"cnn": _scores(0.9, (0.1, 0.05, 0.15), hist=(3,) + (33,) * 9),
                              "mfcc": _scores(0.9, (0.1, 0.05, 0.15))},
            "cvae": {"cnn": _scores(0.9, (0.5, 0.4, 0.6)), "mfcc": _scores(0.9, (0.25, 0.15, 0.35))},
            "real_test": {"cnn": real, "mfcc": real},
            "speakers": {k: {"counts": [50] * 6} for k in ("ldm_conditional", "ldm_unconditional")}}


def test_a_goal_holds_only_when_both_judges_say_so():
    from audiogen_lib.ldm_evaluation import goal_rows

    rows = {r["goal"]: r for r in goal_rows(_result(0.98, 0.98))}
    asked = next(g for g in rows if g.startswith("asked"))
    assert rows[asked]["status"] == "met"
    assert next(r for g, r in rows.items() if g.startswith("asked"))["by"].keys() == {"cnn", "mfcc"}
    one_misses = {r["goal"]: r["status"] for r in goal_rows(_result(0.98, 0.90))}
    assert one_misses[asked] == "missed"
    # the CNN hears one digit in only 3 of 300 sounds (1%): missed by one judge is missed
    every = next(g for g in rows if g.startswith("no digit asked: every digit"))
    assert rows[every]["status"] == "missed"
    # KID: the cnn's intervals are apart, the mfcc's overlap: undecided, not met
    kid = next(g for g in rows if g.startswith("KID"))
    assert rows[kid]["status"] == "undecided"
    voices = [r["status"] for g, r in rows.items() if g.startswith("voices")]
    assert voices == ["met", "met"]


def test_the_sampler_settings_follow_the_written_rule(monkeypatch):
    """Guidance: the smallest within the tolerance of the best accuracy by the weaker judge (not the best itself);
    steps: the fewest as accurate as the most steps and with no KID above the most steps' upper bound."""
    from audiogen_lib import ldm_evaluation as le

    # accuracy by the weaker judge for each guidance (at BASE_STEPS) and each step count (at the chosen guidance)
    by_guidance = dict(zip(le.GUIDANCE_GRID, (0.40, 0.67, 0.73, 0.79, 0.80, 0.80)))
    by_steps = {10: (0.80, 0.9), 20: (0.79, 0.5), 40: (0.80, 0.5)}   # (accuracy, KID by each judge)
    calls = []

    def score(autoencoder, denoiser, judges, real_emb, *, n, steps, guidance, seed):
        calls.append((steps, guidance))
        acc, k = (by_guidance[guidance], 0.5) if steps == le.BASE_STEPS else by_steps[steps]
        scores = {j: {"accuracy": {"estimate": acc}, "kid": {"estimate": k, "low": k - 0.1, "high": k + 0.1}}
                  for j in ("cnn", "mfcc")}
        return {"steps": steps, "guidance": guidance, "scores": scores, "weaker_accuracy": acc}

    class Judge:
        def embedding(self, y):
            return y

    class Validation:
        waveforms = np.zeros((2, 4))

    monkeypatch.setattr(le, "_score_setting", score)
    choice = le.choose_sampler_settings(None, None, {"cnn": Judge(), "mfcc": Judge()}, Validation(),
                                        progress=lambda *_: None)
    # 0.79 is within 2 points of the best 0.80, and 4 is the smallest such strength
    assert choice["guidance"] == 4.0 and choice["guidance"] < max(le.GUIDANCE_GRID)
    # 10 steps are as accurate, but their KID 0.9 is above 40 steps' upper bound 0.6: 20 steps
    assert choice["steps"] == 20
    assert [w for s, w in calls if s == le.BASE_STEPS] == list(le.GUIDANCE_GRID)
    assert sorted(s for s, w in calls if s != le.BASE_STEPS) == [10, 40]   # 20 steps reused, not rescored
    by_steps[10] = (0.80, 0.55)
    assert le.choose_sampler_settings(None, None, {"cnn": Judge(), "mfcc": Judge()}, Validation(),
                                      progress=lambda *_: None)["steps"] == 10
    by_guidance[8.0] = 0.90    # now only the strongest is within the tolerance of the best
    assert le.choose_sampler_settings(None, None, {"cnn": Judge(), "mfcc": Judge()}, Validation(),
                                      progress=lambda *_: None)["guidance"] == 8.0
