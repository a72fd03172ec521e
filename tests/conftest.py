"""Shared fixtures: a seeded generator, synthetic test signals with known answers, and the spy on
every loading path (tests/split_spy.py)."""

import numpy as np
import pytest

from audiogen_lib.config import CONFIGS


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def sine(config, freq, *, amp=0.5):
    t = np.arange(config.n_samples) / config.sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def chirp(config, f0, f1, *, amp=0.5):
    t = np.arange(config.n_samples) / config.sr
    T = config.n_samples / config.sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t**2 / (2 * T))
    return (amp * np.sin(phase)).astype(np.float32)


@pytest.fixture(params=sorted(CONFIGS))
def config(request):
    return CONFIGS[request.param]


@pytest.fixture
def signals(config):
    """A small batch of sines and chirps inside the 0-4 kHz band of FSDD."""
    return np.stack([sine(config, 440.0), sine(config, 1234.5, amp=0.2), chirp(config, 200.0, 3500.0),
                     chirp(config, 3000.0, 300.0, amp=0.8)])


@pytest.fixture
def spy(monkeypatch):
    """Watches every loading path and ``keras.Model.fit`` for the test (tests/split_spy.py)."""
    from split_spy import watch

    return watch(monkeypatch)
