"""Plugins for every pytest run from the repository root (tests/ and notebooks/)."""

pytest_plugins = ["tests.nbval_book_cache"]
