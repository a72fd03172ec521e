import numpy as np
import pytest

from audiogen_lib import AudiogenError, features
from audiogen_lib.config import FeatureConfig, get_config


@pytest.mark.parametrize("name", ["paper", "native8k"])
def test_splits_have_the_promised_shapes(name):
    train = features.load_features("train", config=name)
    validation = features.load_features("validation", config=name)
    test = features.load_features("test", config=name)
    assert train.x.shape == (2400, 256, 64, 1) and validation.x.shape == test.x.shape == (300, 256, 64, 1)
    assert train.x.dtype == np.float32 and 0 <= train.x.min() and train.x.max() <= 1
    assert np.bincount(test.digits).tolist() == np.bincount(validation.digits).tolist() == [30] * 10
    assert test.waveforms.shape == (300, get_config(name).n_samples)


def test_global_normalisation_uses_the_fixed_range():
    test = features.load_features("test", config="paper", normalisation="global")
    assert np.all(test.db_min == -60) and np.all(test.db_max == 40)


def test_balanced_subset():
    sub = features.load_features("test").subset(20)
    assert len(sub) == 20 and np.bincount(sub.digits).tolist() == [2] * 10


@pytest.fixture
def fake_compute(monkeypatch):
    calls = []

    def compute(config, data_dir):
        calls.append(config)
        n = 3000
        return {"waveforms": np.zeros((n, 4), np.float32), "S_db": np.random.default_rng(0).normal(size=(n, 2, 3)),
                "lengths": np.zeros(n, np.int32), "names": np.array(["x"] * n)}

    monkeypatch.setattr(features, "_compute_all", compute)
    return calls


def test_cache_is_reused_and_rebuilt_when_the_config_changes(tmp_path, fake_compute):
    paper = get_config("paper")
    features.load_all_spectrograms(paper, cache=tmp_path)
    features.load_all_spectrograms(paper, cache=tmp_path)
    assert len(fake_compute) == 1
    quieter = FeatureConfig.from_dict({**paper.to_dict(), "top_db": 60.0})
    features.load_all_spectrograms(quieter, cache=tmp_path)
    assert len(fake_compute) == 2 and len(list(tmp_path.glob("*.npz"))) == 2


def test_cache_is_rebuilt_when_the_manifest_changes(tmp_path, fake_compute, monkeypatch):
    features.load_all_spectrograms("paper", cache=tmp_path)
    monkeypatch.setattr("audiogen_lib.data.manifest_hash", lambda: "another-release")
    features.load_all_spectrograms("paper", cache=tmp_path)
    assert len(fake_compute) == 2


def test_damaged_cache_is_rebuilt(tmp_path, fake_compute):
    features.load_all_spectrograms("paper", cache=tmp_path)
    (path,) = tmp_path.glob("*.npz")
    path.write_bytes(b"garbage")
    arrays = features.load_all_spectrograms("paper", cache=tmp_path)
    assert len(fake_compute) == 2 and arrays["S_db"].shape == (3000, 2, 3)


def test_failed_write_leaves_nothing(tmp_path, fake_compute, monkeypatch):
    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        features.load_all_spectrograms("paper", cache=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_unknown_split_is_refused_before_any_work(fake_compute):
    with pytest.raises(AudiogenError, match="split"):
        features.load_features("valid")
    assert fake_compute == []
