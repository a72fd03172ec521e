"""The commands that make new sounds or choose what makes them: ``generate`` (a VAE's latent space or the
latent diffusion model; wavs, or an evaluation on the test split), ``choose-generator`` (the default
generator, chosen on validation) and ``sweep`` (one generative VAE per KL weight)."""

from __future__ import annotations

from ..errors import AudiogenError
from .common import _command_line


def _cmd_generate_ldm(args, command: str) -> None:
    from ..ldm_evaluation import run_evaluate_ldm, run_generate_ldm

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
    from ..generation import check_evaluate, run_evaluate, run_generate

    # The command as it would be typed again, every setting spelled out (defaults included).
    opts = [("--model", args.model), ("--digit", args.digit), ("--n", args.n), ("--sampler", args.sampler),
            ("--seed", args.seed), ("--config", args.config), ("--profile", args.profile), ("--out", args.out),
            ("--evaluate", args.evaluate), ("--sets", args.sets), ("--steps", args.steps),
            ("--guidance", args.guidance)]
    command = _command_line("generate", opts)
    if args.model is None and args.digit is None and not args.evaluate:
        from ..generation import default_model

        if default_model(None, args.config) == "ldm":   # the one validation prefers (choose-generator)
            args.model = "ldm"
    if args.sets is not None and (not args.evaluate or args.model == "ldm"):
        raise AudiogenError("--sets is the number of sets --evaluate measures per sampler of a VAE: add --evaluate "
                            "FILE.json (the ldm's evaluation has no sets)")
    if args.model == "ldm":
        return _cmd_generate_ldm(args, command)
    if args.steps is not None or args.guidance is not None:
        raise AudiogenError("--steps and --guidance belong to the latent diffusion model: add --model ldm")
    if args.evaluate:
        if args.out or args.digit is not None or args.sampler:
            raise AudiogenError("--evaluate measures every sampler on the test split and writes one JSON file: "
                                "drop --out, --digit and --sampler")
        from ..judges import load_judges

        n, n_sets = 300 if args.n is None else args.n, 5 if args.sets is None else args.sets
        check_evaluate(args.evaluate, model=args.model or "vae", n=n, n_sets=n_sets)   # before loading the judges
        result = run_evaluate(args.evaluate, judges=load_judges(args.config), model=args.model or "vae", n=n,
                              n_sets=n_sets, seed=args.seed, config=args.config, profile=args.profile, command=command)
        print(f"chosen on validation: GMM {result['validation']['gmm']['chosen']}, best sampler "
              f"{result['validation']['best']}; judged by {', '.join(result['judges'])}; written to {args.evaluate}")
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
    from ..generator_choice import run_choose_generator

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
    from ..sweep import DEFAULT_BETAS, run_sweep

    command = _command_line("sweep", [("--config", args.config), ("--out", args.out), ("--seed", args.seed),
                                      ("--beta", [f"{b:g}" for b in args.beta or ()]),
                                      ("--profile", args.profile), ("--epochs", args.epochs)])
    result = run_sweep(args.out, betas=args.beta or DEFAULT_BETAS, config=args.config, profile=args.profile,
                       epochs=args.epochs, seed=args.seed, command=command)
    print(f"chosen on validation ({result['choice']['rule']}): beta {result['choice']['beta']:g}; written to {args.out}")
