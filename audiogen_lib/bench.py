"""``make bench``: the paper and fast presets of each model, measured in one run on this machine.

For each model (VAE, U-Net) and preset: parameters, multiply-accumulates per sample,
training and inference throughput (samples/s), and the test-split RMSE after the same
wall-clock training budget. Prints a Markdown table and writes ``results/bench.json``.

    python -m audiogen_lib.bench [--seconds 300] [--config paper]

Notebook: notebooks/06_training_vae.ipynb
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path


from .files import atomic_write


def macs_per_sample(model) -> int:
    """Multiply-accumulates of one forward pass, counted over Conv2D, Conv2DTranspose and Dense layers."""
    import keras

    total = 0
    for layer in _leaf_layers(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            h, w, c_in = layer.input.shape[1:]
            kh, kw = layer.kernel_size
            total += h * w * c_in * kh * kw * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            h, w, c_out = layer.output.shape[1:]
            kh, kw = layer.kernel_size
            total += h * w * c_out * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, keras.layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)


def _leaf_layers(model):
    for layer in model.layers:
        if hasattr(layer, "layers") and layer.layers:
            yield from _leaf_layers(layer)
        else:
            yield layer


LEARNING_RATE = {"paper": 5e-4, "fast": 1e-3}  # the study's Adam rate for its architecture; ours for the fast one


def _compiled(kind, preset, shape):
    import keras

    from .models import build_unet, build_vae, rmse

    model = (build_vae if kind == "vae" else build_unet)(shape, preset=preset)
    model.compile(optimizer=keras.optimizers.Adam(LEARNING_RATE[preset]), **({} if kind == "vae" else {"loss": rmse}))
    return model


def _throughput(model, kind, x, *, batch_size, steps, warmup=1) -> tuple[float, float]:
    """(training samples/s, inference samples/s) over ``steps`` batches after ``warmup``."""
    batch = x[:batch_size]
    args = (batch,) if kind == "vae" else (batch, batch)
    for _ in range(warmup):
        model.train_on_batch(*args)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(*args)
    train_rate = steps * batch_size / (time.perf_counter() - start)
    model.predict_on_batch(batch)
    start = time.perf_counter()
    for _ in range(steps):
        model.predict_on_batch(batch)
    return train_rate, steps * batch_size / (time.perf_counter() - start)


def _train_for(model, kind, x, seconds: float, *, batch_size: int = 64) -> float:
    """Train on ``x`` until ``seconds`` have passed (checked after every batch); return the epochs done."""
    import keras

    class Budget(keras.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.start, self.seen = time.perf_counter(), 0

        def on_train_batch_end(self, batch, logs=None):
            self.seen += batch_size
            if time.perf_counter() - self.start > seconds:
                self.model.stop_training = True

    budget = Budget()
    model.fit(*((x,) if kind == "vae" else (x, x)), batch_size=batch_size, epochs=100_000, callbacks=[budget],
              verbose=0, shuffle=True)
    return budget.seen / len(x)


def run(seconds: float = 300.0, config: str = "paper", out: str | Path = "results/bench.json") -> list[dict]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from .features import load_features
    from .training import machine, reconstruction_rmse, set_seed

    set_seed(0, deterministic=False)
    x_train = load_features("train", config=config).x
    x = load_features("validation", config=config).x  # progress is read on validation, never on test
    rows = []
    for kind in ("vae", "unet"):
        for preset in ("paper", "fast"):
            model = _compiled(kind, preset, x.shape[1:])
            train_rate, infer_rate = _throughput(model, kind, x, batch_size=64, steps=2 if preset == "paper" else 10)
            print(f"{kind} {preset}: {train_rate:.1f} training samples/s, {infer_rate:.1f} inference samples/s; "
                  f"training for {seconds:.0f} s ...", flush=True)
            model = _compiled(kind, preset, x.shape[1:])
            epochs = _train_for(model, kind, x_train, seconds)
            rows.append({"model": kind, "preset": preset, "parameters": int(model.count_params()),
                         "mmac_per_sample": round(macs_per_sample(model) / 1e6, 1),
                         "learning_rate": LEARNING_RATE[preset],
                         "train_samples_per_s": round(train_rate, 1), "infer_samples_per_s": round(infer_rate, 1),
                         "budget_s": seconds, "epochs_done": round(epochs, 2),
                         "validation_rmse": round(reconstruction_rmse(model, x), 4)})
    result = {"machine": machine(), "config": config, "rows": rows}
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(Path(out)) as f:
        f.write(json.dumps(result, indent=1))
    print(table(result))
    return rows


def table(result: dict) -> str:
    lines = [f"Machine: {result['machine']}; config {result['config']}", "",
             "| model | preset | parameters | MMAC/sample | train samples/s | inference samples/s | "
             "validation RMSE after budget | epochs in budget |", "|---|---|---|---|---|---|---|---|"]
    for r in result["rows"]:
        lines.append(f"| {r['model']} | {r['preset']} | {r['parameters']:,} | {r['mmac_per_sample']:,} | "
                     f"{r['train_samples_per_s']} | {r['infer_samples_per_s']} | {r['validation_rmse']} "
                     f"({r['budget_s']:.0f} s) | {r['epochs_done']} |")
    by = {(r["model"], r["preset"]): r for r in result["rows"]}
    for kind in ("vae", "unet"):
        p, f = by[(kind, "paper")], by[(kind, "fast")]
        lines.append(f"\n{kind}: fast trains {f['train_samples_per_s'] / p['train_samples_per_s']:.0f}x more samples/s "
                     f"than paper")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="training budget per model and preset")
    parser.add_argument("--config", default="paper")
    parser.add_argument("--out", default="results/bench.json")
    args = parser.parse_args(argv)
    run(args.seconds, args.config, args.out)


if __name__ == "__main__":
    main()
