"""Masking secrets and personal data in anything triage shows.

The store keeps log values as they were (support may need the exact bytes, and the store is
readable by its owner only); everything triage shows (summaries, reports, exports, error
messages, chart labels) passes through `mask` or `redacted` on the way out. This module is
the only place that knows what a secret looks like.

Masking is structural first: a value is hidden because of the name it is given (a JSON key,
a query-string parameter, a header or `name: value` pair whose name says secret, token,
password, key, auth, session, cookie, signature...), whatever the value looks like. Then
values that are secrets by their shape are hidden wherever they stand: Scaling API keys
(`scl_live_...`), bearer tokens, JWTs, passwords in URLs and e-mail addresses.
"""

from __future__ import annotations

import re

MARK = "[REDACTED]"

# Words that make a field name secret, once the name is cut into words (camelCase, snake,
# kebab and dotted names alike: client_secret, refreshToken, X-Api-Key, auth.password).
_SECRET_WORDS = frozenset(
    {
        *("secret", "secrets", "token", "tokens", "password", "passwords", "passwd", "pwd"),
        *("passphrase", "pass", "key", "keys", "apikey", "apikeys", "auth", "authorization"),
        *("authentication", "session", "sessionid", "sessid", "cookie", "cookies", "signature"),
        *("sig", "credential", "credentials", "jwt", "bearer", "privatekey"),
    }
)
_KEY_WORDS = frozenset({"key", "keys", "apikey", "apikeys"})
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")


def secret_name(name: str) -> bool:
    """Does a field name say its value is a secret? An id of a key (apiKeyId, api_key_id)
    names the key, it is not the key: triage shows it."""
    words = [w.lower() for w in _WORD.findall(name)]
    hits = _SECRET_WORDS.intersection(words)
    if not hits:
        return False
    return not (hits <= _KEY_WORDS and words[-1] in ("id", "ids"))


def _mask_named_value(m: re.Match[str]) -> str:
    """Replace a match's value (group v, or n for a bare JSON scalar) if its name is secret."""
    if not secret_name(m.group("name")):
        return m.group(0)
    group = "v" if m.groupdict().get("v") is not None else "n"
    start, end = m.start(group) - m.start(), m.end(group) - m.start()
    return m.group(0)[:start] + MARK + m.group(0)[end:]


_NAME = r"(?P<name>[A-Za-z_$@][A-Za-z0-9_.$@-]{0,63})"
_STRUCTURAL = [
    # "name": "value" (or a number or boolean) in JSON text
    re.compile(
        r'"' + _NAME + r'"\s*:\s*(?:"(?P<v>(?:[^"\\]|\\.)*)"|(?P<n>-?\d[\w.+-]*|true|false))'
    ),
    # the same inside a JSON string (a wrapped record): \"name\":\"value\"
    re.compile(r'\\"' + _NAME + r'\\"\s*:\s*(?:\\"(?P<v>(?:(?!\\").)*)\\"|(?P<n>-?\d[\w.+-]*))'),
    # name=value in query strings, forms, cookies and logfmt
    re.compile(r"(?<![A-Za-z0-9_.$@-])" + _NAME + r"=(?P<v>[^&\s\"'<>,;\\]+)"),
    # name: value in headers and plain text (Authorization: Bearer x, password: hunter2);
    # an auth scheme stays in view
    re.compile(
        r"(?<![A-Za-z0-9_.$@\"-])" + _NAME
        + r"\s*:\s*(?:(?:Bearer|Basic|Token|Digest)\s+)?(?P<v>[^\s,;\"'&<>\\]{3,})"
    ),
]  # fmt: skip

_BY_SHAPE: list[tuple[re.Pattern[str], str]] = [
    # credentials in URLs: scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]+):[^/\s@]+@"), r"\1:" + MARK + "@"),
    # Authorization header values: Bearer / Basic / Token credentials
    (re.compile(r"(?i)\b(bearer|basic|token)(\s+|%20)[A-Za-z0-9._~+/=-]{6,}"), r"\1 " + MARK),
    # Scaling API keys: scl_live_ + 32 characters (any scl_<env>_ key), even glued to a word
    (re.compile(r"scl_[a-z]+_[A-Za-z0-9]{6,}"), "scl_live_" + MARK),
    # JSON Web Tokens
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "[REDACTED-JWT]"),
    # e-mail addresses, also URL-encoded (%40)
    (re.compile(r"[A-Za-z0-9._%+-]+(@|%40)[A-Za-z0-9.-]+\.[A-Za-z]{2,}"), "[REDACTED-EMAIL]"),
]


def mask(text: str | None) -> str | None:
    """The text with every secret or e-mail address replaced by a marker."""
    if not text:
        return text
    for pattern in _STRUCTURAL:
        text = pattern.sub(_mask_named_value, text)
    for pattern, replacement in _BY_SHAPE:
        text = pattern.sub(replacement, text)
    return text


def masked_fields(fields: dict) -> dict:
    """A log event's own fields (name to text), each value hidden whose name says secret:
    `redacted` masks values by their shape only, and a field's name is its one tell."""
    return {k: MARK if secret_name(k) else v for k, v in fields.items()}


def redacted(value):
    """The same structure with every string masked, dictionary keys included: the one
    redaction step before output. A dict subclass is passed through as it is (chart SVG
    that the renderer made from masked data, see render._Trusted)."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict) and type(value) is dict:
        return {redacted(k): redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redacted(v) for v in value]
    return value
