"""Text from repositories made safe to print on a terminal.

Its own module, apart from `pipelines.explain`, so `scorecard gate` can use
it without importing the warehouse readers (and pandas) that explain needs.
"""

from __future__ import annotations

import re
import unicodedata

# ANSI/OSC escape sequences first (so their parameters go too), then every
# other control character and the bidirectional overrides that reorder what a
# terminal shows ("Trojan Source").
_ESCAPES = re.compile(r"\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b\[[0-?]*[ -/]*[@-~]|\x1b[@-_]?|\x9b[0-?]*[ -/]*[@-~]")
_BIDI = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"))


def terminal_safe(text: object, one_line: bool = False) -> str:
    """Text from repositories, clusters or events made safe to print: no escapes, no control characters.

    An owner or service named with an OSC 8 hyperlink, a cursor move or a
    title change would otherwise act on the reader's terminal.
    """
    if text is None:
        return ""
    out = _ESCAPES.sub("", str(text)).translate(_BIDI)
    keep = "" if one_line else "\n\t"
    return "".join(
        ch if ch in keep or unicodedata.category(ch) not in ("Cc", "Cf") or ch == "\u200d" else ("" if ch != "\n" else " ")
        for ch in out
    )
