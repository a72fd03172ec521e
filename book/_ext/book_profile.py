"""Keep books built with different ``AUDIOGEN_PROFILE`` settings apart.

jupyter-cache recognises a notebook by its code alone, and Sphinx rereads a page
only when its source changes, so without this a book built with
``AUDIOGEN_PROFILE=paper`` after one built with ``book`` would reuse the ``book``
outputs. This extension

* records the profile as a config value (``audiogen_profile``) that rebuilds the
  Sphinx environment when it changes, so every page is read again, and
* gives each profile its own jupyter-cache, ``<build>/.jupyter_cache/<profile>``,
  so switching back and forth reuses each profile's executed notebooks.

The profile is read as the library reads it (``audiogen_lib.config.get_profile``),
so an unknown name fails the build with the library's message.
"""

from __future__ import annotations

from pathlib import Path


def config_inited(app, config) -> None:
    from audiogen_lib.config import get_profile

    profile = get_profile().name
    config.audiogen_profile = profile
    if not config.nb_execution_cache_path:  # _config.yml's execute.cache left at its default
        config.nb_execution_cache_path = str(Path(app.outdir).parent / ".jupyter_cache" / profile)


def setup(app):
    app.add_config_value("audiogen_profile", "", "env")
    app.connect("config-inited", config_inited)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
