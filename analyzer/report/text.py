"""Making hostile text safe to show.

Query text comes from logs and may hold anything: invalid UTF-8 (kept by the reader as
surrogate escapes), terminal escape sequences, markup of the output format.  Renderers pass
every string from a log through these helpers.
"""

from __future__ import annotations

import re
from typing import Any

# C0 controls except TAB and LF, DEL, C1 controls, and the surrogates that stand for bytes
# that were not valid UTF-8.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def valid_unicode(text: str) -> str:
    """Replace bytes that were not valid UTF-8 by U+FFFD so the text can be encoded."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text


def visible(text: str) -> str:
    """Valid Unicode with control characters shown as ``\\xNN`` instead of acting on a terminal."""
    text = valid_unicode(text)
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def clean_json(value: Any) -> Any:
    """A copy of a JSON-able structure whose strings are all valid Unicode."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        return {valid_unicode(k) if isinstance(k, str) else k: clean_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean_json(v) for v in value]
    return value
