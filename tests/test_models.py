import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402

from audiogen_lib import AudiogenError  # noqa: E402
from audiogen_lib.models import (VAE, weights_sha256, build_unet, build_vae, kl_divergence, load_model, rmse,  # noqa: E402
                                 save_model)

SHAPE = (256, 64, 1)


@pytest.fixture(scope="module")
def batch():
    # smooth images in [0, 1] with a few bright rows, like spectrograms of harmonic sounds
    f = np.linspace(0, 1, 256)[:, None]
    t = np.linspace(0, 1, 64)[None, :]
    x = [np.exp(-(((f * (k + 2)) % 1 - 0.5) / 0.1) ** 2) * np.sin(np.pi * t) ** 2 for k in range(8)]
    return np.stack(x)[..., None].astype("float32")


@pytest.mark.parametrize("preset, params", [("paper", 2_371_777), ("fast", None)])
def test_vae_shapes_and_size(preset, params):
    vae = build_vae(SHAPE, preset=preset)
    x = np.zeros((2, *SHAPE), "float32")
    mu, log_var = vae.encoder(x)
    assert mu.shape == log_var.shape == (2, 128)
    assert vae(x).shape == (2, *SHAPE)
    assert vae.decoder(np.zeros((3, 128), "float32")).shape == (3, *SHAPE)
    if params:
        assert vae.count_params() == params
    else:
        assert vae.count_params() < build_vae(SHAPE, preset="paper").count_params() / 3


@pytest.mark.parametrize("preset", ["paper", "fast"])
def test_unet_shapes(preset):
    unet = build_unet(SHAPE, preset=preset)
    out = unet(np.zeros((2, *SHAPE), "float32"))
    assert out.shape == (2, *SHAPE) and float(np.min(out)) >= 0 and float(np.max(out)) <= 1


def test_unet_without_skips_has_no_concatenation():
    def concats(m):
        return [layer for layer in m.layers if isinstance(layer, keras.layers.Concatenate)]

    with_skips, without = build_unet(SHAPE), build_unet(SHAPE, skip_connections=False)
    assert len(concats(with_skips)) == 2 and concats(without) == []
    # the same layers otherwise: every named layer of the plain autoencoder is in the U-Net
    assert {layer.name for layer in without.layers} <= {layer.name for layer in with_skips.layers}


def test_vae_inference_uses_mu_and_sampling_is_seeded(batch):
    vae = build_vae(batch.shape[1:], preset="fast", seed=7, strides=(2, 2, 2, (2, 1), (2, 1)))
    np.testing.assert_allclose(vae(batch), vae(batch))  # deterministic from mu
    a = build_vae(batch.shape[1:], preset="fast", seed=7, strides=(2, 2, 2, (2, 1), (2, 1)))
    a.set_weights(vae.get_weights())
    np.testing.assert_allclose(vae(batch, sample=True), a(batch, sample=True), atol=1e-6)
    assert not np.allclose(vae(batch, sample=True), vae(batch))


def test_kl_closed_form_matches_monte_carlo():
    rng = np.random.default_rng(1)
    mu = rng.normal(size=(4, 3)).astype("float32")
    log_var = rng.normal(scale=0.5, size=(4, 3)).astype("float32")
    closed = np.asarray(kl_divergence(mu, log_var))
    sigma = np.exp(0.5 * log_var)
    z = mu + sigma * rng.normal(size=(200_000, 4, 3))
    log_q = -0.5 * (((z - mu) / sigma) ** 2 + log_var + np.log(2 * np.pi))
    log_p = -0.5 * (z**2 + np.log(2 * np.pi))
    mc = (log_q - log_p).sum(-1).mean(0)
    np.testing.assert_allclose(closed, mc, rtol=0.03, atol=0.02)
    assert np.all(closed >= 0) and float(np.asarray(kl_divergence(np.zeros((1, 5)), np.zeros((1, 5))))[0]) == 0


@pytest.mark.parametrize("reconstruction", ["rmse", "mse"])
def test_vae_loss_falls_on_a_tiny_batch(batch, reconstruction):
    keras.utils.set_random_seed(0)
    vae = build_vae(batch.shape[1:], preset="fast", alpha=1000.0, reconstruction=reconstruction,
                    strides=(2, 2, 2, (2, 1), (2, 1)))
    vae.compile(optimizer=keras.optimizers.Adam(1e-3))
    hist = vae.fit(batch, epochs=20, batch_size=8, verbose=0).history
    assert set(hist) == {"loss", "reconstruction", "kl"}
    assert hist["reconstruction"][-1] < 0.7 * hist["reconstruction"][0]
    assert hist["loss"][-1] == pytest.approx(1000 * hist["reconstruction"][-1] + hist["kl"][-1], rel=1e-4)
    val = vae.evaluate(batch, verbose=0, return_dict=True)
    assert set(val) == {"loss", "reconstruction", "kl"}


def test_unet_loss_falls_on_a_tiny_batch(batch):
    keras.utils.set_random_seed(0)
    unet = build_unet(batch.shape[1:], filters=(8, 16))
    unet.compile(optimizer=keras.optimizers.Adam(3e-3), loss=rmse)
    hist = unet.fit(batch, batch, epochs=20, batch_size=8, verbose=0).history
    assert hist["loss"][-1] < 0.7 * hist["loss"][0]


@pytest.mark.parametrize("kind", ["vae", "unet"])
def test_save_and_load_with_safe_mode(tmp_path, batch, kind):
    model = (build_vae(batch.shape[1:], preset="fast", strides=(2, 2, 2, (2, 1), (2, 1))) if kind == "vae"
             else build_unet(batch.shape[1:], filters=(8, 16)))
    model.compile(optimizer="adam", **({} if kind == "vae" else {"loss": rmse}))
    path = save_model(model, tmp_path / f"{kind}.keras", config="native8k", card={"epochs": 3})
    loaded = load_model(path)
    np.testing.assert_allclose(loaded.predict(batch, verbose=0), model.predict(batch, verbose=0), atol=1e-6)
    assert loaded.feature_config.name == "native8k" and loaded.card == {"epochs": 3}
    assert isinstance(loaded, VAE) == (kind == "vae")
    assert [p.name for p in tmp_path.iterdir()] == [f"{kind}.keras"]  # nothing half-written left
    model.fit(batch, *(() if kind == "vae" else (batch,)), epochs=1, verbose=0)  # the optimizer now has state
    path = save_model(model, tmp_path / f"{kind}.keras", config="native8k")
    assert path.stat().st_size < 4 * model.count_params() * 1.3 + 50_000  # weights only, no optimizer state
    import zipfile

    with zipfile.ZipFile(path) as z:  # every member deflated: the shipped models stay within their budget
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    assert weights_sha256(load_model(path)) == weights_sha256(model)


def test_bad_settings_are_refused(tmp_path):
    with pytest.raises(AudiogenError, match="preset 'huge'"):
        build_vae(SHAPE, preset="huge")
    with pytest.raises(AudiogenError, match="reconstruction"):
        build_vae(SHAPE, reconstruction="l1")
    with pytest.raises(AudiogenError, match="divisible"):
        build_unet((250, 64, 1))
    with pytest.raises(AudiogenError, match="does not exist"):
        load_model(tmp_path / "none.keras")
    (tmp_path / "junk.keras").write_bytes(b"not a zip")
    with pytest.raises(AudiogenError, match="not a model saved by audiogen"):
        load_model(tmp_path / "junk.keras")


# --- a model refuses features it was not trained on ---------------------------------------------

def _feature_set(config, normalisation="clip", n=2):
    import dataclasses

    from audiogen_lib.config import get_config
    from audiogen_lib.features import FeatureSet

    config = get_config(config) if not dataclasses.is_dataclass(config) else config
    x = np.random.default_rng(0).random((n, *config.shape), dtype=np.float32)
    return FeatureSet(config, normalisation, x, np.zeros(n), np.ones(n), np.zeros((n, config.n_samples)), [])


@pytest.fixture(scope="module")
def saved_unet(tmp_path_factory):
    unet = build_unet(SHAPE, filters=(8, 16))
    return save_model(unet, tmp_path_factory.mktemp("m") / "unet.keras", config="paper", card={"epochs": 1})


def test_model_carries_its_config_and_normalisation(saved_unet):
    from audiogen_lib.models import predict, weights_sha256

    model = load_model(saved_unet)
    assert model.feature_config.name == "paper" and model.normalisation == "clip"
    assert model.weights_sha256 == weights_sha256(model)
    out = predict(model, _feature_set("paper"))
    assert out.shape == (2, *SHAPE)


def test_model_refuses_features_of_another_config(saved_unet):
    """paper and native8k images have the same shape (256 x 64): only the config tells them apart."""
    import dataclasses

    from audiogen_lib.config import CONFIGS
    from audiogen_lib.models import check_features, predict

    model = load_model(saved_unet)
    native = _feature_set("native8k")
    assert native.x.shape[1:] == SHAPE
    with pytest.raises(AudiogenError, match=r"trained on features of config 'paper'.*made with config 'native8k'"):
        predict(model, native)
    with pytest.raises(AudiogenError, match=r"config 'paper'.*config 'native8k'"):
        predict(model, native.x, config="native8k")     # a plain array, said to be native8k
    with pytest.raises(AudiogenError, match=r"'clip' normalisation.*'global' normalisation"):
        check_features(model, _feature_set("paper", "global"))
    quieter = dataclasses.replace(CONFIGS["paper"], top_db=60.0)  # same name, another setting
    with pytest.raises(AudiogenError, match="differ in top_db"):
        check_features(model, config=quieter)
    with pytest.raises(AudiogenError, match="say which features these are"):
        predict(model, native.x)                         # an array that does not say where it came from
    with pytest.raises(AudiogenError, match="does not say which features it was trained on"):
        predict(build_unet(SHAPE, filters=(8, 16)), native)


def test_load_refuses_weights_that_do_not_match_their_sha256(saved_unet, tmp_path):
    import json
    import zipfile

    from audiogen_lib.models import weights_sha256

    model = load_model(saved_unet)
    good = model.weights_sha256
    # a file whose weights were changed after its card recorded their hash
    other = build_unet(SHAPE, filters=(8, 16))
    other.set_weights([w + 0.01 for w in model.get_weights()])
    altered = save_model(other, tmp_path / "altered.keras", config="paper", card={"weights_sha256": good})
    with pytest.raises(AudiogenError, match=f"do not match the card inside .*altered.keras.*{weights_sha256(other)}.*{good}"):
        load_model(altered)
    # the hash save_model records is checked too, card or not
    tampered = tmp_path / "tampered.keras"
    with zipfile.ZipFile(saved_unet) as src, zipfile.ZipFile(tampered, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "audiogen.json":
                info = json.loads(data)
                info["weights_sha256"] = "0" * 64
                data = json.dumps(info).encode()
            dst.writestr(item, data)
    with pytest.raises(AudiogenError, match=f"the sha256 recorded in .*tampered.keras.*{good}.*{'0' * 64}"):
        load_model(tampered)
    with pytest.raises(AudiogenError, match="shipped card says"):
        load_model(saved_unet, expected_sha256="f" * 64, expected_from="the shipped card")
    assert load_model(saved_unet, expected_sha256=good).weights_sha256 == good
