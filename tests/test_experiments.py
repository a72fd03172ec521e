import json
import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import AudiogenError  # noqa: E402
from audiogen_lib.config import get_config  # noqa: E402
from audiogen_lib.experiments import epochs_to_plateau, perturb_db, verdicts  # noqa: E402
from audiogen_lib.features import normalise  # noqa: E402


def test_one_offset_per_clip_is_removed_by_per_clip_normalisation(rng):
    config = get_config("paper")
    S_db = rng.uniform(-60, 20, size=(4, 256, 64)).astype("float32")
    shifted = perturb_db(S_db, mode="clip", seed=1)
    offsets = (shifted - S_db).reshape(4, -1)
    assert np.allclose(offsets, offsets[:, :1], atol=1e-4) and np.all(np.abs(offsets) <= 10)
    np.testing.assert_allclose(normalise(shifted, config=config)[0], normalise(S_db, config=config)[0], atol=1e-5)


def test_per_bin_noise_changes_the_input(rng):
    config = get_config("paper")
    S_db = rng.uniform(-60, 20, size=(2, 256, 64)).astype("float32")
    noisy = perturb_db(S_db, mode="bin", max_db=10, seed=1)
    delta = noisy - S_db
    assert np.abs(delta).max() <= 10 and delta.std() == pytest.approx(20 / np.sqrt(12), rel=0.02)
    assert not np.allclose(normalise(noisy, config=config)[0], normalise(S_db, config=config)[0], atol=1e-2)
    with pytest.raises(AudiogenError, match="perturbation mode 'frame'"):
        perturb_db(S_db, mode="frame")


@pytest.mark.parametrize("values, expected", [([5, 3, 2, 1.01, 1.0, 1.0], 4), ([1.0, 2, 3], 1), ([3, 2, 1], 3)])
def test_epochs_to_plateau(values, expected):
    assert epochs_to_plateau(values) == expected


def _results(unet_better: bool):
    good, bad = {"pesq": 3.0, "lsd_db": 5.0, "rmse": 0.02}, {"pesq": 1.5, "lsd_db": 12.0, "rmse": 0.05}
    rec = {"vae": bad if unet_better else good, "unet": good if unet_better else bad,
           "unet_noskip": {"pesq": 1.4, "lsd_db": 13.0, "rmse": 0.06},
           "ceiling": {"pesq": 3.5}, "zero_phase": {"pesq": 1.9}}
    move = {"input_change": 0.1, "output_change": 0.05, "error_to_clean_target": 0.06, "clean_error": 0.04}
    rob = {m: {"input": {"input_change": 0.1}, "vae": move, "unet": move, "unet_noskip": move} for m in ("clip", "bin")}
    conv = {"vae": {"epochs_to_plateau": 40, "seconds_to_plateau": 400, "epochs_to_vae_best": 40},
            "unet": {"epochs_to_plateau": 4, "seconds_to_plateau": 100, "epochs_to_vae_best": 2}}
    gen = {"rows": {"prior N(0, I)": {"inception_score": 1.5}, "real test audio": {"inception_score": 9.5},
                    "Gaussian fitted to the training latents": {"inception_score": 4.0}}}
    return {"reconstruction": rec, "robustness": rob, "convergence": conv, "generation": gen}


def test_verdicts_follow_the_numbers():
    def by_claim(results):
        return {x["id"]: x["verdict"] for x in verdicts(results)}

    v = by_claim(_results(unet_better=True))
    assert v["reconstruction"] == "holds" and v["convergence"] == "holds" and v["generation"] == "does not hold"
    assert v["skip_connections"] == "holds" and v["griffin_lim"] == "does not hold"
    assert by_claim(_results(unet_better=False))["reconstruction"] == "does not hold"


def test_reproduce_smoke_writes_every_result(tmp_path, capsys):
    from audiogen_lib.cli import main

    assert main(["reproduce", "--profile", "smoke", "--out", str(tmp_path)]) == 0
    results = json.loads((tmp_path / "results.json").read_text())
    assert results["profile"] == "smoke" and results["n_test"] == 16
    assert {"original", "ceiling", "zero_phase", "vae", "unet", "unet_noskip", "pca"} == set(results["reconstruction"])
    assert results["reconstruction"]["original"]["rmse"] == 0.0
    assert {v["verdict"] for v in results["verdicts"]} <= {"holds", "partly", "does not hold"}
    report = (tmp_path / "results.md").read_text()
    assert "## Verdicts" in report and "| **" in report
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
