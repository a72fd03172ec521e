"""Every shipped model reloads with safe_mode, is the file its card describes (weights' sha256),
and still scores what its card says."""

import json
import os
import shutil

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import AudiogenError, pretrained  # noqa: E402
from audiogen_lib.features import load_features  # noqa: E402
from audiogen_lib.stats import binomial_floor  # noqa: E402
from audiogen_lib.training import reconstruction_rmse  # noqa: E402

SHIPPED = pretrained.available()


def test_models_are_shipped_within_budget():
    kinds = {name.rsplit("_", 1)[0] for name in SHIPPED}
    assert {"vae", "unet", "unet_noskip", "classifier"} <= kinds
    assert {name.rsplit("_", 1)[1] for name in SHIPPED} == {"paper", "native8k"}
    size = sum(p.stat().st_size for p in pretrained.HERE.glob("*.keras"))
    assert size <= 16e6, f"shipped weights take {size / 1e6:.1f} MB, over the 16 MB budget"


@pytest.mark.parametrize("name", SHIPPED)
def test_every_card_records_the_weights_sha256(name):
    """Each card names the exact weights it describes, and the shipped file holds them."""
    from audiogen_lib.models import weights_sha256

    kind, config = name.rsplit("_", 1)
    card = pretrained.card(kind, config)
    assert len(card.get("weights_sha256", "")) == 64, (
        f"{name}.json records no weights_sha256: retrain and ship it with "
        f"`audiogen train {kind.replace('_noskip', '')} --config {config} --profile paper --ship`")
    model = pretrained.load_pretrained(kind, config)  # raises if the file does not match the card
    assert weights_sha256(model) == card["weights_sha256"] == model.weights_sha256


@pytest.mark.parametrize("name", SHIPPED)
def test_every_card_says_which_commit_and_date_its_weights_come_from(name):
    """A card written by the run records the run's commit and date; one written before cards did
    names the first commit that shipped these weights, which must exist and carry them."""
    import re
    import subprocess

    kind, config = name.rsplit("_", 1)
    card = pretrained.card(kind, config)
    assert card["command"].startswith("audiogen train"), f"{name}.json: no training command"
    if card.get("git_commit"):
        assert re.fullmatch(r"[0-9a-f]{40}", card["git_commit"]) and card.get("date"), name
        return
    shipped = card.get("shipped_in") or {}
    assert re.fullmatch(r"[0-9a-f]{40}", shipped.get("git_commit") or "") and shipped.get("date"), (
        f"{name}.json records neither the run's commit and date nor the commit that shipped it: "
        f"retrain and ship it with its card's command")
    if not (pretrained.HERE.parents[1] / ".git").exists():
        pytest.skip("not a git checkout: the shipping commit cannot be looked up")
    old = subprocess.run(["git", "show", f"{shipped['git_commit']}:audiogen_lib/pretrained/{name}.json"],
                         cwd=pretrained.HERE, capture_output=True, text=True)
    assert old.returncode == 0, f"{name}.json: commit {shipped['git_commit']} has no such card ({old.stderr})"
    assert json.loads(old.stdout)["weights_sha256"] == card["weights_sha256"], (
        f"{name}.json: the commit it names shipped other weights")


def test_a_model_file_that_does_not_match_its_card_is_refused(tmp_path, monkeypatch):
    """A shipped file swapped or altered after its card was written: loading names both."""
    name = SHIPPED[0]
    shutil.copyfile(pretrained.HERE / f"{name}.keras", tmp_path / f"{name}.keras")
    card = json.loads((pretrained.HERE / f"{name}.json").read_text())
    card["weights_sha256"] = "0" * 64
    (tmp_path / f"{name}.json").write_text(json.dumps(card))
    monkeypatch.setattr(pretrained, "HERE", tmp_path)
    kind, config = name.rsplit("_", 1)
    with pytest.raises(AudiogenError, match=rf"{name}.keras do not match its card .*{name}.json.*says 0{{64}}"):
        pretrained.load_pretrained(kind, config)


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_model_matches_its_card(name):
    kind, config = name.rsplit("_", 1)
    model = pretrained.load_pretrained(kind, config)
    card = model.card  # the card saved inside the .keras file by the run
    beside = pretrained.card(kind, config)  # <name>.json, which may gain provenance afterwards
    later = {"git_commit", "date", "shipped_in", "provenance_note"}
    assert {k: v for k, v in card.items() if k not in later} == {k: v for k, v in beside.items() if k not in later}
    if card.get("git_commit"):  # what the run wrote is kept, or completed (a short hash to the full one)
        assert beside["git_commit"].startswith(card["git_commit"].split()[0]), name
    assert model.feature_config.to_dict() == card["feature_config"]
    assert model.normalisation == card["normalisation"]["mode"] == "clip"
    assert card["profile"] == "paper" and card["command"].startswith("audiogen train")
    takes = {"train": "10-49", "validation": "5-9", "test": "0-4"}
    if kind == "ldm":  # a generator: its test scores are in results/ldm_paper.json, not in its card
        takes.pop("test")
    assert {k: v["takes"] for k, v in card["split"].items()} == takes
    assert card["split"]["train"]["clips"] == 2400
    validation = load_features("validation", config=config)
    test = load_features("test", config=config)
    batch = card["hyperparameters"]["batch_size"]
    if kind == "ldm":  # the EMA denoiser's velocity error on the validation latents, with the card's fixed noise
        from audiogen_lib import diffusion

        autoencoder = pretrained.load_pretrained("latent_ae", config)
        assert card["autoencoder"]["weights_sha256"] == autoencoder.weights_sha256
        z0, digits, eps, t = diffusion._validation_batch(diffusion.encode_latents(autoencoder, validation.x),
                                                         validation.digits, card["hyperparameters"]["seed"])
        v = model.predict([diffusion.add_noise(z0, t[:, 0], eps), t, digits[:, None]], batch_size=256, verbose=0)
        per_latent = np.mean((v - (eps - z0)) ** 2, axis=(1, 2, 3))
        # Keras logs the mean of the validation batches' means (batches of 256, as in training)
        logged = np.mean([per_latent[i:i + 256].mean() for i in range(0, len(per_latent), 256)])
        assert float(logged) == pytest.approx(card["final"]["val_loss"], rel=0.01)
        return
    if kind == "classifier":
        loss = model.evaluate(validation.x, validation.digits, batch_size=batch, verbose=0, return_dict=True)["loss"]
        accuracy = float(np.mean(model.predict(test.x, verbose=0).argmax(-1) == test.digits))
        assert accuracy == pytest.approx(card["final"]["test_accuracy"], abs=0.01)
        # the floor follows from the card: a classifier as accurate as on its validation clips falls
        # below it on these test clips with probability under 0.1% (stats.binomial_floor)
        floor = binomial_floor(card["final"]["validation_accuracy"], len(test))
        assert accuracy >= floor, (f"{name}: test accuracy {accuracy:.3f} below {floor:.3f}, the floor its "
                                   f"validation accuracy {card['final']['validation_accuracy']:.3f} sets on "
                                   f"{len(test)} clips")
    elif kind in ("vae_gen", "cvae"):  # the generative VAEs: their loss is computed on a dataset of inputs
        import tensorflow as tf

        conditional = kind == "cvae"
        inputs = ((validation.x, validation.digits),) if conditional else validation.x
        loss = model.evaluate(tf.data.Dataset.from_tensor_slices(inputs).batch(batch), verbose=0,
                              return_dict=True)["loss"]
        rmse = reconstruction_rmse(model, test.x, digits=test.digits if conditional else None)
        assert rmse == pytest.approx(card["final"]["test_rmse"], rel=0.01)
    else:
        args = (validation.x,) if kind in ("vae", "latent_ae") else (validation.x, validation.x)
        loss = model.evaluate(*args, batch_size=batch, verbose=0, return_dict=True)["loss"]
        assert reconstruction_rmse(model, test.x) == pytest.approx(card["final"]["test_rmse"], rel=0.01)
    assert loss == pytest.approx(card["final"]["val_loss"], rel=0.01)


def test_the_latent_diffusion_card_samples_with_the_validation_choice_on_record():
    """`audiogen generate --model ldm` samples with the card's steps and guidance: those that
    results/ldm_paper.json chose on validation, by the rule the library states today."""
    from audiogen_lib import diffusion, ldm_evaluation

    if "ldm_paper" not in SHIPPED:
        pytest.skip("no shipped latent diffusion model")
    results = pretrained.HERE.parents[1] / "results" / "ldm_paper.json"
    if not results.is_file():
        pytest.skip("results/ldm_paper.json is not in this checkout")
    chosen = json.loads(results.read_text())["validation"]
    card = pretrained.card("ldm", "paper")["sampler"]
    assert {k: card[k] for k in ("steps", "guidance", "method", "rule")} == {
        k: chosen[k] for k in ("steps", "guidance", "method", "rule")}
    assert chosen["rule"] == ldm_evaluation.RULE
    assert [r["guidance"] for r in chosen["guidance_rows"]] == list(ldm_evaluation.GUIDANCE_GRID)
    assert diffusion.sampler_settings(pretrained.load_pretrained("ldm", "paper")) == {
        k: chosen[k] for k in ("steps", "guidance", "method")}
