"""``python -m audiogen_lib.cli``: the ``audiogen`` command."""

import sys

from . import main

sys.exit(main())
