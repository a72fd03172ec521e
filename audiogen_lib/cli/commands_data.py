"""The commands that prepare the data and the models and run the study: ``data`` (locate, verify and cache
FSDD), ``train`` (any model, the latent diffusion denoiser included), ``reproduce`` (every experiment),
``bench`` (preset speed) and ``reconstruct`` (your own recording through every model)."""

from __future__ import annotations

from ..errors import AudiogenError
from .common import _command_line


def _cmd_data(args) -> None:
    from ..config import CONFIGS
    from ..data import locate_fsdd
    from ..features import load_all_spectrograms

    path = locate_fsdd(args.path)
    print(f"FSDD v1.0.10 verified in {path}")
    for name in args.configs or CONFIGS:
        load_all_spectrograms(name, data_dir=path)
        print(f"features for config {name!r} cached")


def _cmd_train(args) -> None:
    import shutil
    from pathlib import Path

    from ..pretrained import HERE
    from ..training import train

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

    from ..diffusion import train_denoiser
    from ..pretrained import HERE

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


def _cmd_reproduce(args) -> None:
    from ..report import reproduce, verdict_table

    command = _command_line("reproduce", [("--config", args.config), ("--out", args.out), ("--profile", args.profile),
                                          ("--seeds", args.seeds), ("--retrain", args.retrain)])
    rep = reproduce(args.profile, config=args.config, out_dir=args.out, seeds=args.seeds, reuse=not args.retrain,
                    command=command)
    print(verdict_table(rep.results))
    print(f"results written to {rep.out_dir}/ (results.md, results.json, wav/, figures/) in {rep.seconds:.0f} s")


def _cmd_listen(args) -> None:
    import json
    import time

    from ..config import get_config, get_profile
    from ..experiments import get_models, listen, listening_file
    from ..features import load_features
    from ..files import atomic_write
    from ..generation import provenance
    from ..report import verdict_table

    out = args.out or str(listening_file(args.config))
    profile, config = get_profile(args.profile), get_config(args.config)
    command = _command_line("listen", [("--config", config.name), ("--profile", profile.name), ("--out", args.out)])
    started, start = provenance(command), time.perf_counter()
    train = load_features("train", config=config).subset(profile.n_train)
    test = load_features("test", config=config).subset(profile.n_test)
    models = get_models(config, profile=profile)
    results = listen(train, test, models, n_iter=profile.n_iter)
    results["profile"] = profile.name
    started.update(splits={"models trained on": "train (takes 10-49)", "chosen on": "validation (takes 5-9)",
                           "scored on": f"test (takes 0-4): {len(test)} clips"},
                   seconds=round(time.perf_counter() - start, 1))
    results["provenance"] = started
    with atomic_write(out) as f:
        json.dump(results, f, indent=1)
    print(verdict_table(results))
    print(f"written to {out} in {started['seconds']:.0f} s")


def _cmd_bench(args) -> None:
    from ..bench import run

    run(args.seconds, args.config, args.out)


def _cmd_reconstruct(args) -> None:
    from ..recording import MODEL_KINDS, check_output_folder, reconstruct_recording, write_outputs

    check_output_folder(args.out)  # before any work: nothing is written unless everything succeeds
    kinds = MODEL_KINDS if not args.model or "all" in args.model else tuple(dict.fromkeys(args.model))
    result = reconstruct_recording(args.file, config=args.config, models=kinds)
    out = write_outputs(result, args.out)
    print(result.summary())
    print(f"written to {out}/: {', '.join(f'{k}.wav' for k in result.audio)}, spectrograms.png, summary.txt, summary.json")
