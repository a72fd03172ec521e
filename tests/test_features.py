import librosa
import numpy as np
import pytest
import soundfile as sf

from audiogen_lib import AudiogenError
from audiogen_lib.features import (amplitude_to_db, db_to_amplitude, denormalise, features_to_magnitude, fix_length,
                                   load_audio, normalise, stft_magnitude, waveform_to_features)


def test_features_have_the_model_shape_and_range(config, signals):
    x, db_min, db_max = waveform_to_features(signals, config=config)
    assert x.shape == (len(signals), *config.shape) and x.dtype == np.float32
    assert x.min() == 0.0 and x.max() == 1.0
    assert np.all(db_max - db_min == pytest.approx(config.top_db, abs=1e-3))


def test_single_clip_gives_single_image(config, signals):
    x, db_min, db_max = waveform_to_features(signals[0], config=config)
    assert x.shape == config.shape and np.ndim(db_min) == 0


@pytest.mark.parametrize("mode", ["clip", "global"])
def test_normalisation_inverts_exactly(config, signals, mode):
    S_db = amplitude_to_db(stft_magnitude(signals, config=config), config=config)
    if mode == "global":
        S_db = np.clip(S_db, *config.global_db_range)
    x, lo, hi = normalise(S_db, config=config, mode=mode)
    np.testing.assert_allclose(denormalise(x, lo, hi), S_db, atol=1e-4)


def test_db_matches_librosa_clip_by_clip(config, signals):
    S = stft_magnitude(signals, config=config)
    ours = amplitude_to_db(S, config=config)
    for clip, S_clip in zip(ours, S):
        np.testing.assert_allclose(clip, librosa.amplitude_to_db(S_clip, ref=1.0, top_db=config.top_db), atol=1e-3)


def test_db_round_trip_above_the_floor(config, signals):
    S = stft_magnitude(signals, config=config)
    S_db = amplitude_to_db(S, config=config)
    kept = S_db > S_db.max(axis=(-2, -1), keepdims=True) - config.top_db
    np.testing.assert_allclose(db_to_amplitude(S_db)[kept], S[kept], rtol=1e-4)


def test_magnitude_inverse_restores_the_dropped_bin(config, signals):
    x, lo, hi = waveform_to_features(signals, config=config)
    S = features_to_magnitude(x, config=config, db_min=lo, db_max=hi)
    assert S.shape == (len(signals), config.n_stft_bins, config.n_frames)
    S_true = np.abs(librosa.stft(signals, n_fft=config.n_fft, hop_length=config.hop_length))
    loud = S_true[:, : config.n_bins] > S_true.max() * 1e-3
    np.testing.assert_allclose(S[:, : config.n_bins][loud], S_true[:, : config.n_bins][loud], rtol=1e-3)
    if config.drop_nyquist:
        assert np.all(S[:, -1] == 0)


def test_sine_energy_lands_in_its_bin(config):
    from conftest import sine

    x, _, _ = waveform_to_features(sine(config, 1000.0), config=config)
    peak_bin = x[..., 0].mean(axis=1).argmax()
    assert peak_bin == round(1000.0 / config.bin_hz)


def test_fix_length_pads_and_trims(config):
    n = config.n_samples
    assert fix_length(np.ones(10), config=config).shape == (n,)
    assert fix_length(np.ones((3, n + 99)), config=config).shape == (3, n)
    assert fix_length(np.ones(10), config=config)[10:].sum() == 0


def test_silent_clip_is_refused_for_per_clip_normalisation(config, signals):
    batch = np.concatenate([signals, np.zeros((1, config.n_samples), np.float32)])
    with pytest.raises(AudiogenError, match="clip 4 .*silent.*global"):
        waveform_to_features(batch, config=config)
    x, _, _ = waveform_to_features(batch, config=config, mode="global")  # fine in a fixed range
    assert np.all(x[-1] == 0)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_non_finite_waveforms_are_refused(config, signals, bad):
    signals[1, 100] = bad
    with pytest.raises(AudiogenError, match="NaN or Inf"):
        waveform_to_features(signals, config=config)


def test_wrong_length_waveform_is_refused(config):
    with pytest.raises(AudiogenError, match="fix_length"):
        waveform_to_features(np.ones(config.n_samples + 1, np.float32), config=config)


@pytest.mark.parametrize("shape", [(256, 63), (2, 257, 64), (2, 256, 64, 2), (1, 1, 256, 64)])
def test_wrong_spectrogram_shape_is_refused(config, shape):
    with pytest.raises(AudiogenError, match="does not match config"):
        features_to_magnitude(np.zeros(shape), config=config, db_min=-80, db_max=0)


def test_unknown_normalisation_is_refused(config):
    with pytest.raises(AudiogenError, match="normalisation"):
        normalise(np.zeros((256, 64)), config=config, mode="peak")


# --- reading files ----------------------------------------------------------------------------

def test_load_audio_resamples(tmp_path, config):
    from conftest import sine
    import audiogen_lib.config as c

    y8k = sine(c.CONFIGS["native8k"], 440.0)
    sf.write(tmp_path / "a.wav", y8k, 8000, subtype="PCM_16")
    y = load_audio(tmp_path / "a.wav", sr=config.sr)
    assert y.dtype == np.float32 and abs(len(y) - len(y8k) * config.sr / 8000) <= 1


def test_load_audio_mixes_stereo_to_mono(tmp_path):
    left, right = np.full(800, 0.5, np.float32), np.full(800, -0.25, np.float32)
    sf.write(tmp_path / "stereo.wav", np.stack([left, right], axis=1), 8000, subtype="FLOAT")
    np.testing.assert_allclose(load_audio(tmp_path / "stereo.wav", sr=8000), 0.125)


def test_empty_wav_is_refused(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros(0, np.float32), 8000)
    with pytest.raises(AudiogenError, match="empty.wav.*no samples"):
        load_audio(tmp_path / "empty.wav", sr=8000)


def test_corrupt_wav_is_refused(tmp_path):
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really")
    with pytest.raises(AudiogenError, match="corrupt.wav"):
        load_audio(tmp_path / "corrupt.wav", sr=8000)


def test_missing_wav_is_refused(tmp_path):
    with pytest.raises(AudiogenError, match="nowhere.wav"):
        load_audio(tmp_path / "nowhere.wav", sr=8000)


def test_nan_wav_is_refused(tmp_path):
    y = np.zeros(100, np.float32)
    y[3] = np.nan
    sf.write(tmp_path / "nan.wav", y, 8000, subtype="FLOAT")
    with pytest.raises(AudiogenError, match="nan.wav.*NaN"):
        load_audio(tmp_path / "nan.wav", sr=8000)


def test_a_feature_cache_that_fails_to_write_leaves_nothing(tmp_path, monkeypatch):
    """The cache is written whole or not at all (files.atomic_write): a reader never finds half of it."""
    from audiogen_lib import features

    def full_disk(f, **arrays):
        f.write(b"half")
        raise OSError("No space left on device")

    monkeypatch.setattr(features.np, "savez", full_disk)
    with pytest.raises(OSError, match="No space"):
        features._write_atomic_npz(tmp_path / "cache" / "fsdd.npz", {"a": np.zeros(3)})
    assert list((tmp_path / "cache").iterdir()) == []
    monkeypatch.undo()
    features._write_atomic_npz(tmp_path / "cache" / "fsdd.npz", {"a": np.arange(3)})
    with np.load(tmp_path / "cache" / "fsdd.npz") as z:
        assert z["a"].tolist() == [0, 1, 2]
    assert [p.name for p in (tmp_path / "cache").iterdir()] == ["fsdd.npz"]
