import pytest

from audiogen_lib import AudiogenError
from audiogen_lib.config import CONFIGS, FeatureConfig, get_config, get_profile


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_named_configs_give_the_study_shape(name):
    assert get_config(name).shape == (256, 64, 1)


def test_paper_config_is_the_studys():
    c = get_config("paper")
    assert (c.sr, c.n_fft, c.hop_length, c.duration, c.drop_nyquist) == (22050, 512, 256, 0.74, True)
    assert c.n_stft_bins == 257


def test_native8k_covers_exactly_the_recorded_band():
    c = get_config("native8k")
    assert c.sr == 8000 and c.n_bins == 256 and c.hop_length * 4 == c.n_fft + 2  # 75 % overlap
    assert c.bin_hz * (c.n_bins - 1) == pytest.approx(4000.0)


def test_config_round_trips_through_dict_and_changes_fingerprint():
    c = get_config("paper")
    assert get_config(c.to_dict()) == c
    other = FeatureConfig.from_dict({**c.to_dict(), "top_db": 60.0})
    assert other.fingerprint() != c.fingerprint()


def test_inconsistent_frame_count_is_refused():
    with pytest.raises(AudiogenError, match="n_frames"):
        FeatureConfig(name="bad", sr=8000, duration=0.5, n_fft=510, hop_length=128)


@pytest.mark.parametrize("bad", ["paper22k", {"sr": 1}, 3])
def test_unknown_config_is_refused(bad):
    with pytest.raises(AudiogenError):
        get_config(bad)


def test_profile_from_environment(monkeypatch):
    monkeypatch.setenv("AUDIOGEN_PROFILE", "paper")
    assert get_profile().name == "paper"
    monkeypatch.setenv("AUDIOGEN_PROFILE", "fast")
    with pytest.raises(AudiogenError, match="AUDIOGEN_PROFILE"):
        get_profile()
    monkeypatch.delenv("AUDIOGEN_PROFILE")
    assert get_profile().name == "book"
