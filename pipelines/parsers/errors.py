"""The one exception every parser raises for input it cannot use."""

from __future__ import annotations


class ParseError(ValueError):
    """A file could not be parsed; ``reason`` says what to fix.

    Parsers raise nothing else, whatever the input, so a crawler can record the
    failure as a per-file problem and carry on with the rest of the repository.
    """

    def __init__(self, path: str, reason: str) -> None:
        # Both parts go to ValueError so the exception pickles and unpickles
        # intact (Dagster ships exceptions between processes).
        super().__init__(path, reason)
        self.path = path
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"
