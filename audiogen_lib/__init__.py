"""audiogen_lib: generating spoken digits with a VAE and a U-Net, the study redone and measured.

The package follows the data, one module per stage::

    data -> features -> reconstruction -> models -> training -> metrics -> recording -> display

See the book (``make book``) for the chapters that explain each stage. A chapter starts with
``profile = audiogen_lib.setup()``: TensorFlow imported without its start-up log, the figure
settings, the run profile (:mod:`audiogen_lib.runtime`).
"""

from .config import CONFIGS, PROFILES, FeatureConfig, Profile, get_config, get_profile
from .errors import AudiogenError
from .runtime import setup

__version__ = "0.1.0"

__all__ = ["CONFIGS", "PROFILES", "FeatureConfig", "Profile", "get_config", "get_profile", "AudiogenError", "setup"]
