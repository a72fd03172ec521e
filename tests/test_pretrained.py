"""Every shipped model reloads with safe_mode and still scores what its card says."""

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import pretrained  # noqa: E402
from audiogen_lib.features import load_features  # noqa: E402
from audiogen_lib.training import reconstruction_rmse  # noqa: E402

SHIPPED = pretrained.available()


def test_models_are_shipped_within_budget():
    kinds = {name.rsplit("_", 1)[0] for name in SHIPPED}
    assert {"vae", "unet", "unet_noskip", "classifier"} <= kinds
    assert {name.rsplit("_", 1)[1] for name in SHIPPED} == {"paper", "native8k"}
    size = sum(p.stat().st_size for p in pretrained.HERE.glob("*.keras"))
    assert size <= 10e6, f"shipped weights take {size / 1e6:.1f} MB, over the 10 MB budget"


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_matches_its_card(name):
    kind, config = name.rsplit("_", 1)
    model = pretrained.load_pretrained(kind, config)
    card = model.card
    assert card == pretrained.card(kind, config)
    assert model.feature_config.to_dict() == card["feature_config"]
    assert card["profile"] == "paper" and card["split"]["train"] == 2700
    assert card["command"].startswith("audiogen train")
    test = load_features("test", config=config)
    batch = card["hyperparameters"]["batch_size"]
    if kind == "classifier":
        x, y = test.x, test.digits
        loss = model.evaluate(x, y, batch_size=batch, verbose=0, return_dict=True)["loss"]
        accuracy = float(np.mean(model.predict(x, verbose=0).argmax(-1) == y))
        assert accuracy == pytest.approx(card["final"]["test_accuracy"], abs=0.01)
        assert accuracy >= 0.98
    else:
        args = (test.x,) if kind == "vae" else (test.x, test.x)
        loss = model.evaluate(*args, batch_size=batch, verbose=0, return_dict=True)["loss"]
        assert reconstruction_rmse(model, test.x) == pytest.approx(card["final"]["test_rmse"], rel=0.01)
    assert loss == pytest.approx(card["final"]["val_loss"], rel=0.01)
