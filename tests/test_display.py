"""Plots, players and widgets: fast checks on synthetic signals, Agg backend, no kernel."""

import base64
import datetime
import io
import re
import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402

from audiogen_lib import AudiogenError, display  # noqa: E402
from audiogen_lib.config import get_config  # noqa: E402
from audiogen_lib.features import waveform_to_features  # noqa: E402

from conftest import chirp, sine  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _wav(player):
    """Samples and rate of the WAV an ``IPython.display.Audio`` carries."""
    y, sr = sf.read(io.BytesIO(player.data), dtype="float64")
    return y, sr


def test_specshow_model_image_has_labelled_axes_and_extent(config):
    x, _, _ = waveform_to_features(sine(config, 440.0), config=config)
    ax = display.specshow(x, config=config, title="a sine")
    assert ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "frequency (Hz)" and ax.get_title() == "a sine"
    dt, df = config.hop_length / config.sr, config.bin_hz
    left, right, bottom, top = ax.images[0].get_extent()
    assert left == pytest.approx(-dt / 2) and right == pytest.approx((config.n_frames - 0.5) * dt)
    assert bottom == pytest.approx(-df / 2) and top == pytest.approx((config.n_bins - 0.5) * df)
    assert ax.images[0].get_clim() == (0.0, 1.0)
    colorbar = ax.figure.axes[-1]
    assert colorbar is not ax and colorbar.get_ylabel() == "level (0-1)"
    # the sine's row is where its frequency is
    row = np.argmax(ax.images[0].get_array().mean(axis=1))
    assert abs(row * config.bin_hz - 440.0) <= config.bin_hz


def test_specshow_db_range_puts_a_normalised_image_in_db(config):
    x, lo, hi = waveform_to_features(sine(config, 440.0), config=config)
    ax = display.specshow(x[..., 0], config=config, db_range=(lo, hi), fmax=4000)
    assert ax.images[0].get_clim() == pytest.approx((lo, hi))
    assert ax.images[0].get_array().max() == pytest.approx(hi, abs=1e-3)
    assert ax.get_ylim() == (0.0, 4000.0) and ax.figure.axes[-1].get_ylabel() == "dB"


def test_specshow_db_spectrogram_with_explicit_settings():
    S_db = np.linspace(-120.0, 0.0, 33 * 20).reshape(33, 20)
    _, ax = plt.subplots()
    out = display.specshow(S_db, sr=8000, n_fft=64, hop_length=16, ax=ax, colorbar=False)
    assert out is ax and len(ax.figure.axes) == 1
    assert ax.images[0].get_clim() == (-80.0, 0.0)  # 80 dB below the maximum
    assert ax.images[0].get_extent()[3] == pytest.approx(32.5 * 8000 / 64)


def test_specshow_refuses_a_batch_and_missing_settings(config):
    with pytest.raises(AudiogenError, match="one spectrogram"):
        display.specshow(np.zeros((2, *config.shape)), config=config)
    with pytest.raises(AudiogenError, match="config="):
        display.specshow(np.zeros((10, 10)))


def test_waveshow_axes_span_the_duration():
    y = np.sin(np.linspace(0, 100, 4000))
    ax = display.waveshow(y, sr=8000, title="w", color="k", marker=".")
    assert ax.get_xlim() == (0.0, 0.5) and ax.get_xlabel() == "time (s)" and ax.get_ylabel() == "amplitude"
    ax.figure.canvas.draw()                        # librosa's: every sample when zoomed in, as a step
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), y)
    assert line.get_marker() == "." and line.get_drawstyle() == "steps-post"


def test_audio_carries_rate_and_data(rng):
    y = 0.25 * rng.standard_normal(800).clip(-3, 3) / 3
    a = display.audio(y, sr=8000, normalize=False)
    samples, sr = _wav(a)
    assert sr == 8000 and samples.size == 800
    np.testing.assert_allclose(samples, y, atol=1e-4)      # the level is kept (16-bit)
    normalised, _ = _wav(display.audio(y, sr=8000))
    assert np.max(np.abs(normalised)) == pytest.approx(1.0, abs=1e-4)


def test_audio_clips_loud_input_with_a_warning_and_plays_silence():
    with pytest.warns(UserWarning, match="clipped"):
        a = display.audio(np.array([0.0, 2.0, -3.0, 0.5]), sr=100, normalize=False)
    np.testing.assert_allclose(_wav(a)[0], [0.0, 1.0, -1.0, 0.5], atol=1e-4)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert np.all(_wav(display.audio(np.zeros(100), sr=100))[0] == 0)
    with pytest.raises(AudiogenError, match="NaN"):
        display.audio(np.array([0.0, np.nan]), sr=100)


def test_listen_grid_shows_each_row_with_its_player():
    config = get_config("native8k")
    rows = {"quiet <sine>": sine(config, 440.0, amp=0.1), "chirp": chirp(config, 200.0, 3000.0, amp=0.5)}
    rows["as an image"] = (rows["chirp"], waveform_to_features(rows["chirp"], config=config)[0])
    out = display.listen_grid(rows, config=config, sr=config.sr, caption="Three sounds.")
    page = out.data
    assert page.count('class="audiogen-sound"') == 3 and page.count("<audio") == 3 and page.count("data:image/png;base64,") == 3
    assert "quiet &lt;sine&gt;" in page and "Three sounds." in page and "scaled" not in page
    # the players keep the rows' levels: the quiet sine stays quiet
    wavs = re.findall(r'data:audio/wav;base64,([^"]+)"', page)
    peaks = [np.max(np.abs(sf.read(io.BytesIO(base64.b64decode(w)))[0])) for w in wavs]
    assert peaks[0] == pytest.approx(0.1, abs=2e-3) and peaks[1] == pytest.approx(0.5, abs=2e-3)
    assert not plt.get_fignums()  # figures were rendered to PNG and closed


def test_listen_grid_scales_all_rows_together_to_avoid_clipping():
    y = np.sin(np.linspace(0, 300, 4000))
    page = display.listen_grid({"loud": 2 * y, "soft": 0.5 * y}, sr=8000, n_fft=256, hop_length=64).data
    peaks = [np.max(np.abs(sf.read(io.BytesIO(base64.b64decode(w)))[0]))
             for w in re.findall(r'data:audio/wav;base64,([^"]+)"', page)]
    assert peaks == pytest.approx([1.0, 0.25], abs=2e-3) and "scaled by 0.500" in page


def test_plot_history_pairs_validation_curves():
    history = {"loss": [3.0, 2.0, 1.5], "val_loss": [3.5, 2.5, 2.0], "kl": [1.0, 2.0, 3.0]}
    ax = display.plot_history(history, logy=True)
    labels = [line.get_label() for line in ax.lines]
    assert labels == ["loss", "val_loss", "kl"]
    assert ax.lines[0].get_color() == ax.lines[1].get_color() and ax.lines[1].get_linestyle() == "--"
    assert ax.get_xlabel() == "epoch" and ax.get_yscale() == "log"
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2, 3])

    class History:  # what keras' fit returns
        pass

    h = History()
    h.history = history
    assert [ln.get_label() for ln in display.plot_history(h, keys=["kl"]).lines] == ["kl"]
    with pytest.raises(AudiogenError, match="no \\['rmse'\\]"):
        display.plot_history(history, keys=["rmse"])


def test_stft_explorer_shows_defaults_then_redraws(monkeypatch):
    import IPython.display
    import ipywidgets as widgets

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    y = chirp(get_config("native8k"), 300.0, 3000.0)
    box = display.stft_explorer(y, sr=8000)
    # the static view of the defaults came first: a figure beside a player
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    assert "<audio" in shown[0].data and "n_fft 512 (64 ms, 15.6 Hz per bin), hop 128" in shown[0].data
    assert not plt.get_fignums()
    # the widget: three controls, a note, an output that fills when a setting changes
    assert isinstance(box, widgets.VBox)
    controls, _, out = box.children
    assert [c.description for c in controls.children] == ["n_fft", "hop_length", "window"]
    assert out.outputs == ()
    controls.children[0].value = 128
    controls.children[2].value = "boxcar"
    page = out.outputs[0]["data"]["text/html"]
    assert len(out.outputs) == 1 and "<audio" in page and "n_fft 128" in page and "rectangular window" in page
    with pytest.raises(AudiogenError, match="n_fft in"):
        display.stft_explorer(y, sr=8000, n_fft=500)
    assert "gap" not in page


def test_a_hop_longer_than_the_window_is_explained_not_hidden(monkeypatch):
    import IPython.display

    assert display.hop_gap(sr=8000, n_fft=256, hop_length=256) == ""        # frames touch: no gap
    note = display.hop_gap(sr=8000, n_fft=64, hop_length=256)
    assert "192 samples (24.0 ms)" in note and "no window" in note
    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    y = chirp(get_config("native8k"), 300.0, 3000.0)
    box = display.stft_explorer(y, sr=8000, n_fft=64, hop_length=256)       # allowed, and said
    assert note in shown[0].data
    controls, _, out = box.children
    controls.children[1].value = 1024                                         # hop 1024 with n_fft 64
    assert "960 samples (120.0 ms)" in out.outputs[0]["data"]["text/html"]
    controls.children[1].value = 32
    assert "no window" not in out.outputs[0]["data"]["text/html"]


class _StubVAE:
    """Just what decoding needs: a decoder whose image is a band that rises with the code's first value."""

    def __init__(self, config):
        outer = self

        class Decoder:
            def predict(self, z, batch_size=None, verbose=0):
                z = np.asarray(z)
                outer.calls.append(z.copy())
                x = np.full((len(z), *config.shape), 0.1, np.float32)
                for i, row in enumerate(np.clip(40 + 5 * z[:, 0], 0, config.n_bins - 4).astype(int)):
                    x[i, row : row + 3] = 1.0
                return x

        self.calls, self.decoder, self.latent_dim = [], Decoder(), 6
        self.card = {"normalisation": {"generation_db_range": [-62.0, 18.0]}}   # top_db (80 dB) wide


def test_latent_explorer_shows_the_mean_latent_then_moves_along_principal_directions(monkeypatch, rng):
    import IPython.display
    import ipywidgets as widgets

    shown, ranges = [], []
    monkeypatch.setattr(IPython.display, "display", lambda *objs, **kw: shown.extend(objs))
    specshow = display.specshow
    # patched where the explorer looks it up, not on the package
    monkeypatch.setattr(display.explorers, "specshow",
                        lambda *a, **kw: ranges.append(kw.get("db_range")) or specshow(*a, **kw))
    config = get_config("paper")
    latents = rng.standard_normal((200, 6)) * [5.0, 3.0, 2.0, 1.0, 0.5, 0.1] + 1.0
    vae = _StubVAE(config)
    box = display.latent_explorer(vae, latents, config=config, n_components=3, n_iter=2)
    # the image is shown (and heard) in the range generated images are read in: the card's, not global_db_range
    assert ranges == [(-62.0, 18.0)] and ranges[0] != config.global_db_range
    # the static view came first: the mean latent decoded, a figure beside a player
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    assert "<audio" in shown[0].data and "the mean latent" in shown[0].data
    assert len(vae.calls) == 1 and np.allclose(vae.calls[0][0], latents.mean(axis=0), atol=1e-6)
    assert not plt.get_fignums()
    # the widget: one slider per direction, at 0, and an output that fills when one moves
    sliders, _, out = box.children
    assert isinstance(box, widgets.VBox) and len(sliders.children) == 3 and out.outputs == ()
    assert all(s.value == 0 for s in sliders.children) and "PC1" in sliders.children[0].description
    sliders.children[0].value = 2.0
    page = out.outputs[0]["data"]["text/html"]
    assert len(vae.calls) == 2 and "<audio" in page and "PC1 +2.00 sd" in page
    # two standard deviations along the first principal direction, nothing along the others
    centred = latents - latents.mean(axis=0)
    _, s, Vt = np.linalg.svd(centred, full_matrices=False)
    step = vae.calls[1][0] - latents.mean(axis=0)
    assert np.allclose(np.abs(step), np.abs(2.0 * s[0] / np.sqrt(len(latents) - 1) * Vt[0]), atol=1e-5)
    assert abs(step[0]) == pytest.approx(2.0 * latents[:, 0].std(ddof=1), rel=0.05)  # mostly the widest axis
    with pytest.raises(AudiogenError, match="n_components"):
        display.latent_explorer(vae, latents, config=config, n_components=7)
    with pytest.raises(AudiogenError, match="latent_dim"):
        display.latent_explorer(vae, latents[0], config=config)


# --- diagrams drawn from the models' own layers ---------------------------------------------------


def _boxes(diagram):
    """The box patches a diagram drew (FancyBboxPatch), one per node."""
    from matplotlib.patches import FancyBboxPatch

    return [p for p in diagram.figure.axes[0].patches if isinstance(p, FancyBboxPatch)]


def _all_layers(model):
    if hasattr(model, "encoder"):
        return [layer.name for layer in model.encoder.layers] + [model.sampling.name] + \
               [layer.name for layer in model.decoder.layers]
    return [layer.name for layer in model.layers]


def test_plot_model_draws_every_vae_layer_once_in_graph_order():
    from audiogen_lib import models

    vae = models.build_vae(preset="fast")
    d = display.plot_model(vae, title="VAE")
    drawn = [name for n in d.nodes for name in n.layers]
    assert sorted(drawn) == sorted(_all_layers(vae)) and len(drawn) == len(set(drawn))
    assert len(_boxes(d)) == len(d.nodes)
    texts = " ".join(t.get_text() for t in d.figure.axes[0].texts)
    assert all(n.label in texts for n in d.nodes)
    keys = {n.key: n for n in d.nodes}
    # the encoder's two heads feed the sampling box, which feeds the decoder
    assert {("mu", "sampling"), ("log_var", "sampling"), ("sampling", "dec_dense")} <= {(a, b) for a, b, _ in d.edges}
    assert keys["sampling"].layers == ("sampling", "z") and keys["mu"].rank == keys["log_var"].rank
    assert keys["mu"].shape == (vae.latent_dim,) and keys["enc_conv0"].shape == (128, 32, 16)
    assert not [e for e in d.edges if e[2] == "skip"]
    # without collapsing, one box per layer
    assert len(display.model_graph(vae, collapse=False)[0]) == len(_all_layers(vae))
    # readable in the book: labels of 11 px or more, in a figure no wider than the page's column
    # (688 px at 1280 px; a wider one is shrunk, and its labels with it)
    paper = display.plot_model(models.build_vae(preset="paper"), title="VAE")
    assert min(t.get_fontsize() for t in paper.figure.axes[0].texts) * display.DPI / 72 >= 11
    assert paper.figure.get_size_inches()[0] * display.DPI <= 688


@pytest.mark.parametrize("skips", [True, False])
def test_plot_model_draws_the_unet_skip_connections_exactly_where_the_model_has_them(skips):
    import keras

    from audiogen_lib import models

    unet = models.build_unet(preset="fast", skip_connections=skips)
    d = display.plot_model(unet)
    drawn = [name for n in d.nodes for name in n.layers]
    assert sorted(drawn) == sorted(_all_layers(unet)) and len(drawn) == len(set(drawn))
    box_of = {name: n.key for n in d.nodes for name in n.layers}
    concats = [layer for layer in unet.layers if isinstance(layer, keras.layers.Concatenate)]
    skip_edges = {(a, b) for a, b, kind in d.edges if kind == "skip"}
    expected = {(box_of[t._keras_history.operation.name], box_of[layer.name])
                for layer in concats for t in layer.input[1:]}        # the encoder's maps joined in
    assert skip_edges == expected
    assert len(concats) == (2 if skips else 0) and len(skip_edges) == len(concats)
    # a skip edge joins two boxes at the same depth, and the figure draws one orange route for each
    depth = {n.key: n.depth for n in d.nodes}
    assert all(depth[a] == depth[b] for a, b in skip_edges)
    assert len(d.figure.axes[0].lines) == len(skip_edges)


def test_plot_model_draws_a_decoder_that_reads_only_vectors():
    """A conditional decoder takes a code and a one-hot digit: its depths count halvings from its
    largest image, the one it paints."""
    from audiogen_lib import models

    vae = models.build_generative_vae(preset="fast", n_classes=10)
    d = display.plot_model(vae.decoder)
    drawn = [name for n in d.nodes for name in n.layers]
    assert sorted(drawn) == sorted(_all_layers(vae.decoder))
    out = next(n for n in d.nodes if vae.decoder.layers[-1].name in n.layers)
    assert out.depth == 0 and max(n.depth for n in d.nodes) > 0


def test_plot_model_refuses_what_has_no_graph():
    with pytest.raises(AudiogenError, match="functional"):
        display.plot_model(object())


def test_pipeline_is_the_library_pipeline_step_by_step(config):
    from audiogen_lib import features, reconstruction

    steps = display.pipeline(config, n_iter=1)
    names = [fn.__name__ if fn is not None else None for fn, _, _ in steps]
    assert names == ["load_audio", "fix_length", "stft_magnitude", "amplitude_to_db", "normalise", None,
                     "denormalise", "db_to_amplitude", "restore_nyquist", "magnitude_to_audio"]
    out = {name: value for name, (_, _, value) in zip(names, steps)}
    y = out["fix_length"]
    x, lo, hi = features.waveform_to_features(y, config=config)
    np.testing.assert_allclose(out["normalise"], x[..., 0], atol=1e-6)
    np.testing.assert_allclose(out["restore_nyquist"], features.features_to_magnitude(x, config=config, db_min=lo,
                                                                                      db_max=hi), rtol=1e-5)
    np.testing.assert_allclose(out["magnitude_to_audio"], reconstruction.features_to_audio(x, config=config, db_min=lo,
                                                                                         db_max=hi, n_iter=1), atol=1e-5)
    d = display.plot_pipeline(config)
    assert [n[0] for n in d.nodes][:3] == ["features.load_audio", "features.fix_length", "features.stft_magnitude"]
    assert d.nodes[-1][0] == "reconstruction.magnitude_to_audio" and d.nodes[-1][2] == (config.n_samples,)
    assert reconstruction.DEFAULT_METHOD in d.nodes[-1][1]
    assert len(_boxes(d)) == len(d.nodes) == len(d.edges) + 1


def test_librosa_specshow_still_cannot_draw_the_studys_images():
    """Why display.specshow draws its own: the day librosa draws a 256-row image of n_fft 512, reconsider."""
    import librosa.display

    config = get_config("paper")

    with pytest.raises((TypeError, ValueError)):
        librosa.display.specshow(np.zeros(config.shape[:2]), sr=config.sr, n_fft=config.n_fft,
                                 hop_length=config.hop_length, x_axis="s", y_axis="linear")


# --- your own recording ---------------------------------------------------------------------------------


class _Halver:
    """A model as load_model gives it, trained on the paper config: its output is half its input."""

    name = "halver"

    def __init__(self, config, digit=None):
        self.feature_config, self.normalisation, self.digit = config, "clip", digit

    def predict(self, x, **kwargs):
        if self.digit is None:
            return np.asarray(x) * 0.5
        p = np.full((len(x), 10), 0.01, np.float32)
        p[:, self.digit] = 0.91
        return p


@pytest.fixture
def recording_result(tmp_path):
    from audiogen_lib.recording import reconstruct_recording

    config = get_config("paper")
    t = np.arange(int(0.4 * 16000)) / 16000
    y = 0.3 * sum(np.sin(2 * np.pi * 140 * k * t) / k for k in range(1, 12)) * np.sin(np.pi * t / 0.4) ** 2
    path = tmp_path / "vowel.wav"
    sf.write(path, y.astype(np.float32), 16000)
    loaded = {"unet": _Halver(config), "classifier": _Halver(config, digit=7)}
    return reconstruct_recording(path, config=config, models=("unet",), loaded=loaded), loaded, path


def test_recording_view_shows_what_was_done_and_each_sound_with_its_digit(recording_result):
    result, _, _ = recording_result
    page = display.recording_view(result).data
    assert "vowel.wav" in page and "resampled from 16,000 Hz" in page and "zero-padded" in page
    assert page.count("<audio") == 3 and page.count("heard as 7") >= 3          # input, ceiling, U-Net
    assert not plt.get_fignums()


def test_recording_widget_is_the_static_example_where_nobody_can_upload(recording_result):
    import IPython.display

    result, loaded, _ = recording_result
    assert not display._live_kernel()                    # pytest: no kernel, like nbval's and the book's
    static = display.recording_widget(result, loaded=loaded)
    assert isinstance(static, IPython.display.HTML) and static.data == display.recording_view(result).data
    assert "JupyterLab" in display.recording_widget(live=False).data


def test_recording_widget_takes_an_upload_in_a_live_kernel(recording_result):
    import ipywidgets as widgets

    result, loaded, path = recording_result
    box = display.recording_widget(result, loaded=loaded, models=("unet",), live=True)
    upload, _, out = box.children
    assert isinstance(upload, widgets.FileUpload) and "vowel.wav" in out.outputs[0]["data"]["text/html"]
    data = path.read_bytes()
    upload.value = ({"name": "mine.wav", "type": "audio/wav", "size": len(data), "content": memoryview(data),
                     "last_modified": datetime.datetime(2024, 1, 1)},)
    page = out.outputs[0]["data"]["text/html"]
    assert "mine.wav" in page and page.count("<audio") == 3 and "heard as 7" in page
    upload.value = ({"name": "junk.wav", "type": "audio/wav", "size": 4, "content": memoryview(b"junk"),
                     "last_modified": datetime.datetime(2024, 1, 1)},)
    assert "cannot read audio file junk.wav" in out.outputs[0]["data"]["text/plain"]


def test_widgets_are_drawn_only_where_a_kernel_answers_them(monkeypatch):
    """In the built book (no live kernel) an explorer's controls would be dead: its box displays a
    note instead, and the static view it displayed first stays; in a live kernel, the widget."""
    box = display._kernel_only([])
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: shown.extend(objs))
    monkeypatch.setattr(display.widgets, "_live_kernel", lambda: False)
    box._ipython_display_()
    assert "JupyterLab" in shown[-1].data
    monkeypatch.setattr(display.widgets, "_live_kernel", lambda: True)
    box._ipython_display_()
    assert "application/vnd.jupyter.widget-view+json" in shown[-1]


def test_chooser_switches_between_prerendered_panels_without_a_kernel():
    page = display._chooser_html({d: f"<p>sound {d}</p>" for d in range(10)}, legend="digit", selected=7)
    assert page.count('type="radio"') == 10 and page.count(" checked/>") == 1   # digit 7 chosen at first
    assert "<script" not in page and all(f"<p>sound {d}</p>" in page for d in range(10))
    uid = page.split('id="', 1)[1].split('"', 1)[0]
    assert f"#{uid}-7:checked ~ .audiogen-panel-7" in page


def test_short_paths_show_no_folder_of_the_machine():
    cmd = ("audiogen phase --out /work/main/results/phase_paper.json --cache /root/.cache/x "
           "--runs=/work/runs/sweep_paper.json 1/2 ./local/file ~/y")
    assert display.short_paths(cmd) == ("audiogen phase --out results/phase_paper.json --cache x "
                                        "--runs=sweep_paper.json 1/2 ./local/file ~/y")
