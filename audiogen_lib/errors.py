"""The one exception type of the library.

Public names
------------
AudiogenError   raised for every bad input: it names the file or value and what to do
"""


class AudiogenError(ValueError):
    """Bad input: a missing data folder, a corrupt wav, a wrong shape, a bad setting.

    A subclass of :class:`ValueError`, so ``except ValueError`` catches it too.
    The message always names the offending file or value and says what to do.
    """
