"""``audiogen phase``: the phase reconstruction's settings swept and chosen on the validation split, then
every ceiling and every shipped model scored on the test split, each with bootstrap intervals, timings and
provenance, written as one JSON file."""

from __future__ import annotations

from ..errors import AudiogenError


# --- audiogen phase: choose the phase reconstruction on validation, score it on test ---------------

_PHASE_TOLS = (1e-2, 1e-3, 1e-5)
_PHASE_MOMENTA = (0.0, 0.5, 0.9, 0.99)
_PHASE_STOPS = (0, 1, 2, 4, 8, 12, 16, 24, 32, 48, 64)
_PHASE_RANDOM_STOPS = (0, 4, 8, 16, 32, 64, 100)
_PHASE_MODELS = ("vae", "unet", "unet_noskip")


def _phase_timed(fn, repeats: int):
    """``fn()`` run ``repeats`` times; its result and the fastest wall time (the least disturbed run)."""
    import time

    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return out, best


def _phase_pesq(fs, y):
    from ..metrics import pesq_nb

    return pesq_nb(fs.waveforms, y, sr=fs.config.sr, lengths=fs.lengths)


def _phase_row(scores, reference=None, *, seconds=None, n_clips=None, per_clip=False) -> dict:
    """Mean PESQ-NB with its bootstrap interval, the paired difference to ``reference``, the time per clip."""
    import numpy as np

    from ..stats import bootstrap_mean, paired_bootstrap

    row = {"pesq": bootstrap_mean(scores.values).to_dict(), "pesq_scored": scores.n_scored,
           "pesq_failed": scores.failures}
    if reference is not None:
        row["pesq_minus_reference"] = paired_bootstrap(scores.values, reference.values).to_dict()
    if seconds is not None:
        row["ms_per_clip"] = 1000 * seconds / n_clips
    if per_clip:
        row["pesq_per_clip"] = [None if not np.isfinite(v) else round(float(v), 4) for v in scores.values]
    return row


def _phase_provenance(args, fs) -> dict:
    import datetime
    import os
    import platform

    import librosa
    import numba

    from ..data import manifest_hash
    from ..runtime import cpu_model, git_state

    commit, dirty = git_state()
    cpu = cpu_model()
    return {"command": f"audiogen phase --config {args.config} --split {args.split}"
                       + (f" --source {args.source}" if args.source != "true" else "")
                       + (f" --n {args.n}" if args.n else "") + f" --repeats {args.repeats} --out {args.out}",
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "git_commit": commit, "git_dirty_tracked_files": dirty,
            "machine": f"{cpu}, {os.cpu_count()} cores; {platform.system()} {platform.release()}; "
                       f"Python {platform.python_version()}, librosa {librosa.__version__}, numba {numba.__version__}",
            "load_average_at_start": os.getloadavg(), "data_manifest": manifest_hash(),
            "config": fs.config.to_dict(), "split": args.split, "n_clips": len(fs),
            "timing": "fastest of --repeats runs over the whole batch, divided by the clips; one process, "
                      "single-threaded NumPy FFT and numba; another job may share the CPU (load average above)"}


def _phase_validation(args, fs, S) -> dict:
    """The sweep: tolerance x momentum x iterations from PGHI, and iterations from random phase; the choice."""
    from ..reconstruction import REFERENCE, griffinlim, pghi
    from ..stats import paired_bootstrap

    n, cfg = len(fs), fs.config
    _, t_ref = _phase_timed(lambda: griffinlim(S, config=cfg, n_iter=REFERENCE["n_iter"]), args.repeats)
    budget, ms_per_iter = 1000 * t_ref / n, 1000 * t_ref / n / REFERENCE["n_iter"]
    scores, rows = {}, {}
    for k, y in griffinlim(S, config=cfg, stops=_PHASE_RANDOM_STOPS).items():
        scores[f"random, {k} it"] = _phase_pesq(fs, y)
        rows[f"random, {k} it"] = {"start": "random", "tol": None, "momentum": REFERENCE["momentum"], "n_iter": k}
    reference = scores[f"random, {REFERENCE['n_iter']} it"]
    pghi_ms = {}
    for tol in _PHASE_TOLS:
        _, t_pghi = _phase_timed(lambda: pghi(S, config=cfg, tol=tol), args.repeats)
        pghi_ms[f"{tol:g}"] = 1000 * t_pghi / n
        for momentum in _PHASE_MOMENTA:
            for k, y in griffinlim(S, config=cfg, init="pghi", tol=tol, momentum=momentum, stops=_PHASE_STOPS).items():
                if k == 0 and momentum != _PHASE_MOMENTA[-1]:
                    continue  # no iteration: the momentum plays no part
                name = f"pghi tol {tol:g}, " + (f"momentum {momentum}, {k} it" if k else "alone")
                scores[name] = _phase_pesq(fs, y)
                rows[name] = {"start": "pghi", "tol": tol, "momentum": momentum if k else None, "n_iter": k,
                              "ms_per_clip_estimate": pghi_ms[f"{tol:g}"] + k * ms_per_iter}
            print(f"tol {tol:g}, momentum {momentum}: PESQ-NB " + ", ".join(
                f"{k} it {scores[f'pghi tol {tol:g}, momentum {momentum}, {k} it'].mean:.3f}"
                for k in _PHASE_STOPS if k), flush=True)
    for name in rows:
        rows[name].update(_phase_row(scores[name], reference))
    allowed = [k for k, r in rows.items() if r["start"] == "pghi" and r["ms_per_clip_estimate"] <= budget]
    best = max(allowed, key=lambda k: rows[k]["pesq"]["estimate"])
    not_worse = []
    for k in allowed:
        diff = paired_bootstrap(scores[k].values, scores[best].values)
        rows[k]["pesq_minus_best"] = diff.to_dict()
        if diff.high >= 0:  # not reliably worse than the best
            not_worse.append(k)
    pick = min(not_worse, key=lambda k: (rows[k]["ms_per_clip_estimate"], -rows[k]["pesq"]["estimate"]))
    r = rows[pick]
    chosen = {"tol": r["tol"], "n_iter": r["n_iter"],
              "momentum": REFERENCE["momentum"] if r["momentum"] is None else r["momentum"]}
    return {"rule": "among the PGHI settings whose estimated time per clip (PGHI + n_iter x one reference "
                    f"iteration) is at most that of the reference, fast Griffin-Lim {REFERENCE['n_iter']} iterations "
                    "from random phase: the fastest whose paired 95% interval of PESQ-NB against the best "
                    "(highest mean) includes zero, i.e. not reliably worse than the best",
            "reference_ms_per_clip": budget, "ms_per_iteration": ms_per_iter, "pghi_ms_per_clip": pghi_ms,
            "chosen": chosen, "chosen_row": pick, "best_row": best, "not_reliably_worse_rows": not_worse,
            "rows": rows}


def _phase_test(args, fs, S) -> dict:
    """The final table: ceiling rows on the true magnitudes, then every shipped model through both methods."""
    import librosa
    import numpy as np

    from ..experiments import reconstruct
    from ..features import features_to_magnitude
    from ..metrics import spectral_convergence
    from ..pretrained import available, card, load_pretrained
    from ..reconstruction import DEFAULT_METHOD, REFERENCE, features_to_audio, magnitude_to_audio, settings
    from ..stats import paired_bootstrap

    n, cfg = len(fs), fs.config
    conditions = {
        f"griffinlim {REFERENCE['n_iter']} it, random phase (reference)": dict(method="griffinlim"),
        "pghi alone": dict(method="pghi"),
        f"{DEFAULT_METHOD} (validated settings)": dict(method=DEFAULT_METHOD),
        "griffinlim 100 it, random phase": dict(method="griffinlim", n_iter=100),
        "zero phase (the study's code)": dict(method="zero_phase"),
    }
    audio, seconds = {}, {}
    for _ in range(max(1, args.repeats)):  # interleaved, so that a busy moment hits every method alike
        for name, kw in conditions.items():
            y, t = _phase_timed(lambda: magnitude_to_audio(S, config=cfg, **kw), 1)
            audio[name], seconds[name] = y, min(seconds.get(name, float("inf")), t)
    scores = {name: _phase_pesq(fs, y) for name, y in audio.items()}
    ref = next(iter(conditions))
    ceiling = {name: _phase_row(scores[name], scores[ref], seconds=seconds[name], n_clips=n, per_clip=True)
               for name in conditions}
    for name, y in audio.items():
        ceiling[name]["spectral_convergence"] = float(np.mean(spectral_convergence(S, y, config=cfg)))
    new = f"{DEFAULT_METHOD} (validated settings)"
    true_phase = np.angle(librosa.stft(fs.waveforms, n_fft=cfg.n_fft, hop_length=cfg.hop_length))
    models = {}
    for kind in _PHASE_MODELS:
        if f"{kind}_{cfg.name}" not in available():
            continue
        model = load_pretrained(kind, cfg.name)
        x_hat = reconstruct(model, fs)
        y_gl = features_to_audio(x_hat, config=cfg, db_min=fs.db_min, db_max=fs.db_max, method="griffinlim")
        y_new = features_to_audio(x_hat, config=cfg, db_min=fs.db_min, db_max=fs.db_max, method=DEFAULT_METHOD)
        # The model's magnitude with the original recording's own phase: what a perfect phase would give.
        M_hat = features_to_magnitude(x_hat, config=cfg, db_min=fs.db_min, db_max=fs.db_max)
        y_oracle = librosa.istft(M_hat * np.exp(1j * true_phase), n_fft=cfg.n_fft, hop_length=cfg.hop_length,
                                 length=cfg.n_samples)
        gl, nw, oracle = _phase_pesq(fs, y_gl), _phase_pesq(fs, y_new), _phase_pesq(fs, y_oracle)
        c = card(kind, cfg.name)
        models[kind] = {
            "weights_sha256": c.get("weights_sha256"), "card_test_rmse": c.get("final", {}).get("test_rmse"),
            "griffinlim": _phase_row(gl, per_clip=True), DEFAULT_METHOD: _phase_row(nw, per_clip=True),
            "true_phase": _phase_row(oracle),
            "gain": paired_bootstrap(nw.values, gl.values).to_dict(),
            "minus_new_ceiling": paired_bootstrap(nw.values, scores[new].values).to_dict(),
            "minus_reference_ceiling": paired_bootstrap(gl.values, scores[ref].values).to_dict(),
            "true_phase_minus_new_ceiling": paired_bootstrap(oracle.values, scores[new].values).to_dict(),
            "spectral_convergence_to_own_magnitude": {
                "griffinlim": float(np.mean(spectral_convergence(M_hat, y_gl, config=cfg))),
                DEFAULT_METHOD: float(np.mean(spectral_convergence(M_hat, y_new, config=cfg)))}}
        print(f"{kind}: {gl.mean:.3f} -> {nw.mean:.3f} PESQ-NB", flush=True)
    return {"settings": settings(cfg), "reference": ref, "new_method": new, "ceiling": ceiling, "models": models}


def _cmd_phase(args) -> None:
    import json
    from pathlib import Path

    from ..features import load_features
    from ..files import atomic_write

    if args.split not in ("validation", "test"):
        raise AudiogenError(f"--split must be validation (to choose the settings) or test (to score them), "
                            f"got {args.split!r}")
    if args.source != "true" and args.split != "validation":
        raise AudiogenError(f"--source {args.source} sweeps the settings on a model's reconstructions of the "
                            f"validation split; the test split scores every model anyway: drop --source")
    suffix = "" if args.source == "true" else f"_{args.source}"
    out = Path(args.out or f"results/phase_{args.config}_{args.split}{suffix}.json")
    args.out = str(out)
    fs = load_features(args.split, config=args.config).subset(args.n)
    result = {"provenance": _phase_provenance(args, fs)}
    if args.source == "true":
        S = fs.magnitude()
    else:  # the magnitudes a shipped model makes of these clips: is the choice the same for them?
        from ..experiments import reconstruct
        from ..features import features_to_magnitude
        from ..pretrained import card, load_pretrained

        x_hat = reconstruct(load_pretrained(args.source, args.config), fs)
        S = features_to_magnitude(x_hat, config=fs.config, db_min=fs.db_min, db_max=fs.db_max)
        result["provenance"]["weights_sha256"] = card(args.source, args.config).get("weights_sha256")
    result["provenance"]["source"] = args.source
    result.update(_phase_validation(args, fs, S) if args.split == "validation" else _phase_test(args, fs, S))
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(out) as f:
        f.write(json.dumps(result, indent=1, default=float) + "\n")
    if args.split == "validation":
        print(f"chosen on {len(fs)} validation clips: {result['chosen']} ({result['chosen_row']})")
    else:
        for name, row in result["ceiling"].items():
            print(f"{name}: PESQ-NB {row['pesq']['estimate']:.3f}, {row['ms_per_clip']:.1f} ms per clip")
    print(f"written to {out}")
