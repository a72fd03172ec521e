"""The ``audiogen`` command.

    audiogen data                 locate (or download) and verify FSDD, build the feature caches
    audiogen train vae|unet|classifier [--config paper] [--preset fast] [--profile paper] [--ship]
    audiogen reproduce [--profile smoke|book|paper] [--config paper] [--out results] [--seeds N] [--retrain]
    audiogen listen [--config paper] [--profile book] [--out results/listening_<config>.json]
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

from ..errors import AudiogenError
from .commands_data import (_cmd_bench, _cmd_data, _cmd_listen, _cmd_reconstruct, _cmd_reproduce, _cmd_train,
                            _cmd_train_ldm)
from .commands_generate import _cmd_choose_generator, _cmd_generate, _cmd_generate_ldm, _cmd_sweep
from .commands_phase import (_PHASE_MODELS, _PHASE_MOMENTA, _PHASE_RANDOM_STOPS, _PHASE_STOPS,  # noqa: F401
                             _PHASE_TOLS, _cmd_phase, _phase_pesq, _phase_provenance, _phase_row, _phase_test,
                             _phase_timed, _phase_validation)
from .common import _command_line  # noqa: F401  (re-exported: the names cli.py had)


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
    p.add_argument("--latent", default="f4c4", choices=["f4c4", "f8c4", "f4c4p", "f8c8", "f8c16"],
                   help="latent_ae: the latent's shape (paper config: f4 64x16, f8 32x8; c: channels) and network "
                        "(p or c8/c16: patches read by one convolution, residual blocks; see models/latent.py)")
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

    p = sub.add_parser("listen", help="the listening experiment of chapter 9 on the test split, to one JSON file")
    p.add_argument("--config", default="paper", choices=["paper", "native8k"], help="feature config (default: paper)")
    p.add_argument("--profile", default=None, help="smoke, book or paper (default: $AUDIOGEN_PROFILE, else book)")
    p.add_argument("--out", default=None, help="JSON file (default: results/listening_<config>.json)")
    p.set_defaults(func=_cmd_listen)

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
                   help="instead: choose the GMM on validation, then judge prior, gaussian and gmm on the test split "
                        "by both judges, cnn and mfcc (histogram, inception score, KID to the real test audio beside "
                        "real-versus-real floors, with intervals) and write FILE.json")
    p.add_argument("--sets", type=int, default=None,
                   help="with --evaluate: independent sets of --n sounds per sampler (default: 5); each KID's "
                        "interval comes from one set's sounds, the sets give the differences between samplers")
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
