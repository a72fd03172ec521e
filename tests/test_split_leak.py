"""No test clip (takes 0-4) is read before training ends: every model kind and the ldm's denoiser
(`audiogen sweep`: tests/test_sweep.py); and every kind writes its run folder (history, card, model).

The spy (tests/split_spy.py, the ``spy`` fixture) watches every path by which FSDD data enters the
library and the return of ``keras.Model.fit``. A read that hands a test take to the caller before
the last fit has returned fails the test. The first test shows the spy catches a leak, so a green
run means something.
"""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from split_spy import TINY  # noqa: E402

from audiogen_lib import data, features  # noqa: E402


def test_the_spy_catches_a_test_read_before_fit_ends(spy):
    """Each loading path, used before a fit returns, is caught; used after, it is not."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0)
    assert [kind for kind, *_ in spy.events] == ["fit_end"]        # the wrapped fit records its return
    wav = data.locate_fsdd() / "0_jackson_3.wav"
    leaks = {"load_features('test')": lambda: features.load_features("test"),
             "load_features('all')": lambda: features.load_features("all"),
             "load_all_spectrograms": lambda: features.load_all_spectrograms("paper"),
             "list_recordings('test')": lambda: data.list_recordings("test"),
             "load_audio": lambda: features.load_audio(wav, sr=8000),
             "load_recording": lambda: features.load_recording(wav)}
    for what, leak in leaks.items():
        spy.events.clear()
        leak()
        spy.log("fit_end")
        with pytest.raises(AssertionError, match="test data read before training ended"):
            spy.assert_no_test_read_before_training_ends()
        assert spy.test_reads()[0][0].startswith(what)
    spy.events.clear()
    spy.log("fit_end")
    features.load_features("test")
    assert [w for w, _ in spy.test_reads()] == ["load_features('test')"]
    spy.assert_no_test_read_before_training_ends()          # after the fit: a final score, allowed
    spy.events.clear()
    features.load_features("validation"), data.list_recordings("train")
    features.load_recording(data.locate_fsdd() / "0_jackson_7.wav")
    assert spy.test_reads() == []                             # validation and training takes are not test reads
    with pytest.raises(AssertionError, match="never returned"):
        spy.assert_no_test_read_before_training_ends()       # no fit watched: nothing was shown


@pytest.mark.parametrize("kind", ["vae", "unet", "classifier", "vae_gen", "cvae", "latent_ae"])
def test_no_test_clip_is_read_before_training_ends(spy, kind, tmp_path):
    """Training a kind reads test clips only after fit returns, and writes its run folder."""
    import json

    from audiogen_lib.models import load_model
    from audiogen_lib.runtime import git_state
    from audiogen_lib.training import train

    run = train(kind, config="paper", profile=TINY, epochs=2, verbose=0, out_dir=tmp_path)
    spy.assert_no_test_read_before_training_ends()
    # the card's final test score is read after fit: once, by load_features
    assert [w for w, _ in spy.test_reads()] == ["load_features('test')"], spy.events
    assert run.card["split"]["test"]["clips"] == TINY.n_test
    # the run folder: history, card (splits, normalisation, provenance), the model as it was trained
    assert {p.name for p in tmp_path.iterdir()} == {"history.json", "card.json", "model.keras", "best.weights.h5"}
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == len(history["wall_time"]) == 2 and "val_loss" in history
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["kind"] == kind and card["feature_config"]["name"] == "paper"
    assert {k: v["takes"] for k, v in card["split"].items()} == {"train": "10-49", "validation": "5-9", "test": "0-4"}
    assert card["split"]["train"]["clips"] == TINY.n_train and card["split"]["validation"]["clips"] == TINY.n_test
    lo, hi = card["normalisation"]["generation_db_range"]
    assert hi - lo == pytest.approx(card["feature_config"]["top_db"])
    assert len(card["weights_sha256"]) == 64
    assert card["best_epoch"] == int(np.argmin(history["val_loss"])) + 1
    assert card["command"] and card["date"][:2] == "20"
    assert (card["git_commit"], card["git_dirty_tracked_files"]) == git_state()
    x = np.zeros((1, 256, 64, 1), "float32")
    if kind != "cvae":   # the cvae reads a digit too
        np.testing.assert_allclose(load_model(tmp_path / "model.keras").predict(x, verbose=0),
                                   run.model.predict(x, verbose=0), atol=1e-6)
    if kind == "latent_ae":   # the ldm's denoiser trains on this autoencoder's latents, and reads no test clip at all
        from audiogen_lib.diffusion import train_denoiser

        # the two cards (checked here, where both are trained anyway): the latent's scale travels with the
        # saved model, and the denoiser names the autoencoder whose latents it learned
        assert run.card["latent"]["shape"] == [64, 16, 4] and run.card["latent"]["scale"] > 0
        loaded = load_model(tmp_path / "model.keras")
        assert loaded.scale == pytest.approx(run.card["latent"]["scale"])
        spy.events.clear()
        ldm = train_denoiser(config="paper", profile=TINY, autoencoder=tmp_path / "model.keras", epochs=1,
                             widths=(8, 16), verbose=0)
        spy.assert_no_test_read_before_training_ends()
        assert spy.test_reads() == []
        assert ldm.card["autoencoder"]["weights_sha256"] == loaded.weights_sha256
        assert ldm.card["split"]["train"]["clips"] == TINY.n_train and "test" not in ldm.card["split"]
        assert ldm.card["best_epoch"] == 1 and np.isfinite(ldm.card["final"]["val_loss"])
