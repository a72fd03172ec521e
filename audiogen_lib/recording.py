"""Your own recording through the study's pipeline: each model's reconstruction, and the digit the classifier hears.

Any recording (a path, or the bytes of a file uploaded in JupyterLab) is made into the
waveform the models were trained on (:func:`audiogen_lib.features.load_recording`: mono,
the config's rate, leading silence removed, trimmed or padded to the config's
duration), turned into the same normalised log-spectrogram, passed through every
shipped model of that config, and each output is turned back into sound with the
library's default phase reconstruction. The shipped classifier says which digit it
hears in the input and in each reconstruction.

Public names
------------
MODEL_KINDS            the models a recording goes through by default: ``"unet"``, ``"unet_noskip"``, ``"vae"``
RecordingResult        the input, each model's image and sound, the classifier's verdicts and the notes
reconstruct_recording  a path or an upload's bytes -> :class:`RecordingResult`
write_outputs          a :class:`RecordingResult` -> a folder of wavs, a figure and a summary, all or nothing

``audiogen reconstruct FILE.wav --out DIR`` runs both.

Notebook: notebooks/09_listening_experiments.ipynb (your own recording)
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .config import FeatureConfig, get_config
from .errors import AudiogenError
from .features import LoadedRecording, load_recording, waveform_to_features

MODEL_KINDS = ("unet", "unet_noskip", "vae")
LABELS = {"input": "your recording (as the models take it)",
          "ceiling": "its own spectrogram, phase reconstructed (the ceiling)",
          "unet": "U-Net", "unet_noskip": "U-Net without skip connections", "vae": "VAE"}


@dataclass
class RecordingResult:
    """What :func:`reconstruct_recording` made of one recording.

    ``images`` and ``audio`` map ``"input"``, ``"ceiling"`` (the input's own spectrogram
    through the phase reconstruction alone) and each model kind to a normalised image
    ``(n_bins, n_frames)`` and a waveform at ``config.sr``; ``probabilities`` maps the same
    labels to the classifier's 10 digit probabilities (empty without a classifier).
    """

    recording: LoadedRecording
    config: FeatureConfig
    images: dict = field(default_factory=dict)
    audio: dict = field(default_factory=dict)
    probabilities: dict = field(default_factory=dict)

    @property
    def notes(self) -> tuple[str, ...]:
        return self.recording.notes

    def digit(self, label: str = "input") -> int | None:
        """The digit the classifier hears in ``label`` (``"input"``, ``"unet"``, ...), or None without a classifier."""
        p = self.probabilities.get(label)
        return None if p is None else int(np.argmax(p))

    def listen_rows(self) -> dict:
        """``{label: (waveform, image)}`` for :func:`audiogen_lib.display.listen_grid`."""
        rows = {}
        for key, y in self.audio.items():
            label = LABELS.get(key, key)
            if key in self.probabilities:
                label += f" - heard as {self.digit(key)} ({self.probabilities[key].max():.0%})"
            rows[label] = (y, self.images[key])
        return rows

    def summary(self) -> str:
        """What was done to the recording, then one line per sound with the digit heard in it."""
        rec = self.recording
        lines = [f"{rec.name}: {rec.source_seconds:.2f} s, {rec.channels} channel(s) at {rec.source_sr:,} Hz, "
                 f"peak {rec.peak_dbfs:.1f} dBFS; config {self.config.name!r}"]
        lines += [f"  - {note}" for note in rec.notes]
        for key in self.audio:
            heard = (f": heard as {self.digit(key)} ({self.probabilities[key].max():.0%})"
                     if key in self.probabilities else "")
            lines.append(f"{LABELS.get(key, key)}{heard}")
        return "\n".join(lines)

    def to_dict(self) -> dict:
        rec = self.recording
        return {"file": rec.name, "config": self.config.to_dict(), "source_sr": rec.source_sr,
                "channels": rec.channels, "source_seconds": round(rec.source_seconds, 4),
                "peak_dbfs": rec.peak_dbfs, "samples_used": rec.length, "notes": list(rec.notes),
                "sounds": {key: {"label": LABELS.get(key, key), "wav": f"{key}.wav",
                                 **({"digit": self.digit(key),
                                     "probabilities": [round(float(p), 4) for p in self.probabilities[key]]}
                                    if key in self.probabilities else {})}
                           for key in self.audio}}


def reconstruct_recording(source, *, config: FeatureConfig | str = "paper", models=MODEL_KINDS,
                          name: str | None = None, classifier: bool = True, loaded: dict | None = None,
                          seed: int = 0) -> RecordingResult:
    """A recording (path or bytes) through the pipeline and every model in ``models`` for ``config``.

    ``loaded`` may map a kind (``"unet"``, ``"classifier"``, ...) to a model already in
    memory, used instead of the shipped one; each model is checked against the features
    (:func:`audiogen_lib.models.check_features`). Raises :class:`AudiogenError` for an empty,
    corrupt, non-audio, silent or nearly silent file, naming it.

    >>> result = reconstruct_recording("my_seven.wav", config="paper")   # doctest: +SKIP
    >>> print(result.summary())                                           # doctest: +SKIP
    """
    from .models import check_features, predict
    from .reconstruction import features_to_audio

    config = get_config(config)
    unknown = [m for m in models if m not in MODEL_KINDS]
    if unknown or not models:
        raise AudiogenError(f"unknown model kinds {unknown}; use some of {MODEL_KINDS}")
    rec = load_recording(source, config=config, name=name)
    x, db_min, db_max = waveform_to_features(rec.y[None], config=config, mode="clip")
    result = RecordingResult(rec, config)
    result.images["input"], result.audio["input"] = x[0, ..., 0], rec.y

    def to_audio(images):
        return features_to_audio(images, config=config, db_min=db_min, db_max=db_max, seed=seed)[0]

    result.images["ceiling"], result.audio["ceiling"] = x[0, ..., 0], to_audio(x)
    for kind in models:
        model = _model(kind, config, loaded)
        x_hat = np.clip(predict(model, x, config=config, normalisation="clip"), 0.0, 1.0)
        result.images[kind], result.audio[kind] = x_hat[0, ..., 0], to_audio(x_hat)
    if classifier:
        from .classifier import audio_to_probabilities

        judge = _model("classifier", config, loaded)
        check_features(judge, config=config, normalisation="clip")
        probs = audio_to_probabilities(judge, np.stack(list(result.audio.values())))
        result.probabilities = dict(zip(result.audio, probs))
    return result


def _model(kind: str, config: FeatureConfig, loaded: dict | None):
    if loaded and kind in loaded:
        return loaded[kind]
    from .pretrained import load_pretrained

    return load_pretrained(kind, config.name)


def _figure(result: RecordingResult, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    keys = list(result.images)
    fig, axes = plt.subplots(1, len(keys), figsize=(2.4 * len(keys), 2.6), sharey=True, layout="constrained")
    cfg = result.config
    extent = (0, cfg.n_samples / cfg.sr, 0, cfg.n_bins * cfg.bin_hz)
    for ax, key in zip(np.atleast_1d(axes), keys):
        ax.imshow(result.images[key], origin="lower", aspect="auto", vmin=0, vmax=1, extent=extent, cmap="magma")
        title = LABELS.get(key, key).split(" (")[0]
        if key in result.probabilities:
            title += f"\nheard as {result.digit(key)}"
        ax.set_title(title, fontsize=8)
        ax.set_xlabel("time (s)", fontsize=8)
    np.atleast_1d(axes)[0].set_ylabel("frequency (Hz)", fontsize=8)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def write_outputs(result: RecordingResult, out_dir: str | os.PathLike) -> Path:
    """Write ``<label>.wav`` for every sound, ``spectrograms.png``, ``summary.txt`` and ``summary.json`` to ``out_dir``.

    Everything is written into a temporary folder beside ``out_dir`` and renamed at the
    end (:func:`audiogen_lib.files.atomic_path`), so an error leaves nothing behind.
    ``out_dir`` must not exist, or be empty. The wavs are 16-bit at ``config.sr``; a sound
    that would clip is scaled down (noted).
    """
    import soundfile as sf

    from .files import atomic_path

    out = Path(out_dir)
    check_output_folder(out)
    with atomic_path(out, directory=True) as tmp:
        for key, y in result.audio.items():
            peak = float(np.max(np.abs(y)))
            if peak > 1.0:
                y = y / peak
                result.recording = _with_note(result.recording, f"{key}.wav scaled by {1 / peak:.3f} to avoid clipping")
            sf.write(tmp / f"{key}.wav", y, result.config.sr, subtype="PCM_16")
        _figure(result, tmp / "spectrograms.png")
        (tmp / "summary.txt").write_text(result.summary() + "\n", encoding="utf8")
        (tmp / "summary.json").write_text(json.dumps(result.to_dict(), indent=1) + "\n", encoding="utf8")
    return out


def check_output_folder(out: str | os.PathLike) -> None:
    """Raise :class:`AudiogenError` if ``out`` is a file or a folder with something in it (before any work is done)."""
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AudiogenError(f"output folder {out} already exists and is not empty; choose another --out or delete it")


def _with_note(rec: LoadedRecording, note: str) -> LoadedRecording:
    from dataclasses import replace

    return replace(rec, notes=rec.notes + (note,))
