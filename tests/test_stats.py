import numpy as np
import pytest

from audiogen_lib import AudiogenError
from audiogen_lib.stats import Interval, bootstrap_mean, bootstrap_statistic, paired_bootstrap, seed_spread, verdict


def interval(low, high):
    return Interval((low + high) / 2, low, high, 100, "constructed")


@pytest.mark.parametrize("low, high, claimed, expected", [
    (0.1, 0.5, "positive", "holds"),
    (-0.5, -0.1, "positive", "does not hold"),
    (-0.1, 0.5, "positive", "inconclusive"),
    (0.0, 0.5, "positive", "inconclusive"),        # touching zero is not "entirely on one side"
    (-0.5, -0.1, "negative", "holds"),
    (0.1, 0.5, "negative", "does not hold"),
    (-0.5, 0.1, "negative", "inconclusive"),
])
def test_verdict_rule(low, high, claimed, expected):
    assert verdict(interval(low, high), claimed=claimed) == expected


def test_verdict_needs_a_side():
    with pytest.raises(AudiogenError, match="claimed must be"):
        verdict(interval(0.1, 0.2), claimed="bigger")


def test_paired_bootstrap_drops_unscored_clips_from_both_sides(rng):
    a = rng.normal(1.0, 0.1, 200)
    b = a - 0.5 + rng.normal(0, 0.01, 200)
    a[:10] = np.nan                     # clips PESQ could not score in one condition ...
    b[10:15] = np.nan                   # ... or the other
    ci = paired_bootstrap(a, b)
    assert ci.n == 185 and ci.low < ci.estimate < ci.high
    assert ci.estimate == pytest.approx(0.5, abs=0.005) and ci.high - ci.low < 0.01
    with pytest.raises(AudiogenError, match="same clips"):
        paired_bootstrap(a, b[:-1])


def test_pairing_narrows_the_interval(rng):
    """The same clips make both conditions vary together; pairing removes that variation."""
    clip_difficulty = rng.normal(0, 1.0, 300)
    a = clip_difficulty + 0.1 + rng.normal(0, 0.05, 300)
    b = clip_difficulty + rng.normal(0, 0.05, 300)
    paired = paired_bootstrap(a, b)
    unpaired_width = (bootstrap_mean(a).high - bootstrap_mean(a).low) + (bootstrap_mean(b).high - bootstrap_mean(b).low)
    assert paired.low > 0 and (paired.high - paired.low) < unpaired_width / 10


def test_bootstrap_statistic_resamples_rows_together(rng):
    x = rng.normal(size=(100, 3))
    x[5, 1] = np.nan
    ci = bootstrap_statistic(x, statistic=lambda a: float(a.mean()))
    assert ci.n == 99 and ci.low < ci.estimate < ci.high
    r = np.abs(rng.normal(0.05, 0.01, 300))
    rmse = bootstrap_statistic(r, statistic=lambda v: np.sqrt(np.mean(v**2)))
    assert rmse.estimate == pytest.approx(np.sqrt(np.mean(r**2))) and rmse.low < rmse.estimate < rmse.high
    with pytest.raises(AudiogenError, match="same number of rows"):
        bootstrap_statistic(r, r[:-1], statistic=lambda p, q: 0.0)


def test_bias_corrected_interval_contains_a_biased_statistic(rng):
    """The inception score drops when rows repeat; the corrected interval still contains the estimate."""
    from audiogen_lib.metrics import inception_score

    probs = rng.dirichlet(np.full(10, 0.05), size=40)
    ci = bootstrap_statistic(probs, statistic=inception_score, what="sounds")
    assert ci.low <= ci.estimate <= ci.high and "sounds" in ci.method


def test_seed_spread_is_a_t_interval():
    ci = seed_spread([1.0, 2.0, 3.0])
    # mean 2, sd 1, t(0.975, 2) = 4.303: half-width 4.303 / sqrt(3)
    assert ci.estimate == 2.0 and ci.high - 2.0 == pytest.approx(4.303 / np.sqrt(3), rel=1e-3)
    assert verdict(ci, claimed="positive") == "inconclusive"      # three seeds: wide, low end -0.48
    assert verdict(seed_spread([2.0, 2.5, 3.0]), claimed="positive") == "holds"
    assert verdict(seed_spread([1.0, -1.0, 0.5]), claimed="positive") == "inconclusive"
    with pytest.raises(AudiogenError, match="at least 2"):
        seed_spread([1.0])


def test_interval_round_trip_and_shift():
    ci = Interval(9.0, 8.5, 9.5, 300, "test")
    assert Interval.from_dict(ci.to_dict()) == ci
    assert ci.shifted(8.0).format(".1f") == "1.0 [0.5, 1.5]"


@pytest.mark.parametrize("low, high, expected", [
    (-0.05, 0.08, "holds"),             # inside the margin: equivalent
    (-1.54, -1.47, "does not hold"),    # entirely below -margin
    (0.12, 0.3, "does not hold"),       # entirely above +margin
    (0.05, 0.12, "inconclusive"),       # straddles +margin
    (-0.2, 0.2, "inconclusive"),        # wider than the margin on both sides
    (-0.1, 0.05, "inconclusive"),       # touching the margin is not inside it
])
def test_equivalence_is_two_one_sided_tests(low, high, expected):
    from audiogen_lib.stats import equivalence

    assert equivalence(Interval((low + high) / 2, low, high, 300, "constructed", 0.90), margin=0.1) == expected


def test_equivalence_can_hold_on_data_and_needs_a_margin(rng):
    """Two conditions that differ by noise only: with enough clips the 90% interval fits inside 0.1."""
    from audiogen_lib.stats import equivalence, tost_level

    a = rng.normal(3.0, 0.5, 300)
    b = a + rng.normal(0.0, 0.1, 300)
    ci = paired_bootstrap(a, b, level=tost_level())
    assert ci.level == pytest.approx(0.90)
    assert equivalence(ci, margin=0.1) == "holds"
    assert equivalence(paired_bootstrap(a + 0.5, b, level=tost_level()), margin=0.1) == "does not hold"
    with pytest.raises(AudiogenError, match="margin must be positive"):
        equivalence(ci, margin=0.0)


def test_speaker_bootstrap_widens_when_speakers_differ(rng):
    """Six speakers, one of whom carries the effect: the clip bootstrap says 'holds', the speaker one does not."""
    from audiogen_lib.stats import speaker_bootstrap

    speakers = np.repeat(list("abcdef"), 50)
    d = rng.normal(0.0, 0.05, 300) + np.where(speakers == "a", 1.0, 0.0)   # one speaker's effect
    by_clips = paired_bootstrap(d, np.zeros(300))
    by_speakers = speaker_bootstrap(d, speakers)
    assert by_speakers.estimate == pytest.approx(by_clips.estimate)
    assert verdict(by_clips, claimed="positive") == "holds"
    assert verdict(by_speakers, claimed="positive") == "inconclusive"
    assert (by_speakers.high - by_speakers.low) > 3 * (by_clips.high - by_clips.low)
    # speakers that all agree: both bootstraps find the effect, and about equally wide
    same = rng.normal(0.5, 0.05, 300)
    s = speaker_bootstrap(same, speakers)
    assert s.low > 0.48 and s.high < 0.52
    # NaN clips drop out, pairing works, and mismatched lengths are refused
    a, b = same.copy(), np.zeros(300)
    a[:7] = np.nan
    assert speaker_bootstrap(a, speakers, b).n == 293
    with pytest.raises(AudiogenError, match="one speaker per clip"):
        speaker_bootstrap(same, speakers[:-1])
    with pytest.raises(AudiogenError, match="at least 2 speakers"):
        speaker_bootstrap(same, np.repeat("a", 300))


@pytest.mark.parametrize("p, n", [(0.98, 300), (0.9767, 300), (0.95, 60), (0.99, 30)])
def test_binomial_floor_fails_by_chance_rarely_and_a_worse_model_surely(p, n, rng):
    from audiogen_lib.stats import binomial_floor

    floor = binomial_floor(p, n)
    draws = rng.binomial(n, p, 200_000) / n
    assert np.mean(draws < floor) < 0.001                   # a model as good as its card: rarely below
    assert np.mean(draws <= floor) >= 0.001 or floor == 0   # and the floor is the highest such value
    worse = rng.binomial(n, p - 0.1, 1000) / n
    assert np.mean(worse < floor) > 0.5 or n < 100           # ten points worse: caught on 300 clips
