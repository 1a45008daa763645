"""Random identifiers in the documented formats (§2 "Resource IDs", "Request IDs", "Key format")."""

from __future__ import annotations

import base64
import random
import uuid

from .routes import RESOURCES

PREFIXED_ID_SHARE = 0.20  # resource ids like inc_01jq… instead of UUIDs (§2)

LOWER_ALNUM = "abcdefghijklmnopqrstuvwxyz0123456789"
ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class Ids:
    """Random identifiers in the documented formats, all drawn from one rng."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def chars(self, alphabet: str, n: int) -> str:
        return "".join(self.rng.choices(alphabet, k=n))

    def uuid4(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def org_id(self) -> str:
        """Clerk-style ``org_2abc…`` or ULID-style ``org_01HX…`` (12-14 chars after ``org_``)."""
        if self.rng.random() < 0.25:
            return "org_01" + self.chars(CROCKFORD, self.rng.randint(10, 12))
        return "org_2" + self.chars(LOWER_ALNUM, self.rng.randint(11, 13))

    def user_id(self) -> str:
        return "user_2" + self.chars(LOWER_ALNUM, self.rng.randint(11, 13))

    def api_key_id(self) -> str:
        """The key's *id*, never the secret (§6.1)."""
        return "key_01" + self.chars(LOWER_ALNUM, 24)

    def secret_api_key(self) -> str:
        return "scl_live_" + self.chars(ALNUM, 32)

    def resource_id(self, kind: str) -> str:
        prefix = RESOURCES[kind][0]
        if kind == "member":
            return self.user_id()
        if kind == "invitation":
            return "orginv_2" + self.chars(LOWER_ALNUM, 12)
        if prefix and self.rng.random() < PREFIXED_ID_SHARE:
            return f"{prefix}_01jq" + self.chars(CROCKFORD.lower(), 22)
        return self.uuid4()

    def client_ip(self) -> str:
        """Documentation ranges only: RFC 5737 IPv4 and RFC 3849 IPv6."""
        if self.rng.random() < 0.15:
            return f"2001:db8:{self.rng.randrange(0x10000):x}::{self.rng.randrange(1, 0x10000):x}"
        net = self.rng.choice(("203.0.113", "198.51.100", "192.0.2"))
        return f"{net}.{self.rng.randint(1, 254)}"

    def cursor(self) -> str:
        """An opaque pagination cursor (§2 "base64-ish")."""
        return base64.urlsafe_b64encode(self.rng.randbytes(18)).decode("ascii")
