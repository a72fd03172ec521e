"""Plots, audio players and widgets: how the chapters show and play what the library computes.

Figures are small (80 dpi) so that executed notebooks stay light, and every player
can keep a sound's true level (``normalize=False``) where levels are compared.
Nothing here computes anything the other modules do not: spectrograms come from
:mod:`audiogen_lib.features` (or librosa, for settings that are not a config).

Public names
------------
By module; each module's docstring says what each name is.

plots             specshow, waveshow, plot_history; DPI, CMAP, TOP_DB, AMIN
players           audio, listen_grid
widgets           the kernel-only box and the kernel-free chooser every widget stands on
explorers         stft_explorer, hop_gap, latent_explorer, digit_chooser; N_FFTS, HOP_LENGTHS, WINDOWS, WINDOWS_BY_NAME
your_recording    recording_view, recording_widget
diagrams          model_graph, plot_model, Diagram, DiagramNode, DIAGRAM_FONT
pipeline_diagram  pipeline, plot_pipeline
paths             short_paths

Notebook: notebooks/02_fourier_transform.ipynb, notebooks/05_data_pipeline.ipynb, notebooks/07_training_unet.ipynb,
notebooks/09_listening_experiments.ipynb, notebooks/10_generation.ipynb, notebooks/11_generative_vae.ipynb
"""

from .diagrams import DIAGRAM_FONT, Diagram, DiagramNode, model_graph, plot_model
from .explorers import (HOP_LENGTHS, N_FFTS, WINDOWS, WINDOWS_BY_NAME, digit_chooser, hop_gap, latent_explorer,
                        stft_explorer)
from .paths import short_paths
from .pipeline_diagram import pipeline, plot_pipeline
from .players import audio, listen_grid
from .plots import AMIN, CMAP, DPI, TOP_DB, plot_history, specshow, waveshow
from .widgets import _chooser_html, _kernel_only, _live_kernel
from .your_recording import recording_view, recording_widget
