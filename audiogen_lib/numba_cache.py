"""Compile every numba function the book and the tests call, once, before processes run side by side.

librosa and :mod:`audiogen_lib.reconstruction` compile some functions with numba on first
call and keep the machine code in numba's on-disk cache (``__pycache__``), so that the
next process only loads it. When two processes compile the same function at the same
time, each writes the cache's index and its data file separately, and one can leave an
index that names the other's code under its own signature: a later process then loads
code built for other argument types, and hangs or crashes. ``make`` therefore runs this
module once, alone, right after installing (``python -m audiogen_lib.numba_cache``), on
one short example of each call, in each dtype and layout the library uses; afterwards the
parallel test run and the book build only read the cache.

Public names
------------
compile_all   run each numba-compiled call once on a small example; returns the names it ran
"""

from __future__ import annotations

import numpy as np

from .config import get_config


def compile_all() -> list[str]:
    """Run each numba-compiled call of librosa and of this library once on a small example."""
    import librosa

    from .reconstruction import magnitude_to_audio

    rng = np.random.default_rng(0)
    ran = []
    for name in ("paper", "native8k"):
        cfg = get_config(name)
        S = np.abs(rng.standard_normal((2, cfg.n_fft // 2 + 1, cfg.n_frames))).astype(np.float32)
        for method in ("pghi+fgla", "zero_phase"):  # PGHI's heap, fast Griffin-Lim, the inverse STFT
            magnitude_to_audio(S, config=cfg, method=method)
            magnitude_to_audio(S[0], config=cfg, method=method)
        ran.append(f"phase reconstruction ({name})")
    # librosa's inverse STFT: single and double precision, one clip and a batch
    for dtype in (np.complex64, np.complex128):
        X = rng.standard_normal((2, 257, 16)).astype(dtype)
        librosa.istft(X, hop_length=128)
        librosa.istft(X[0], hop_length=128)
    ran.append("librosa.istft")
    y = np.sin(2 * np.pi * 150 * np.arange(4000) / 8000)
    librosa.pyin(y, fmin=60, fmax=400, sr=8000, frame_length=512, hop_length=128)
    ran.append("librosa.pyin")
    return ran


if __name__ == "__main__":
    print("numba's cache holds:", ", ".join(compile_all()))
