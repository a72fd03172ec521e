"""Generated sounds on disk: a folder of wavs and its index.json, checked before any work, written all or nothing.

Public names
------------
check_output_folder   refuse, before any work, an output folder that is not empty or cannot be written
write_samples         sounds -> a folder of wavs and index.json, all or nothing

Notebook: notebooks/10_generation.ipynb
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from ..errors import AudiogenError
from ..files import atomic_path
from .decoding import Generated


def check_output_folder(out: str | os.PathLike) -> Path:
    """Raise :class:`AudiogenError` unless ``out`` can be made: absent (its parent creatable and writable) or an empty folder.

    Checked before any work, so that a run that could not write its sounds does not start.
    """
    out = Path(out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise AudiogenError(f"output folder {out} already exists and is not empty; choose another --out or delete it")
    parent = out.absolute().parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        raise AudiogenError(f"cannot write the output folder {out}: {existing} is not a writable folder; "
                            f"choose another --out")
    return out


def write_samples(gen: Generated, out_dir: str | os.PathLike, *, info: dict) -> Path:
    """Write ``sample_000.wav`` ... and ``index.json`` to ``out_dir``, all or nothing.

    Everything is written into a temporary folder beside ``out_dir`` and renamed at the
    end; on any error the temporary folder (and any parent folder made for it) goes.
    ``info`` (model, config, weights_sha256, ...) heads the index; each sound's row holds
    its file, the digit the classifier hears and its confidence, the sampler, model, seed,
    its index among the seed's draws and the model's weights_sha256. The wavs are 16-bit
    at the config's rate; a sound that would clip is scaled down (said in its row).
    """

    out = check_output_folder(out_dir)
    made = []
    parent = out.absolute().parent
    while not parent.exists():
        made.append(parent)
        parent = parent.parent
    try:
        with atomic_path(out, directory=True) as tmp:
            _write_sounds(gen, tmp, info)
    except BaseException as err:
        for folder in made:  # deepest first: the parents made for this run
            try:
                folder.rmdir()
            except OSError:
                break
        if isinstance(err, OSError):
            raise AudiogenError(f"cannot write the output folder {out}: {err}; choose another --out") from err
        raise
    return out


def _write_sounds(gen: Generated, tmp: Path, info: dict) -> None:
    """Each sound as ``sample_<i>.wav`` (16-bit) and ``index.json`` into the folder ``tmp``."""
    import soundfile as sf

    rows = []
    probs = gen.probabilities
    for i, y in enumerate(gen.waveforms):
        name = f"sample_{i:03d}.wav"
        peak = float(np.max(np.abs(y))) if len(y) else 0.0
        row = {"file": name}
        if probs is not None:
            row.update({"digit_heard": int(probs[i].argmax()), "confidence": round(float(probs[i].max()), 4)})
        if gen.digit_asked is not None:
            row["digit_asked"] = gen.digit_asked
        elif gen.digits_drawn is not None:
            row["digit_asked"] = int(gen.digits_drawn[i])
        row.update({"sampler": gen.sampler, "model": info.get("model"), "seed": gen.seed,
                    "draw": int(gen.indices[i]) if gen.indices is not None else i,
                    "weights_sha256": info.get("weights_sha256")})
        if peak > 1.0:
            y = y / peak
            row["note"] = f"scaled by {1 / peak:.3f} to avoid clipping"
        sf.write(tmp / name, y, gen.config.sr, subtype="PCM_16")
        rows.append(row)
    index = {**info, "sampler": gen.sampler, "seed": gen.seed, "n": len(rows), "digit_asked": gen.digit_asked,
             "draws": gen.draws, "selection": gen.selection, "sample_rate": gen.config.sr, "sounds": rows}
    (tmp / "index.json").write_text(json.dumps(index, indent=1) + "\n", encoding="utf8")
