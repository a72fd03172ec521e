"""The ``audiogen`` command.

    audiogen data                 locate (or download) and verify FSDD, build the feature caches
    audiogen train vae|unet|classifier [--config paper] [--preset fast] [--profile paper] [--ship]
    audiogen reproduce [--profile smoke|book|paper] [--config paper] [--out results]
    audiogen bench [--seconds 300] [--config paper]
    audiogen reconstruct FILE.wav [--model unet|unet_noskip|vae|all] [--config paper|native8k] --out DIR

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

    name = args.kind if args.skip_connections else f"{args.kind}_noskip"
    out = Path(args.out or f"runs/{name}_{args.config}_{args.preset}")
    run = train(args.kind, config=args.config, preset=args.preset, profile=args.profile, epochs=args.epochs,
                skip_connections=args.skip_connections, seed=args.seed, max_seconds=args.max_minutes and args.max_minutes * 60,
                out_dir=out, verbose=2)
    final = {k: round(v, 5) for k, v in run.card["final"].items()}
    print(f"{name} ({args.config}, {args.preset}): {run.card['epochs_run']} epochs, best {run.card['best_epoch']}, "
          f"{run.card['wall_time_s']:.0f} s; {final}; saved to {run.path}")
    if args.ship:
        if args.preset != "fast":
            raise AudiogenError("only the fast preset is shipped (the 10 MB budget); drop --ship or use --preset fast")
        target = HERE / f"{name}_{args.config}.keras"
        shutil.copyfile(run.path, target)
        shutil.copyfile(out / "card.json", target.with_suffix(".json"))
        print(f"shipped as {target}")


def _cmd_reproduce(args) -> None:
    from .experiments import reproduce
    from .report import verdict_table

    rep = reproduce(args.profile, config=args.config, out_dir=args.out)
    print(verdict_table(rep.results))
    print(f"results written to {rep.out_dir}/ (results.md, results.json, wav/, figures/) in {rep.seconds:.0f} s")


def _cmd_bench(args) -> None:
    from .bench import run

    run(args.seconds, args.config, args.out)


def _cmd_reconstruct(args) -> None:
    from .recording import MODEL_KINDS, check_output_folder, reconstruct_recording, write_outputs

    check_output_folder(args.out)  # before any work: nothing is written unless everything succeeds
    kinds = MODEL_KINDS if not args.model or "all" in args.model else tuple(dict.fromkeys(args.model))
    result = reconstruct_recording(args.file, config=args.config, models=kinds)
    out = write_outputs(result, args.out)
    print(result.summary())
    print(f"written to {out}/: {', '.join(f'{k}.wav' for k in result.audio)}, spectrograms.png, summary.txt, summary.json")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audiogen", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("data", help="locate or download FSDD, verify it, cache the features")
    p.add_argument("--path", default=None, help="FSDD folder (default: $AUDIOGEN_FSDD, then the download folder)")
    p.add_argument("--configs", nargs="*", help="feature configs to cache (default: all)")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train a model on the official training split")
    p.add_argument("kind", choices=["vae", "unet", "classifier"])
    p.add_argument("--config", default="paper", help="feature config: paper or native8k (default: paper)")
    p.add_argument("--preset", default="fast", choices=["fast", "paper"], help="architecture (default: fast)")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--epochs", type=int, default=None, help="override the profile's epoch count")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after the epoch that passes this time")
    p.add_argument("--no-skip", dest="skip_connections", action="store_false",
                   help="U-Net without skip connections (the ablation)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="run folder (default: runs/<kind>_<config>_<preset>)")
    p.add_argument("--ship", action="store_true", help="copy the model and its card into the package's pretrained/")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("reproduce", help="run every experiment of the study and write results/")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--config", default="paper", help="feature config (default: paper, the study's)")
    p.add_argument("--out", default="results", help="output folder (default: results)")
    p.set_defaults(func=_cmd_reproduce)

    p = sub.add_parser("bench", help="speed of the paper and fast presets, and RMSE after equal training time")
    p.add_argument("--seconds", type=float, default=300.0, help="training budget per model and preset")
    p.add_argument("--config", default="paper")
    p.add_argument("--out", default="results/bench.json")
    p.set_defaults(func=_cmd_bench)
    p = sub.add_parser("reconstruct", help="your own recording through every model, beside its reconstructions")
    p.add_argument("file", help="a recording of one spoken digit (wav, flac, ogg; any rate, mono or stereo)")
    p.add_argument("--model", action="append", choices=["unet", "unet_noskip", "vae", "all"],
                   help="a model to use; repeat for several (default: all)")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--out", required=True, help="output folder (must not exist, or be empty)")
    p.set_defaults(func=_cmd_reconstruct)
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
