"""What several commands share: the command line as it would be typed again, written into a result's
provenance so that the result says how to make it once more."""

from __future__ import annotations

def _command_line(command: str, options) -> str:
    """The command as it would be typed again, for a result's provenance: ``audiogen COMMAND`` and each
    ``(flag, value)`` in order; None and False are left out, True is the flag alone, a list repeats the flag."""
    import shlex

    words = ["audiogen", command]
    for flag, value in options:
        values = value if isinstance(value, (list, tuple)) else [value]
        for v in values:
            if v is None or v is False:
                continue
            words += [flag] if v is True else [flag, str(v)]
    return shlex.join(words)
