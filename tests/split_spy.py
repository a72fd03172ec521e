"""A spy on every path by which FSDD data enters the library, and on ``keras.Model.fit``.

Used through the ``spy`` fixture (tests/conftest.py) by tests/test_split_leak.py and by any test
that trains something and must read no test clip before training ends: ``features.load_features``,
``features.load_all_spectrograms``, ``data.list_recordings``, ``features.load_recording`` and
``features.load_audio`` are watched, and the *return* of ``keras.Model.fit`` is recorded. Reads
made inside ``load_features`` count as that call (it indexes the all-clips arrays by split), so
only what it returns is judged.
"""

import os
import time

from audiogen_lib import data, features
from audiogen_lib.config import Profile
from audiogen_lib.data import N_TEST_TAKES, parse_name

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


def watch(monkeypatch) -> Spy:
    """Start watching every loading path and ``keras.Model.fit`` (undone with ``monkeypatch``)."""
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
