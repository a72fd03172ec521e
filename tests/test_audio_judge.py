"""The second judge: deterministic features, numpy prediction equal to scikit-learn's, clear errors,
and shipped judges that are the files their cards describe and still score what the cards say."""

import dataclasses
import json
import shutil

import numpy as np
import pytest
from scipy import stats

from audiogen_lib import AudiogenError, audio_judge
from audiogen_lib.audio_judge import (FEATURES, audio_embedding, audio_features, audio_probabilities, fit_audio_judge,
                                      judge_path, load_audio_judge)
from audiogen_lib.config import get_config
from audiogen_lib.data import list_recordings, locate_fsdd
from audiogen_lib.features import fix_length, load_audio

SR = 22050


def tones(rng, n_per_class=12, classes=(300.0, 700.0, 1500.0), sr=SR, seconds=0.5):
    """Noisy tones of a few pitches, with silence around them: a toy set whose labels are the pitch."""
    t = np.arange(int(seconds * sr)) / sr
    y, labels = [], []
    for label, f in enumerate(classes):
        for _ in range(n_per_class):
            clip = np.zeros_like(t)
            a = rng.integers(0, len(t) // 4)
            b = a + len(t) // 2
            clip[a:b] = np.sin(2 * np.pi * f * rng.uniform(0.97, 1.03) * t[a:b])
            y.append(clip + 0.01 * rng.normal(size=t.size))
            labels.append(label)
    return np.asarray(y, np.float32), np.array(labels)


def test_features_are_deterministic_with_the_documented_shape(rng):
    y, _ = tones(rng, n_per_class=2)
    first = audio_features(y, SR)
    assert first.shape == (6, 4 * FEATURES["n_mfcc"] + FEATURES["n_segments"] * FEATURES["n_mfcc"] + 1)
    np.testing.assert_array_equal(first, audio_features(y.copy(), SR))
    s = {"n_mfcc": 13, "n_segments": 3}
    assert audio_features(y, SR, settings=s).shape == (6, 4 * 13 + 3 * 13 + 1)
    assert audio_features(y[0], SR).shape == (1, first.shape[1])  # one waveform


def test_features_hear_the_8khz_band_whatever_the_rate(rng):
    """The same sound at 22,050 Hz and at 16 kHz gives nearly the same features (both resampled to 8 kHz)."""
    import librosa

    y, _ = tones(rng, n_per_class=1)
    at16 = librosa.resample(y, orig_sr=SR, target_sr=16000, res_type="soxr_hq", axis=-1)
    a, b = audio_features(y, SR), audio_features(at16, 16000)
    assert np.abs(a - b).max() < 0.05 * np.abs(a).max()


def test_numpy_prediction_equals_scikit_learn(rng):
    y, labels = tones(rng)
    X = audio_features(y, SR)
    judge, pipe = fit_audio_judge(X, labels, C=1.0, settings=FEATURES, target="digit")
    p = audio_probabilities(judge, y, SR)
    np.testing.assert_allclose(p, pipe.predict_proba(X), rtol=1e-9, atol=1e-12)
    np.testing.assert_array_equal(judge.classes[p.argmax(1)], pipe.predict(X))
    np.testing.assert_allclose(audio_embedding(judge, y, SR), pipe[0].transform(X), rtol=1e-9, atol=1e-12)
    assert (judge.classes[p.argmax(1)] == labels).mean() == 1.0  # the toy is easy


def test_a_saved_judge_reads_back_without_pickle(rng, tmp_path):
    y, labels = tones(rng)
    names = np.array(["george", "jackson", "theo"])[labels]  # string classes, as the speaker judge has
    judge, _ = fit_audio_judge(audio_features(y, SR), names, C=0.3, settings=FEATURES, target="speaker")
    sha = judge.save(tmp_path / "j.npz")
    with np.load(tmp_path / "j.npz", allow_pickle=False) as z:
        assert z["classes"].dtype.kind == "U"
    back = audio_judge.AudioJudge.read(tmp_path / "j.npz")
    assert len(sha) == 64 and back.target == "speaker" and back.settings == judge.settings
    np.testing.assert_array_equal(audio_probabilities(back, y, SR), audio_probabilities(judge, y, SR))


@pytest.mark.parametrize("y, sr, match", [
    (np.zeros((2, 22050), np.float32), 4000, r"sr=4000.*at least 8000 Hz"),
    (np.zeros((2, 22050), np.float32), 22050.0, r"sr=22050.0.*integer rate"),
    (np.zeros((0, 22050), np.float32), 22050, r"shape \(0, 22050\).*non-empty"),
    (np.zeros((2, 100), np.float32), 22050, r"100 samples at 22050 Hz"),
    (np.full((2, 22050), np.nan, np.float32), 22050, r"2 of 2 waveforms hold NaN"),
])
def test_clear_errors_for_bad_audio(y, sr, match):
    with pytest.raises(AudiogenError, match=match):
        audio_features(y, sr)


def test_a_missing_or_altered_shipped_file_is_named(tmp_path):
    with pytest.raises(AudiogenError, match=r"audio_judge_paper.npz is missing.*--target digit --config paper --ship"):
        load_audio_judge("digit", "paper", directory=tmp_path)
    with pytest.raises(AudiogenError, match="unknown audio judge target 'vowel'"):
        load_audio_judge("vowel")
    shutil.copyfile(judge_path("digit"), tmp_path / "audio_judge_paper.npz")
    card = json.loads(judge_path("digit").with_suffix(".json").read_text())
    card["npz_sha256"] = "0" * 64
    (tmp_path / "audio_judge_paper.json").write_text(json.dumps(card))
    with pytest.raises(AudiogenError, match=r"audio_judge_paper.npz does not match its card .*says 000000000000"):
        load_audio_judge("digit", "paper", directory=tmp_path)


def _subset(split: str, n: int):
    """``n`` clips of ``split``, round-robin over digits and speakers, loaded as the feature cache loads them."""
    config = get_config("paper")
    recs = list_recordings(split)
    picked = recs[:: max(1, len(recs) // n)][:n]
    folder = locate_fsdd(download=False)
    y = np.stack([fix_length(load_audio(folder / r.name, sr=config.sr), config=config) for r in picked])
    return y, picked


@pytest.mark.parametrize("target", audio_judge.TARGETS)
def test_shipped_judge_is_its_card_and_scores_what_it_says(target):
    """The npz hashes to the card's sha256 (checked by loading); the card records the split, the selection and
    the provenance; on 60 validation clips the judge scores at least what its validation accuracy makes
    likely: the 0.1% quantile of a binomial at the lower 95% Clopper-Pearson bound of the card's k of 300
    (a figure from the card, not a hand-lowered constant; at 300 of 300 the rate itself would demand perfection)."""
    judge = load_audio_judge(target, "paper")
    card = judge.card
    assert card["target"] == target and card["config"] == "paper" and len(card["git_commit"]) == 40
    assert {k: v["takes"] for k, v in card["split"].items()} == {"train": "10-49", "validation": "5-9", "test": "0-4"}
    assert card["split"]["train"]["clips"] == 2400 and card["command"].startswith("python -m audiogen_lib.audio_judge")
    chosen = card["selection"]["chosen"]
    assert chosen == max(card["selection"]["results"],
                         key=lambda r: (r["validation_mean_accuracy"], -r["validation_log_loss"]))
    assert judge.settings["n_mfcc"] == chosen["n_mfcc"] and card["settings"]["C"] == chosen["C"]
    y, recs = _subset("validation", 60)
    truth = np.array([r.digit if target == "digit" else r.speaker for r in recs])
    p = audio_probabilities(judge, y, 22050)
    correct = int((judge.classes[p.argmax(1)] == truth).sum())
    n = card["split"]["validation"]["clips"]
    k = round(card["final"]["validation_real_accuracy"] * n)
    rate = stats.beta.ppf(0.025, k, n - k + 1)  # Clopper-Pearson: the lowest rate the card's k of n allows
    floor = int(stats.binom.ppf(0.001, len(truth), rate))
    assert floor >= 0.85 * len(truth)  # the card's own figures make the floor a real one
    assert correct >= floor, (f"{correct}/{len(truth)} right; the card's {k}/{n} on validation (at least {rate:.3f}) "
                              f"makes fewer than {floor} a 0.1% event")
    # and the check can fail: a judge whose classes are shifted by one scores below the floor
    shifted = dataclasses.replace(judge, coef=np.roll(judge.coef, 1, axis=0), intercept=np.roll(judge.intercept, 1))
    assert int((judge.classes[audio_probabilities(shifted, y, 22050).argmax(1)] == truth).sum()) < floor
