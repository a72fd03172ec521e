import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import AudiogenError  # noqa: E402
from audiogen_lib.cli import main  # noqa: E402
from audiogen_lib.models import load_model  # noqa: E402
from audiogen_lib.training import reconstruction_rmse, train  # noqa: E402


@pytest.mark.parametrize("kind", ["vae", "unet", "classifier"])
def test_smoke_training_writes_history_card_and_model(tmp_path, kind):
    run = train(kind, config="paper", profile="smoke", epochs=2, out_dir=tmp_path, verbose=0)
    assert {p.name for p in tmp_path.iterdir()} == {"history.json", "card.json", "model.keras", "best.weights.h5"}
    history = json.loads((tmp_path / "history.json").read_text())
    assert len(history["loss"]) == len(history["wall_time"]) == 2 and "val_loss" in history
    card = json.loads((tmp_path / "card.json").read_text())
    assert card["kind"] == kind and card["feature_config"]["name"] == "paper" and card["split"]["train"] == 64
    assert card["best_epoch"] == int(np.argmin(history["val_loss"])) + 1
    model = load_model(tmp_path / "model.keras")
    assert model.feature_config.name == "paper"
    np.testing.assert_allclose(model.predict(np.zeros((1, 256, 64, 1), "float32"), verbose=0),
                               run.model.predict(np.zeros((1, 256, 64, 1), "float32"), verbose=0), atol=1e-6)


def test_training_is_seeded(tmp_path):
    a = train("unet", config="paper", profile="smoke", verbose=0)
    b = train("unet", config="paper", profile="smoke", verbose=0)
    assert a.history["loss"] == b.history["loss"]


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
