"""audiogen_lib: generating spoken digits with a VAE and a U-Net, the study redone and measured.

The package follows the data, one module per stage::

    data -> features -> models -> reconstruction -> metrics -> display

See the book (``make book``) for the chapters that explain each stage.
"""

from .config import CONFIGS, PROFILES, FeatureConfig, Profile, get_config, get_profile
from .errors import AudiogenError

__version__ = "0.1.0"

__all__ = ["CONFIGS", "PROFILES", "FeatureConfig", "Profile", "get_config", "get_profile", "AudiogenError"]
