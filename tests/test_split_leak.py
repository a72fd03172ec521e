"""No test clip (takes 0-4) is read before training ends: every model kind, the ldm's denoiser and `audiogen sweep`.

One spy watches every path by which FSDD data enters the library -- ``features.load_features``,
``features.load_all_spectrograms``, ``data.list_recordings``, ``features.load_recording`` and
``features.load_audio`` -- and ``keras.Model.fit``, whose *return* it records. A read that hands a
test take to the caller before the last fit has returned fails the test. Reads made inside
``load_features`` count as that call (it indexes the all-clips arrays by split), so only what it
returns is judged. The first test shows the spy catches a leak, so a green run means something.
"""

import os
import time

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from audiogen_lib import data, features  # noqa: E402
from audiogen_lib.config import Profile  # noqa: E402
from audiogen_lib.data import N_TEST_TAKES, parse_name  # noqa: E402

# smaller than the smoke profile: the spy needs a fit, not a model
TINY = Profile("smoke", n_train=16, n_test=8, vae_epochs=1, unet_epochs=1, classifier_epochs=1,
               use_pretrained=True, n_iter=8)


def _test_take(name) -> bool:
    try:
        return parse_name(os.path.basename(str(name)))[2] < N_TEST_TAKES
    except Exception:  # not an FSDD name (an upload, a user's recording): not a test clip
        return False


class Spy:
    """The order of test reads and fit returns, each with the time it happened."""

    def __init__(self):
        self.events: list[tuple] = []
        self.inside_load_features = 0

    def log(self, kind, what=""):
        self.events.append((kind, what, time.perf_counter_ns()))

    def fit_ends(self):
        return [t for kind, _, t in self.events if kind == "fit_end"]

    def test_reads(self):
        return [(what, t) for kind, what, t in self.events if kind == "test_read"]

    def assert_no_test_read_before_training_ends(self):
        ends = self.fit_ends()
        assert ends, "keras.Model.fit never returned: the spy watched no training"
        early = [what for what, t in self.test_reads() if t < ends[-1]]
        assert not early, f"test data read before training ended: {early}"


@pytest.fixture
def spy(monkeypatch):
    import keras

    features.load_all_spectrograms("paper")          # the cache is built (reading every clip) before watching
    s = Spy()
    real = {"load_features": features.load_features, "load_all_spectrograms": features.load_all_spectrograms,
            "load_recording": features.load_recording, "load_audio": features.load_audio,
            "list_recordings": data.list_recordings}
    real_fit = keras.Model.fit

    def load_features(split="train", **kwargs):
        s.inside_load_features += 1
        try:
            fs = real["load_features"](split, **kwargs)
        finally:
            s.inside_load_features -= 1
        if any(r.take < N_TEST_TAKES for r in fs.recordings):
            s.log("test_read", f"load_features({split!r})")
        return fs

    def load_all_spectrograms(*args, **kwargs):
        if not s.inside_load_features:               # every clip, the test takes among them, in the caller's hands
            s.log("test_read", "load_all_spectrograms")
        return real["load_all_spectrograms"](*args, **kwargs)

    def list_recordings(split="all"):
        recs = real["list_recordings"](split)
        if not s.inside_load_features and any(r.take < N_TEST_TAKES for r in recs):
            s.log("test_read", f"list_recordings({split!r})")
        return recs

    def load_recording(source, **kwargs):
        if _test_take(kwargs.get("name") or source):
            s.log("test_read", f"load_recording({source!r})")
        return real["load_recording"](source, **kwargs)

    def load_audio(path, **kwargs):
        if not s.inside_load_features and _test_take(path):
            s.log("test_read", f"load_audio({path!r})")
        return real["load_audio"](path, **kwargs)

    def fit(self, *args, **kwargs):
        try:
            return real_fit(self, *args, **kwargs)
        finally:
            s.log("fit_end")

    spies = {"load_features": load_features, "load_all_spectrograms": load_all_spectrograms,
             "list_recordings": list_recordings, "load_recording": load_recording, "load_audio": load_audio}
    import sys

    # the modules themselves, and any module that imported a loader by name at its top
    for module in [m for name, m in list(sys.modules.items()) if name.startswith("audiogen_lib") and m]:
        for name, fn in spies.items():
            if getattr(module, name, None) is real[name]:
                monkeypatch.setattr(module, name, fn)
    monkeypatch.setattr(keras.Model, "fit", fit)
    return s


def test_the_spy_catches_a_test_read_before_fit_ends(spy):
    """Each loading path, used before a fit returns, is caught; used after, it is not."""
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 2)), np.zeros(4), epochs=1, verbose=0)
    assert [kind for kind, *_ in spy.events] == ["fit_end"]        # the wrapped fit records its return
    wav = data.locate_fsdd() / "0_jackson_3.wav"
    leaks = {"load_features('test')": lambda: features.load_features("test"),
             "load_features('all')": lambda: features.load_features("all"),
             "load_all_spectrograms": lambda: features.load_all_spectrograms("paper"),
             "list_recordings('test')": lambda: data.list_recordings("test"),
             "load_audio": lambda: features.load_audio(wav, sr=8000),
             "load_recording": lambda: features.load_recording(wav)}
    for what, leak in leaks.items():
        spy.events.clear()
        leak()
        spy.log("fit_end")
        with pytest.raises(AssertionError, match="test data read before training ended"):
            spy.assert_no_test_read_before_training_ends()
        assert spy.test_reads()[0][0].startswith(what)
    spy.events.clear()
    spy.log("fit_end")
    features.load_features("test")
    assert [w for w, _ in spy.test_reads()] == ["load_features('test')"]
    spy.assert_no_test_read_before_training_ends()          # after the fit: a final score, allowed
    spy.events.clear()
    features.load_features("validation"), data.list_recordings("train")
    features.load_recording(data.locate_fsdd() / "0_jackson_7.wav")
    assert spy.test_reads() == []                             # validation and training takes are not test reads
    with pytest.raises(AssertionError, match="never returned"):
        spy.assert_no_test_read_before_training_ends()       # no fit watched: nothing was shown


@pytest.mark.parametrize("kind", ["vae", "unet", "classifier", "vae_gen", "cvae", "latent_ae"])
def test_no_test_clip_is_read_before_training_ends(spy, kind, tmp_path):
    from audiogen_lib.training import train

    run = train(kind, config="paper", profile=TINY, epochs=1, verbose=0,
                out_dir=tmp_path if kind == "latent_ae" else None)
    spy.assert_no_test_read_before_training_ends()
    # the card's final test score is read after fit: once, by load_features
    assert [w for w, _ in spy.test_reads()] == ["load_features('test')"], spy.events
    assert run.card["split"]["test"]["clips"] == TINY.n_test
    if kind == "latent_ae":   # the ldm's denoiser trains on this autoencoder's latents, and reads no test clip at all
        from audiogen_lib.diffusion import train_denoiser
        from audiogen_lib.models import load_model

        # the two cards (checked here, where both are trained anyway): the latent's scale travels with the
        # saved model, and the denoiser names the autoencoder whose latents it learned
        assert run.card["latent"]["shape"] == [64, 16, 4] and run.card["latent"]["scale"] > 0
        loaded = load_model(tmp_path / "model.keras")
        assert loaded.scale == pytest.approx(run.card["latent"]["scale"])
        spy.events.clear()
        ldm = train_denoiser(config="paper", profile=TINY, autoencoder=tmp_path / "model.keras", epochs=1,
                             widths=(8, 16), verbose=0)
        spy.assert_no_test_read_before_training_ends()
        assert spy.test_reads() == []
        assert ldm.card["autoencoder"]["weights_sha256"] == loaded.weights_sha256
        assert ldm.card["split"]["train"]["clips"] == TINY.n_train and "test" not in ldm.card["split"]
        assert ldm.card["best_epoch"] == 1 and np.isfinite(ldm.card["final"]["val_loss"])


def test_the_sweep_reads_no_test_clip_but_its_models_final_scores(spy, tmp_path):
    from audiogen_lib import sweep

    result = sweep.run_sweep(tmp_path / "sweep.json", betas=(4.0,), profile=TINY, epochs=1,
                             work_dir=tmp_path / "work", command="audiogen sweep", progress=lambda *_: None)
    spy.assert_no_test_read_before_training_ends()
    # the one test read is the trained vae_gen card's final score, after its fit; the sweep's own scores and
    # choice read validation only
    assert [w for w, _ in spy.test_reads()] == ["load_features('test')"]
    assert result["settings"]["splits"] == {"train": TINY.n_train, "validation": TINY.n_test}
