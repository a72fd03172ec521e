import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import AudiogenError  # noqa: E402
from audiogen_lib.cli import main  # noqa: E402
from audiogen_lib.models import load_model  # noqa: E402
from audiogen_lib.training import reconstruction_rmse, train  # noqa: E402


def test_training_is_seeded(tmp_path):
    a = train("unet", config="paper", profile="smoke", n_train=16, n_test=8, verbose=0)
    b = train("unet", config="paper", profile="smoke", n_train=16, n_test=8, verbose=0)
    assert a.history["loss"] == b.history["loss"]
    assert a.card["weights_sha256"] == b.card["weights_sha256"]   # what `reproduce --profile paper` relies on
    assert a.card["wall_time_s"] > 0      # the time is measured, and recorded, but stops nothing


def test_reconstruction_rmse_of_a_perfect_model_is_zero():
    import keras

    identity = keras.Sequential([keras.Input((256, 64, 1)), keras.layers.Identity()])
    x = np.random.default_rng(0).random((5, 256, 64, 1)).astype("float32")
    assert reconstruction_rmse(identity, x) == 0.0


def test_unknown_kind_is_refused():
    with pytest.raises(AudiogenError, match="kind 'gan'"):
        train("gan", profile="smoke")


def test_cli_reports_bad_input(capsys):
    assert main(["train", "vae", "--config", "paper44k", "--profile", "smoke"]) == 2
    assert "unknown feature config 'paper44k'" in capsys.readouterr().err


def test_replay_early_stopping_matches_every_shipped_run():
    """A shipped card's own settings, replayed on its history, stop where the run stopped: the replay is Keras'."""
    from audiogen_lib import pretrained
    from audiogen_lib.training import replay_early_stopping

    for name in pretrained.available():
        card = pretrained.card(*name.rsplit("_", 1))
        hp, h = card["hyperparameters"], card["history"]
        if card["kind"] in ("vae_gen", "cvae", "latent_ae", "ldm") or "val_loss" not in h:
            continue                          # warm-up delays their stopping (start_from_epoch)
        min_delta = hp["min_delta"] * hp.get("alpha", 1.0)
        r = replay_early_stopping(h["val_loss"], patience=hp["patience"], epochs=hp["epochs"], min_delta=min_delta)
        assert r["stopped_at"] == card["epochs_run"], name
        assert r["best_epoch"] == card["best_epoch"], name


def test_the_classifier_settings_are_the_validation_choice():
    """Patience and epochs of the judge: among patience 3/5/10 and caps 30/60, the lowest validation loss."""
    from audiogen_lib import pretrained
    from audiogen_lib.config import get_profile
    from audiogen_lib.training import DEFAULTS, replay_early_stopping

    shipped = (DEFAULTS["classifier"]["patience"], get_profile("paper").classifier_epochs)
    for config in ("paper", "native8k"):
        h = pretrained.card("classifier", config)["history"]
        kept = {(p, e): h["val_loss"][replay_early_stopping(h["val_loss"], patience=p, epochs=e)["best_epoch"] - 1]
                for p in (3, 5, 10) for e in (30, 60)}
        assert kept[shipped] == min(kept.values()), (config, kept)
