"""The ``audiogen`` command.

    audiogen data                 locate (or download) and verify FSDD, build the feature caches
    audiogen train vae|unet|classifier [--config paper] [--preset fast] [--profile paper] [--ship]
    audiogen reproduce [--profile smoke|book|paper] [--config paper] [--out results] [--seeds N] [--retrain]
    audiogen bench [--seconds 300] [--config paper]
    audiogen reconstruct FILE.wav [--model unet|unet_noskip|vae|all] [--config paper|native8k] --out DIR
    audiogen phase [--config paper|native8k] [--split validation|test] [--n N] [--out results/phase_<config>_<split>.json]
    audiogen choose-generator --out FILE.json [--ship] [--n 300]
    audiogen generate [--model vae|vae_gen|cvae|ldm] [--digit D] [--n 10] [--sampler prior|gaussian|gmm] [--seed 0]
                      [--config paper|native8k] (--out DIR | --evaluate results/sampling_<config>.json)
    audiogen sweep [--beta B ...] [--config paper] [--profile paper] [--epochs E] --out results/sweep_<config>.json

Notebook: book/intro.md
"""

from __future__ import annotations

import argparse
import sys

from .errors import AudiogenError


def _cmd_data(args) -> None:
    from .config import CONFIGS
    from .data import locate_fsdd
    from .features import load_all_spectrograms

    path = locate_fsdd(args.path)
    print(f"FSDD v1.0.10 verified in {path}")
    for name in args.configs or CONFIGS:
        load_all_spectrograms(name, data_dir=path)
        print(f"features for config {name!r} cached")


def _cmd_train(args) -> None:
    import shutil
    from pathlib import Path

    from .pretrained import HERE
    from .training import train

    if args.kind == "ldm":
        return _cmd_train_ldm(args)
    name = args.kind if args.skip_connections else f"{args.kind}_noskip"
    preset = args.latent if args.kind == "latent_ae" else args.preset
    out = Path(args.out or f"runs/{name}_{args.config}_{preset}")
    run = train(args.kind, config=args.config, preset=preset, profile=args.profile, epochs=args.epochs,
                skip_connections=args.skip_connections, seed=args.seed, beta=args.beta, free_bits=args.free_bits,
                warmup_epochs=args.warmup_epochs, max_seconds=args.max_minutes and args.max_minutes * 60,
                out_dir=out, verbose=2)
    final = {k: round(v, 5) for k, v in run.card["final"].items()}
    print(f"{name} ({args.config}, {preset}): {run.card['epochs_run']} epochs, best {run.card['best_epoch']}, "
          f"{run.card['wall_time_s']:.0f} s; {final}; saved to {run.path}")
    if args.ship:
        if args.kind != "latent_ae" and args.preset != "fast":
            raise AudiogenError("only the fast preset is shipped (the 10 MB budget); drop --ship or use --preset fast")
        target = HERE / f"{name}_{args.config}.keras"
        shutil.copyfile(run.path, target)
        shutil.copyfile(out / "card.json", target.with_suffix(".json"))
        print(f"shipped as {target}")


def _cmd_train_ldm(args) -> None:
    """``audiogen train ldm``: the denoiser on the latents of a latent autoencoder (the shipped one by default)."""
    import shutil
    from pathlib import Path

    from .diffusion import train_denoiser
    from .pretrained import HERE

    out = Path(args.out or f"runs/ldm_{args.config}")
    run = train_denoiser(config=args.config, profile=args.profile, autoencoder=args.autoencoder, epochs=args.epochs,
                         max_seconds=args.max_minutes and args.max_minutes * 60, seed=args.seed, out_dir=out, verbose=2,
                         init=args.init, **({"learning_rate": args.learning_rate} if args.learning_rate else {}),
                         **({"batch_size": args.batch_size} if args.batch_size else {}))
    print(f"ldm ({args.config}): {run.card['epochs_run']} epochs, best {run.card['best_epoch']}, "
          f"{run.card['wall_time_s']:.0f} s; {run.card['final']}; saved to {run.path}")
    if args.ship:
        target = HERE / f"ldm_{args.config}.keras"
        shutil.copyfile(run.path, target)
        shutil.copyfile(out / "card.json", target.with_suffix(".json"))
        print(f"shipped as {target}")


def _command_line(command: str, options) -> str:
    """The command as it would be typed again, for a result's provenance: ``audiogen COMMAND`` and each
    ``(flag, value)`` in order; None and False are left out, True is the flag alone, a list repeats the flag."""
    import shlex

    words = ["audiogen", command]
    for flag, value in options:
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v is None or v is False:
                continue
            words += [flag] if v is True else [flag, str(v)]
    return shlex.join(words)


def _cmd_reproduce(args) -> None:
    from .report import reproduce, verdict_table

    command = _command_line("reproduce", [("--config", args.config), ("--out", args.out), ("--profile", args.profile),
                                          ("--seeds", args.seeds), ("--retrain", args.retrain)])
    rep = reproduce(args.profile, config=args.config, out_dir=args.out, seeds=args.seeds, reuse=not args.retrain,
                    command=command)
    print(verdict_table(rep.results))
    print(f"results written to {rep.out_dir}/ (results.md, results.json, wav/, figures/) in {rep.seconds:.0f} s")


def _cmd_bench(args) -> None:
    from .bench import run

    run(args.seconds, args.config, args.out)


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
    from .metrics import pesq_nb

    return pesq_nb(fs.waveforms, y, sr=fs.config.sr, lengths=fs.lengths)


def _phase_row(scores, reference=None, *, seconds=None, n_clips=None, per_clip=False) -> dict:
    """Mean PESQ-NB with its bootstrap interval, the paired difference to ``reference``, the time per clip."""
    import numpy as np

    from .stats import bootstrap_mean, paired_bootstrap

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

    from .data import manifest_hash
    from .runtime import cpu_model, git_state

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
    from .reconstruction import REFERENCE, griffinlim, pghi
    from .stats import paired_bootstrap

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

    from .experiments import reconstruct
    from .features import features_to_magnitude
    from .metrics import spectral_convergence
    from .pretrained import available, card, load_pretrained
    from .reconstruction import DEFAULT_METHOD, REFERENCE, features_to_audio, magnitude_to_audio, settings
    from .stats import paired_bootstrap

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

    from .features import load_features
    from .files import atomic_write

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
        from .experiments import reconstruct
        from .features import features_to_magnitude
        from .pretrained import card, load_pretrained

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


def _cmd_reconstruct(args) -> None:
    from .recording import MODEL_KINDS, check_output_folder, reconstruct_recording, write_outputs

    check_output_folder(args.out)  # before any work: nothing is written unless everything succeeds
    kinds = MODEL_KINDS if not args.model or "all" in args.model else tuple(dict.fromkeys(args.model))
    result = reconstruct_recording(args.file, config=args.config, models=kinds)
    out = write_outputs(result, args.out)
    print(result.summary())
    print(f"written to {out}/: {', '.join(f'{k}.wav' for k in result.audio)}, spectrograms.png, summary.txt, summary.json")


def _cmd_generate_ldm(args, command: str) -> None:
    from .ldm_evaluation import run_evaluate_ldm, run_generate_ldm

    if args.sampler:
        raise AudiogenError("--sampler chooses a density over a VAE's codes; the ldm samples by --steps and --guidance")
    if args.evaluate:
        if args.out or args.digit is not None:
            raise AudiogenError("--evaluate measures the ldm on the test split and writes one JSON file: "
                                "drop --out and --digit")
        result = run_evaluate_ldm(args.evaluate, n=300 if args.n is None else args.n, seed=args.seed,
                                  config=args.config, profile=args.profile, command=command)
        print(f"chosen on validation: guidance {result['validation']['guidance']:g}, "
              f"{result['validation']['steps']} steps; written to {args.evaluate}")
        return
    if not args.out:
        raise AudiogenError("say where the sounds go: --out DIR (or --evaluate FILE.json to measure the model)")
    out, index = run_generate_ldm(args.out, digit=args.digit, n=10 if args.n is None else args.n, steps=args.steps,
                                  guidance=args.guidance, seed=args.seed, config=args.config, command=command)
    heard = [s.get("digit_heard") for s in index["sounds"]]
    print(f"{index['n']} sounds from the latent diffusion model ({index['sampler']}, seed {index['seed']}) in {out}/; "
          f"the classifier hears {heard}")


def _cmd_generate(args) -> None:
    from .generation import run_evaluate, run_generate

    # The command as it would be typed again, every setting spelled out (defaults included).
    opts = [("--model", args.model), ("--digit", args.digit), ("--n", args.n), ("--sampler", args.sampler),
            ("--seed", args.seed), ("--config", args.config), ("--profile", args.profile), ("--out", args.out),
            ("--evaluate", args.evaluate), ("--steps", args.steps), ("--guidance", args.guidance)]
    command = _command_line("generate", opts)
    if args.model is None and args.digit is None and not args.evaluate:
        from .generation import default_model

        if default_model(None, args.config) == "ldm":   # the one validation prefers (choose-generator)
            args.model = "ldm"
    if args.model == "ldm":
        return _cmd_generate_ldm(args, command)
    if args.steps is not None or args.guidance is not None:
        raise AudiogenError("--steps and --guidance belong to the latent diffusion model: add --model ldm")
    if args.evaluate:
        if args.out or args.digit is not None or args.sampler:
            raise AudiogenError("--evaluate measures every sampler on the test split and writes one JSON file: "
                                "drop --out, --digit and --sampler")
        result = run_evaluate(args.evaluate, model=args.model or "vae", n=300 if args.n is None else args.n, seed=args.seed,
                              config=args.config, profile=args.profile, command=command)
        print(f"chosen on validation: GMM {result['validation']['gmm']['chosen']}, best sampler "
              f"{result['validation']['best']}; written to {args.evaluate}")
        return
    if not args.out:
        raise AudiogenError("say where the sounds go: --out DIR (or --evaluate FILE.json to measure the samplers)")
    out, index = run_generate(args.out, model=args.model, digit=args.digit, n=10 if args.n is None else args.n, sampler=args.sampler,
                              seed=args.seed, config=args.config, profile=args.profile, command=command)
    heard = [s.get("digit_heard") for s in index["sounds"]]
    print(f"{index['n']} sounds from {index['model']} ({index['sampler']} sampler, seed {index['seed']}) in {out}/; "
          f"the classifier hears {heard}")
    print(f"selection: {index['selection']}")
    if index.get("note"):
        print(f"note: {index['note']}")


def _cmd_choose_generator(args) -> None:
    from .generator_choice import run_choose_generator

    command = _command_line("choose-generator", [("--config", args.config), ("--profile", args.profile),
                                                 ("--n", args.n), ("--seed", args.seed), ("--out", args.out),
                                                 ("--ship", args.ship)])
    result = run_choose_generator(args.out, ship=args.ship, config=args.config, n=args.n, seed=args.seed,
                                  profile=args.profile, command=command)
    kids = ", ".join(f"{k} " + "/".join(f"{result['kid_to_real_validation'][k][j]['estimate']:.2f}"
                                        for j in sorted(result['kid_to_real_validation'][k]))
                     for k in result["order"])
    print(f"chosen: {result['model']} (KID to real validation audio, by judge: {kids}); written to {args.out}")


def _cmd_sweep(args) -> None:
    from .sweep import DEFAULT_BETAS, run_sweep

    command = _command_line("sweep", [("--config", args.config), ("--out", args.out), ("--seed", args.seed),
                                      ("--beta", [f"{b:g}" for b in args.beta or ()]),
                                      ("--profile", args.profile), ("--epochs", args.epochs)])
    result = run_sweep(args.out, betas=args.beta or DEFAULT_BETAS, config=args.config, profile=args.profile,
                       epochs=args.epochs, seed=args.seed, command=command)
    print(f"chosen on validation ({result['choice']['rule']}): beta {result['choice']['beta']:g}; written to {args.out}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audiogen", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("data", help="locate or download FSDD, verify it, cache the features")
    p.add_argument("--path", default=None, help="FSDD folder (default: $AUDIOGEN_FSDD, then the download folder)")
    p.add_argument("--configs", nargs="*", help="feature configs to cache (default: all)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train a model on the training split, selected on the validation split")
    p.add_argument("kind", choices=["vae", "unet", "classifier", "vae_gen", "cvae", "latent_ae", "ldm"],
                   help="vae: the study's; vae_gen, cvae: VAEs trained to generate (cvae: conditioned on the digit); "
                        "latent_ae, ldm: the two halves of the latent diffusion model (ldm needs a latent_ae)")
    p.add_argument("--config", default="paper", help="feature config: paper or native8k (default: paper)")
    p.add_argument("--preset", default="fast", choices=["fast", "paper"], help="architecture (default: fast)")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--epochs", type=int, default=None, help="override the profile's epoch count")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this time")
    p.add_argument("--no-skip", dest="skip_connections", action="store_false",
                   help="U-Net without skip connections (the ablation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--beta", type=float, default=None, help="vae_gen/cvae: weight of the KL term (default: 1.0)")
    p.add_argument("--free-bits", type=float, default=None, help="vae_gen/cvae: free bits per latent dimension (default: 0)")
    p.add_argument("--warmup-epochs", type=int, default=None, help="vae_gen/cvae: epochs of KL warm-up (default: 10)")
    p.add_argument("--latent", default="f4c4", choices=["f4c4", "f8c4"],
                   help="latent_ae: the latent's shape, 64x16x4 (f4c4) or 32x8x4 (f8c4) for the paper config")
    p.add_argument("--autoencoder", default=None,
                   help="ldm: the latent autoencoder's .keras file (default: the shipped latent_ae)")
    p.add_argument("--init", default=None, help="ldm: continue from this denoiser's .keras file")
    p.add_argument("--learning-rate", type=float, default=None, help="ldm: Adam's learning rate (default: 5e-4)")
    p.add_argument("--batch-size", type=int, default=None, help="ldm: latents per step (default: 64)")
    p.add_argument("--out", default=None, help="run folder (default: runs/<kind>_<config>_<preset>)")
    p.add_argument("--ship", action="store_true", help="copy the model and its card into the package's pretrained/")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("reproduce", help="run every experiment of the study and write results/")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--config", default="paper", help="feature config (default: paper, the study's)")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.add_argument("--seeds", type=int, default=None,
                   help="train the three generative models with seeds 0..N-1 under the profile and report the "
                        "spread of each claim over the seeds (default: one set of models)")
    p.add_argument("--retrain", action="store_true",
                   help="train again even where the same code, data, profile and seed trained a model before")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("bench", help="speed of the paper and fast presets, and RMSE after equal training time")
    p.add_argument("--seconds", type=float, default=300.0, help="training budget per model and preset")
    p.add_argument("--config", default="paper")
    p.add_argument("--out", default="results/bench.json")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("phase", help="phase reconstruction: choose PGHI's settings on validation, score them on test")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--split", default="validation", choices=["validation", "test"],
                   help="validation: the sweep that chooses the settings; test: the final table (default: validation)")
    p.add_argument("--n", type=int, default=None, help="clips, balanced over digits (default: the whole split)")
    p.add_argument("--repeats", type=int, default=3, help="timing runs, the fastest counts (default: 3)")
    p.add_argument("--source", default="true", choices=["true", "vae", "unet", "unet_noskip"],
                   help="validation only: sweep on the true magnitudes (default) or on a shipped model's reconstructions")
    p.add_argument("--out", default=None,
                   help="JSON file (default: results/phase_<config>_<split>.json, or ..._validation_<source>.json)")
    p.set_defaults(func=_cmd_phase)
    p = sub.add_parser("reconstruct", help="your own recording through every model, beside its reconstructions")
    p.add_argument("file", help="a recording of one spoken digit (wav, flac, ogg; any rate, mono or stereo)")
    p.add_argument("--model", action="append", choices=["unet", "unet_noskip", "vae", "all"],
                   help="a model to use; repeat for several (default: all)")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--out", required=True, help="output folder (must not exist, or be empty)")
    p.set_defaults(func=_cmd_reconstruct)

    p = sub.add_parser("generate", help="new spoken digits from a VAE's latent space: wavs and what the classifier hears")
    p.add_argument("--model", default=None,
                   help="vae (the study's), vae_gen or cvae (trained to generate; cvae makes the digit asked for, "
                        "and without --digit draws each sound's digit uniformly), ldm (latent diffusion: a VAE that "
                        "compresses, a U-Net that denoises). Default: cvae for --digit; without "
                        "one, the generator validation prefers (pretrained/generator_choice_<config>.json), else the "
                        "first shipped of cvae, vae_gen, vae")
    p.add_argument("--digit", type=int, default=None,
                   help="0-9. With cvae, the digit it is told to make; with vae or vae_gen, by rejection: sounds are "
                        "drawn and those the classifier hears as the digit kept (index.json says how many were drawn)")
    p.add_argument("--n", type=int, default=None, help="how many sounds (default: 10; 300 with --evaluate)")
    p.add_argument("--sampler", default=None,
                   help="prior (N(0, I)), gaussian or gmm, fitted to the training codes (default: the one whose "
                        "density gives the validation codes the highest log-likelihood)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same sounds (default: 0)")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--profile", default=None,
                   help="smoke fits the density to 64 training clips (default: $AUDIOGEN_PROFILE, else book: all)")
    p.add_argument("--out", default=None, help="output folder for the wavs and index.json (must not exist, or be empty)")
    p.add_argument("--steps", type=int, default=None,
                   help="ldm: sampler steps (default: the number chosen on validation, in the model's card)")
    p.add_argument("--guidance", type=float, default=None,
                   help="ldm: classifier-free guidance strength with --digit (default: chosen on validation)")
    p.add_argument("--evaluate", default=None, metavar="FILE.json",
                   help="instead: choose the GMM on validation, then measure prior, gaussian and gmm on the test split "
                        "(inception score, histogram, Fréchet distance, with intervals) and write FILE.json")
    p.set_defaults(func=_cmd_generate)

    p = sub.add_parser("sweep", help="the rate-distortion trade-off: one generative VAE per KL weight, on validation")
    p.add_argument("--beta", type=float, action="append",
                   help="a KL weight to train; repeat for several (default: 0.5 2 8 32 128 512)")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--epochs", type=int, default=None, help="epochs per model (default: a fifth of the profile's VAE epochs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="the JSON file to write (e.g. results/sweep_paper.json)")
    p.set_defaults(func=_cmd_sweep)

    p = sub.add_parser("choose-generator",
                       help="the generator `audiogen generate` uses without --model and --digit: the one whose sounds "
                            "are closest to the real validation audio by both judges")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--n", type=int, default=300, help="sounds per generator (default: 300)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="the JSON file to write (e.g. results/generator_choice_paper.json)")
    p.add_argument("--ship", action="store_true",
                   help="also record the choice in the package (pretrained/generator_choice_<config>.json)")
    p.set_defaults(func=_cmd_choose_generator)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except AudiogenError as err:
        print(f"audiogen: error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
