"""Signal settings and the run profile.

Public names
------------
FeatureConfig   frozen dataclass of every signal setting (sample rate, STFT, dB range)
CONFIGS         the named configs: ``"paper"`` (the study's) and ``"native8k"``
get_config      a FeatureConfig from a name, a dict or a FeatureConfig
Profile         frozen dataclass of how much work a run does
PROFILES        ``"smoke"`` (CI, seconds), ``"book"`` (readers), ``"paper"`` (full experiment)
get_profile     the profile named by ``AUDIOGEN_PROFILE`` (default ``"book"``)

Notebook: notebooks/05_data_pipeline.ipynb
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from dataclasses import dataclass

from .errors import AudiogenError

# Bump when the feature code changes in a way that changes cached arrays.
FEATURE_CODE_VERSION = 1


@dataclass(frozen=True)
class FeatureConfig:
    """Every setting that turns a waveform into a model input, and back.

    A config is saved with each feature cache and each model, so that a model is
    never fed features computed with other settings.

    Parameters
    ----------
    name : str
        Short name, e.g. ``"paper"``.
    sr : int
        Sample rate the recordings are resampled to, in Hz.
    duration : float
        Every clip is zero-padded or trimmed to this many seconds.
    n_fft, hop_length : int
        STFT frame length and hop, in samples (Hann window, centred frames).
    n_frames : int
        Number of STFT frames; must follow from ``duration`` and ``hop_length``.
    drop_nyquist : bool
        Drop the top (Nyquist) bin so that the image has ``n_fft // 2`` rows,
        as the study did (n_fft 512 gives 257 bins, 256 kept).
    top_db : float
        Each clip's dB spectrogram is floored at its maximum minus ``top_db``
        (librosa's ``amplitude_to_db`` default, which the study used).
    amin : float
        Smallest amplitude before the logarithm (-100 dB).
    global_db_range : (float, float)
        Fixed dB range of the ``"global"`` normalisation, used to turn a
        spectrogram that came from no clip (a VAE sample) back into sound.
    """

    name: str
    sr: int
    duration: float
    n_fft: int
    hop_length: int
    n_frames: int = 64
    drop_nyquist: bool = False
    top_db: float = 80.0
    amin: float = 1e-5
    global_db_range: tuple[float, float] = (-60.0, 40.0)

    def __post_init__(self):
        if isinstance(self.global_db_range, list):
            object.__setattr__(self, "global_db_range", tuple(self.global_db_range))
        frames = 1 + self.n_samples // self.hop_length
        if frames != self.n_frames:
            raise AudiogenError(
                f"config {self.name!r}: duration {self.duration} s at {self.sr} Hz gives "
                f"{self.n_samples} samples and {frames} frames of hop {self.hop_length}, "
                f"not n_frames={self.n_frames}; change duration or hop_length"
            )
        lo, hi = self.global_db_range
        if not lo < hi:
            raise AudiogenError(f"config {self.name!r}: global_db_range {self.global_db_range} must be (low, high) with low < high")

    @property
    def n_samples(self) -> int:
        """Samples per clip after padding or trimming."""
        return int(round(self.duration * self.sr))

    @property
    def n_stft_bins(self) -> int:
        """Rows of the full one-sided STFT, ``n_fft // 2 + 1``."""
        return self.n_fft // 2 + 1

    @property
    def n_bins(self) -> int:
        """Rows of the model's image."""
        return self.n_stft_bins - 1 if self.drop_nyquist else self.n_stft_bins

    @property
    def shape(self) -> tuple[int, int, int]:
        """The model input shape, ``(n_bins, n_frames, 1)``."""
        return (self.n_bins, self.n_frames, 1)

    @property
    def bin_hz(self) -> float:
        """Width of one frequency bin, in Hz."""
        return self.sr / self.n_fft

    def to_dict(self) -> dict:
        d = dataclasses.asdict(self)
        d["global_db_range"] = list(self.global_db_range)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "FeatureConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - names
        missing = {f.name for f in dataclasses.fields(cls) if f.default is dataclasses.MISSING} - set(d)
        if unknown or missing:
            raise AudiogenError(
                f"feature config {d!r} has unknown keys {sorted(unknown)} and lacks {sorted(missing)}; "
                f"the keys are {sorted(names)}"
            )
        return cls(**d)

    def fingerprint(self) -> str:
        """A short hash of the settings and the feature code version."""
        blob = json.dumps({"config": self.to_dict(), "code": FEATURE_CODE_VERSION}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:16]


CONFIGS: dict[str, FeatureConfig] = {
    # The study: 22,050 Hz, n_fft 512, hop 256, 0.74 s -> (256, 64) after dropping Nyquist.
    # FSDD is 8 kHz, so everything above 4 kHz (bins 93..255, 64% of the image) is empty.
    "paper": FeatureConfig(
        name="paper", sr=22050, duration=0.74, n_fft=512, hop_length=256,
        drop_nyquist=True, global_db_range=(-60.0, 40.0),
    ),
    # The recordings' own rate: 256 bins from 0 to 4 kHz, 75% overlap, 1.02 s.
    "native8k": FeatureConfig(
        name="native8k", sr=8000, duration=1.02, n_fft=510, hop_length=128,
        drop_nyquist=False, global_db_range=(-60.0, 40.0),
    ),
}


def get_config(config: str | dict | FeatureConfig = "paper") -> FeatureConfig:
    """Return a :class:`FeatureConfig` given its name, its dict or itself."""
    if isinstance(config, FeatureConfig):
        return config
    if isinstance(config, dict):
        return FeatureConfig.from_dict(config)
    if isinstance(config, str) and config in CONFIGS:
        return CONFIGS[config]
    raise AudiogenError(f"unknown feature config {config!r}; use one of {sorted(CONFIGS)} or a FeatureConfig")


@dataclass(frozen=True)
class Profile:
    """How much work a run does: the one setting that scales every notebook and command.

    Set it with the environment variable ``AUDIOGEN_PROFILE``.
    """

    name: str
    n_train: int | None      # training clips used (None: all 2,400)
    n_test: int | None       # validation and test clips used (None: all 300 of each)
    vae_epochs: int
    unet_epochs: int
    classifier_epochs: int
    use_pretrained: bool     # chapters load the shipped models instead of training
    n_iter: int              # Griffin-Lim iterations
    n_live: int | None = None  # training clips of a chapter's short live training (None: n_train)


PROFILES: dict[str, Profile] = {
    "smoke": Profile("smoke", n_train=64, n_test=16, vae_epochs=1, unet_epochs=1,
                     classifier_epochs=1, use_pretrained=True, n_iter=8),
    "book": Profile("book", n_train=None, n_test=None, vae_epochs=2, unet_epochs=1,
                    classifier_epochs=2, use_pretrained=True, n_iter=32, n_live=480),
    "paper": Profile("paper", n_train=None, n_test=None, vae_epochs=150, unet_epochs=30,
                     classifier_epochs=60, use_pretrained=False, n_iter=32),
}

PROFILE_ENV = "AUDIOGEN_PROFILE"


def get_profile(name: str | None = None) -> Profile:
    """The run profile: ``name`` if given, else ``$AUDIOGEN_PROFILE``, else ``"book"``."""
    name = name or os.environ.get(PROFILE_ENV) or "book"
    if name not in PROFILES:
        raise AudiogenError(f"unknown profile {name!r} (from {PROFILE_ENV} or the argument); use one of {sorted(PROFILES)}")
    return PROFILES[name]

