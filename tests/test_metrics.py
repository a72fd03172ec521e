"""Metrics with known answers: perfect scores for identical input, exact values for scaled
input, the right sign for added noise, and PESQ failures counted instead of crashing."""

import os

import numpy as np
import pytest

from audiogen_lib import data
from audiogen_lib.config import CONFIGS
from audiogen_lib.errors import AudiogenError
from audiogen_lib.features import fix_length, load_audio
from audiogen_lib.metrics import (MetricResult, log_spectral_distance, lsd_from_audio, pesq_nb, rmse,
                                  spectral_convergence, stoi, stoi_concatenated)

NATIVE = CONFIGS["native8k"]
# Test-split clips: three long enough for per-clip STOI, one too short for it (0.39 s),
# and one on which PESQ finds no speech even against itself (one of the 9 of 300).
LONG = ["0_george_1.wav", "7_lucas_0.wav", "3_jackson_1.wav"]
SHORT_FOR_STOI = "0_theo_0.wav"
PESQ_REFUSES = "6_yweweler_3.wav"


@pytest.fixture(scope="module")
def fsdd_clips():
    """Real FSDD clips at their own 8 kHz, padded to native8k's 1.02 s, and their true lengths."""
    folder = data.locate_fsdd(download=False)
    clips = {name: load_audio(folder / name, sr=NATIVE.sr) for name in LONG + [SHORT_FOR_STOI, PESQ_REFUSES]}
    return {name: (fix_length(y, config=NATIVE), min(y.size, NATIVE.n_samples)) for name, y in clips.items()}


def batch(fsdd_clips, names):
    return np.stack([fsdd_clips[n][0] for n in names]), np.array([fsdd_clips[n][1] for n in names])


def add_noise(y, level, seed):
    """White noise ``level`` dB below each clip's RMS over its speech."""
    rng = np.random.default_rng(seed)
    rms = np.sqrt(np.mean(np.square(y), axis=-1, keepdims=True))
    return (y + rms * 10 ** (-level / 20) * rng.standard_normal(y.shape)).astype(np.float32)


# --- RMSE and spectral convergence ------------------------------------------------------------

@pytest.mark.parametrize("c", [0.0, 0.25, -0.1])
def test_rmse_of_an_image_shifted_by_c_is_abs_c(rng, c):
    x = rng.random((3, 8, 5, 1))
    assert rmse(x, x + c) == pytest.approx(abs(c), abs=1e-12)
    np.testing.assert_allclose(rmse(x, x + c, per_clip=True), abs(c), atol=1e-12)


def test_spectral_convergence_of_a_waveform_to_its_own_magnitude_is_zero(config, signals):
    import librosa

    S = np.abs(librosa.stft(signals, n_fft=config.n_fft, hop_length=config.hop_length))
    np.testing.assert_allclose(spectral_convergence(S, signals, config=config), 0.0, atol=1e-6)


# --- log-spectral distance --------------------------------------------------------------------

@pytest.mark.parametrize("nyquist", [True, False])
def test_lsd_is_zero_for_identical_and_20log2_for_doubled(config, rng, nyquist):
    rows = config.n_stft_bins if nyquist else config.n_stft_bins - 1
    S = rng.uniform(1e-3, 2.0, (4, rows, 7))
    np.testing.assert_array_equal(log_spectral_distance(S, S, config=config), 0.0)
    lsd = log_spectral_distance(S, 2 * S, config=config)
    assert lsd.shape == (4,)
    np.testing.assert_allclose(lsd, 20 * np.log10(2), rtol=1e-12)  # 6.02 dB in every frame


def test_lsd_ignores_bins_above_fmax(rng):
    config = CONFIGS["paper"]  # 22,050 Hz: bins 0-92 are at or below 4 kHz, 93-256 above
    S = rng.uniform(0.1, 1.0, (config.n_stft_bins, 3))
    S_est = S.copy()
    S_est[93:] *= 100.0
    assert log_spectral_distance(S, S_est, config=config) == 0.0
    assert log_spectral_distance(S, S_est, config=config, fmax=11025.0) > 20.0
    S_est[92] *= 10.0  # 3,962 Hz: counted, 20 dB in one of 93 bins
    assert log_spectral_distance(S, S_est, config=config) == pytest.approx(20.0 / np.sqrt(93))


def test_lsd_floors_at_amin():
    config = CONFIGS["native8k"]
    S = np.zeros((config.n_stft_bins, 2))
    assert log_spectral_distance(S, S + 1e-7, config=config) == 0.0  # both below -100 dB
    assert log_spectral_distance(S, S + 1e-4, config=config) == pytest.approx(20.0)


@pytest.mark.parametrize("shape", [(10, 64), (257, 64), (4, 256, 64, 1)])
def test_lsd_refuses_shapes_of_another_config(shape):
    S = np.ones(shape)
    with pytest.raises(AudiogenError, match="n_bins 256 or 255"):
        log_spectral_distance(S, S, config="native8k")


def test_lsd_refuses_db_or_mismatched_input(rng):
    S = rng.random((256, 64))
    with pytest.raises(AudiogenError, match="non-negative"):
        log_spectral_distance(S - 0.5, S, config="native8k")
    with pytest.raises(AudiogenError, match="same shape"):
        log_spectral_distance(S, S[:, :10], config="native8k")


def test_lsd_from_audio_is_zero_for_identical_and_grows_with_noise(config, signals):
    np.testing.assert_array_equal(lsd_from_audio(signals, signals, config=config), 0.0)
    lsds = [lsd_from_audio(signals, add_noise(signals, level, seed=1), config=config) for level in (40, 20, 0)]
    assert (np.diff(lsds, axis=0) > 0).all()


def test_lsd_from_audio_with_lengths_leaves_out_the_padding(config, signals, rng):
    y = signals.copy()
    length = config.n_samples // 2
    y[:, length:] = 0.0                         # clips padded with zeros ...
    y_est = y.copy()
    start = length + config.n_fft // 2         # ... and estimates with noise in the padding, past the last
    y_est[:, start:] = 0.01 * rng.standard_normal((len(y), config.n_samples - start))  # frame centred in the speech
    lengths = np.full(len(y), length)
    assert (lsd_from_audio(y, y_est, config=config) > 20.0).all()
    np.testing.assert_array_equal(lsd_from_audio(y, y_est, config=config, lengths=lengths), 0.0)
    assert lsd_from_audio(y[0], y_est[0], config=config, lengths=lengths[:1]) == 0.0  # one clip


# --- PESQ ------------------------------------------------------------------------------------

def test_pesq_is_its_maximum_for_identical_speech_and_falls_with_noise(fsdd_clips):
    y, lengths = batch(fsdd_clips, LONG)
    levels = (30, 20, 10, 0)                  # speech-to-noise ratio in dB
    refs = np.concatenate([y] * (1 + len(levels)))
    ests = np.concatenate([y] + [add_noise(y, level, seed=i) for i, level in enumerate(levels)])
    result = pesq_nb(refs, ests, sr=NATIVE.sr, lengths=np.tile(lengths, 1 + len(levels)))
    assert result.n_scored == len(refs) and result.n_failed == 0
    scores = result.values.reshape(1 + len(levels), len(LONG))
    np.testing.assert_allclose(scores[0], 4.5486, atol=1e-3)  # P.862.1's mapping of the raw maximum 4.5
    assert (np.diff(scores, axis=0) < 0).all(), scores


def test_pesq_resamples_other_rates(fsdd_clips):
    import librosa

    y, lengths = batch(fsdd_clips, LONG[:1])
    y22 = librosa.resample(y, orig_sr=8000, target_sr=22050, res_type="soxr_hq")
    result = pesq_nb(y22, y22, sr=22050, lengths=np.ceil(lengths * 22050 / 8000).astype(int))
    assert result.values[0] == pytest.approx(4.5486, abs=1e-3)


def test_pesq_failures_are_counted_not_raised(fsdd_clips):
    y, lengths = batch(fsdd_clips, [LONG[0], PESQ_REFUSES])
    y = np.concatenate([y, np.zeros_like(y[:1])])  # and a silent clip
    result = pesq_nb(y, y, sr=NATIVE.sr)
    assert np.isfinite(result.values[0]) and np.isnan(result.values[1:]).all()
    assert result.reasons == ("", "no utterances detected", "silent reference")
    assert (result.n_scored, result.n_failed) == (1, 2)
    assert result.mean == result.values[0]
    short = pesq_nb(y[0, :800], y[0, :800], sr=NATIVE.sr)  # 0.1 s: the C code needs 0.25 s
    assert short.reasons == ("shorter than 0.25 s",) and np.isnan(short.mean)


def _abort_on_marked_clip(ref, est):
    """A stand-in for the C code's segmentation fault: kill the worker on the marked clip."""
    if ref[0] == 0.125:
        import resource

        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # no core file
        os.abort()
    if ref[0] == 0.25:
        raise RuntimeError("a Python error")
    return float(np.mean(est)), ""


@pytest.mark.parametrize("n_workers", [2, 7])  # 7: every clip its own task, the crash takes the others' pool down
def test_a_crashing_clip_is_isolated_and_counted(n_workers):
    refs = np.zeros((7, 100))
    refs[4, 0] = 0.125  # crashes its worker
    refs[1, 0] = 0.25   # raises
    ests = np.arange(7.0)[:, None] * np.ones(100)
    result = pesq_nb(refs, ests, sr=8000, n_workers=n_workers, _score_clip=_abort_on_marked_clip)
    assert result.reasons[4] == "worker process crashed"
    assert result.reasons[1] == "RuntimeError: a Python error"
    scored = [0, 2, 3, 5, 6]
    np.testing.assert_array_equal(result.values[scored], scored)
    assert result.failures == {"worker process crashed": 1, "RuntimeError: a Python error": 1}


def test_tasks_a_broken_pool_refuses_are_run_again(monkeypatch):
    """A worker can die while later tasks are still being submitted: the pool then refuses them
    (here the second submission, as when it was starting a replacement worker); they are run again."""
    from concurrent.futures import ProcessPoolExecutor

    real_submit, calls = ProcessPoolExecutor.submit, []

    def submit(self, fn, *args):
        calls.append(fn)
        if len(calls) == 2:
            raise OSError("handle is closed")
        return real_submit(self, fn, *args)

    monkeypatch.setattr(ProcessPoolExecutor, "submit", submit)
    refs = np.zeros((4, 100))
    ests = np.arange(4.0)[:, None] * np.ones(100)
    result = pesq_nb(refs, ests, sr=8000, n_workers=2, _score_clip=_abort_on_marked_clip)
    assert len(calls) > 2 and result.failures == {}
    np.testing.assert_array_equal(result.values, np.arange(4.0))


def test_pesq_refuses_mismatched_or_non_finite_input():
    y = np.ones((2, 4000))
    with pytest.raises(AudiogenError, match="same shape"):
        pesq_nb(y, y[:, :3000], sr=8000)
    with pytest.raises(AudiogenError, match="NaN"):
        pesq_nb(y, y * np.nan, sr=8000)
    with pytest.raises(AudiogenError, match="lengths must be 2"):
        pesq_nb(y, y, sr=8000, lengths=[100])


# --- STOI ------------------------------------------------------------------------------------

def test_stoi_is_one_for_identical_speech_and_falls_with_noise(fsdd_clips):
    y, lengths = batch(fsdd_clips, LONG)
    perfect = stoi(y, y, sr=NATIVE.sr, lengths=lengths)
    np.testing.assert_allclose(perfect.values, 1.0, atol=1e-6)
    per_clip = [stoi(y, add_noise(y, level, seed=2), sr=NATIVE.sr, lengths=lengths).values for level in (20, 5, -5)]
    assert (np.diff(per_clip, axis=0) < 0).all(), per_clip
    pooled = [float(stoi_concatenated(y, add_noise(y, level, seed=2), sr=NATIVE.sr, lengths=lengths))
              for level in (20, 5, -5)]
    assert (np.diff(pooled) < 0).all(), pooled


def test_stoi_leaves_out_short_clips_but_the_concatenation_covers_them(fsdd_clips):
    y, lengths = batch(fsdd_clips, [LONG[0], SHORT_FOR_STOI])
    noisy = add_noise(y, 5, seed=3)
    per_clip = stoi(y, noisy, sr=NATIVE.sr, lengths=lengths)
    assert per_clip.reasons == ("", "under 30 STOI frames of speech")
    assert per_clip.mean == per_clip.values[0] and np.isnan(per_clip.values[1])
    short_alone = stoi_concatenated(y[1:], noisy[1:], sr=NATIVE.sr, lengths=lengths[1:])
    assert short_alone.n_failed == 1 and short_alone.pooled_clips == 1
    pooled = stoi_concatenated(y, noisy, sr=NATIVE.sr, lengths=lengths)
    assert pooled.n_scored == 1 and pooled.pooled_clips == 2 and 0 < float(pooled) < 1
    assert "joined end to end" in str(pooled)


def test_stoi_with_lengths_ignores_what_is_in_the_padding(fsdd_clips):
    y, lengths = batch(fsdd_clips, LONG[:1])
    y_est = y.copy()
    y_est[0, lengths[0]:] = np.random.default_rng(4).standard_normal(y.shape[1] - lengths[0])
    assert stoi(y, y_est, sr=NATIVE.sr, lengths=lengths).values[0] == pytest.approx(1.0, abs=1e-6)
    assert float(stoi_concatenated(y, y_est, sr=NATIVE.sr, lengths=lengths)) == pytest.approx(1.0, abs=1e-6)


# --- MetricResult -----------------------------------------------------------------------------

def test_metric_result_counts_and_summarises():
    r = MetricResult("PESQ-NB", np.array([3.0, np.nan, 4.0, np.nan]),
                     ("", "no utterances detected", "", "no utterances detected"))
    assert (r.mean, r.n_scored, r.n_failed, float(r)) == (3.5, 2, 2, 3.5)
    assert r.failures == {"no utterances detected": 2}
    assert str(r) == "PESQ-NB 3.50 (mean of 2 of 4 clips; not scored: no utterances detected 2)"
    assert r.to_dict()["n_failed"] == 2
    lsd = MetricResult.from_values("LSD", [1.0, np.inf, 2.0], higher_is_better=False)
    assert (lsd.mean, lsd.n_failed, lsd.higher_is_better) == (1.5, 1, False)


# --- the inception score -------------------------------------------------------------------------

@pytest.mark.parametrize("k", [1, 2, 5, 10])
def test_inception_score_of_confident_sounds_spread_over_k_digits_is_k(k):
    """One-hot rows, equally many of each of ``k`` digits: KL(p(y|x) || p(y)) = log k for every row, so IS = k."""
    from audiogen_lib.metrics import inception_score

    probs = np.eye(10)[np.arange(30 * k) % k]
    assert inception_score(probs) == pytest.approx(k, rel=1e-6)
    # unequal counts over the same two digits score less: exp(H(marginal)) for one-hot rows
    if k == 2:
        lopsided = np.eye(10)[[0] * 3 + [1]]
        h = -(0.75 * np.log(0.75) + 0.25 * np.log(0.25))
        assert inception_score(lopsided) == pytest.approx(np.exp(h), rel=1e-6)


def test_inception_score_of_unsure_sounds_is_the_closed_form():
    """Rows (a, 1-a) and (1-a, a), half each: the marginal is (1/2, 1/2) and IS = 2 a^a (1-a)^(1-a);
    identical rows, however peaked, score 1."""
    from audiogen_lib.metrics import inception_score

    for a in (0.5, 0.7, 0.9, 0.99):
        probs = np.zeros((40, 10))
        probs[::2, :2] = (a, 1 - a)
        probs[1::2, :2] = (1 - a, a)
        assert inception_score(probs) == pytest.approx(2 * a ** a * (1 - a) ** (1 - a), rel=1e-6)
    same = np.tile(np.r_[0.91, np.full(9, 0.01)], (25, 1))
    assert inception_score(same) == pytest.approx(1.0, abs=1e-9)


def test_snr_is_zero_for_silence_inf_for_a_copy_and_blind_to_nothing(rng):
    from audiogen_lib.metrics import snr

    y = rng.standard_normal((3, 800))
    assert np.allclose(snr(y, np.zeros_like(y), sr=8000), 0.0)
    assert np.isinf(snr(y[0], y[0], sr=8000))
    # half the amplitude wrong: 20 log10 2 = 6.02 dB
    assert np.allclose(snr(y, 0.5 * y, sr=8000), 20 * np.log10(2))
    # a sign flip, inaudible, scores worse than silence
    assert np.all(snr(y, -y, sr=8000) < 0)


def test_snr_with_lengths_ignores_the_padding(rng):
    from audiogen_lib.metrics import snr

    y, e = rng.standard_normal((2, 800)), rng.standard_normal((2, 800))
    padded = np.where(np.arange(800) < 400, y + 0.1 * e, 9.0)
    lengths = np.array([400, 400])
    assert np.allclose(snr(y, padded, sr=8000, lengths=lengths),
                       snr(y[:, :400], padded[:, :400], sr=8000))
