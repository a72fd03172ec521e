"""The ``audiogen`` command.

    audiogen data                 locate (or download) and verify FSDD, build the feature caches

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="audiogen", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("data", help="locate or download FSDD, verify it, cache the features")
    p.add_argument("--path", default=None, help="FSDD folder (default: $AUDIOGEN_FSDD, then the download folder)")
    p.add_argument("--configs", nargs="*", help="feature configs to cache (default: all)")
    p.set_defaults(func=_cmd_data)
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
