"""Masking secrets and personal data in anything triage shows.

The store keeps log values as they were (support may need the exact bytes, and the store is
readable by its owner only); every summary, report and export passes its log-derived text
through `mask` on the way out.
"""

from __future__ import annotations

import re

_RULES: list[tuple[re.Pattern[str], str]] = [
    # Authorization header values: Bearer / Basic / Token credentials
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+|%20)[A-Za-z0-9._~+/=-]{6,}"), r"\1 [REDACTED]"),
    # Scaling API keys: scl_live_ + 32 characters (any scl_<env>_ key, to be safe)
    (re.compile(r"\bscl_[a-z]+_[A-Za-z0-9]{6,}"), "scl_live_[REDACTED]"),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    # e-mail addresses, also URL-encoded (%40)
    (re.compile(r"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[REDACTED-EMAIL]"),
    # secrets in query strings and key=value pairs
    (
        re.compile(
            r"(?i)\b(api[_-]?key|access[_-]?token|token|secret|password|passwd|session|cookie)"
            r"(=|:\s*\"?)([^&\s\"',;]{3,})"
        ),
        r"\1\2[REDACTED]",
    ),
]


def mask(text: str | None) -> str | None:
    """The text with every secret or e-mail address replaced by a marker."""
    if not text:
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
