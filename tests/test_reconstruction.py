import librosa
import numpy as np
import pytest

from audiogen_lib import AudiogenError
from audiogen_lib.features import waveform_to_features
from audiogen_lib.metrics import spectral_convergence
from audiogen_lib.reconstruction import features_to_audio, griffinlim, zero_phase_istft


def _true_magnitude(y, config):
    return np.abs(librosa.stft(y, n_fft=config.n_fft, hop_length=config.hop_length))


@pytest.mark.parametrize("n_iter, bound", [(32, 0.15), (100, 0.06)])
def test_griffinlim_realises_the_magnitude(config, signals, n_iter, bound):
    S = _true_magnitude(signals, config)
    y = griffinlim(S, config=config, n_iter=n_iter)
    assert y.shape == signals.shape
    assert spectral_convergence(S, y, config=config).max() < bound  # the FSDD test split: 0.052-0.057 at 32


def test_more_iterations_help_and_zero_phase_is_far_worse(config, signals):
    S = _true_magnitude(signals, config)
    sc = {n: spectral_convergence(S, griffinlim(S, config=config, n_iter=n), config=config).mean() for n in (4, 32)}
    zero = spectral_convergence(S, zero_phase_istft(S, config=config), config=config).mean()
    assert sc[32] < sc[4] < zero and zero > 0.3


def test_griffinlim_is_seeded_and_batched(config, signals):
    S = _true_magnitude(signals, config)
    batch = griffinlim(S, config=config, n_iter=8, seed=3)
    np.testing.assert_array_equal(batch, griffinlim(S, config=config, n_iter=8, seed=3))
    assert not np.allclose(batch, griffinlim(S, config=config, n_iter=8, seed=4))


def test_features_to_audio_round_trip(config, signals):
    """features -> Griffin-Lim -> features again lands close to where it started."""
    x, lo, hi = waveform_to_features(signals, config=config)
    y = features_to_audio(x, config=config, db_min=lo, db_max=hi, n_iter=32)
    x2, _, _ = waveform_to_features(y, config=config)
    assert np.sqrt(np.mean((x - x2) ** 2)) < 0.05


def test_magnitude_without_nyquist_is_refused():
    from audiogen_lib.config import get_config

    c = get_config("paper")
    with pytest.raises(AudiogenError, match="features_to_magnitude"):
        griffinlim(np.ones((256, 64)), config=c)
    with pytest.raises(AudiogenError, match="non-negative"):
        griffinlim(-np.ones((257, 64)), config=c)
