"""VERP: the envelope sender of each message names its delivery row.

``bounce@bounces.example.org`` becomes ``bounce+<token>@bounces.example.org`` where
the token is a compact, signed, purpose-bound number (``tokens.Signer.make_compact``):
lowercase hex digits and one hyphen, valid in an RFC 5321 dot-atom local part,
and still valid after a mail server lowercased it. A bounce comes back to that
address, so the report names the row even when its text does not.
"""

from __future__ import annotations

from email.utils import parseaddr
from functools import lru_cache

from syndicate.core.errors import TokenError
from syndicate.core.tokens import COMPACT_MAC, Signer

PURPOSE = "bounce"
SEPARATOR = "+"
# hex of a 64-bit id, the hyphen and the MAC: what the token adds to the local part.
TOKEN_MAX = 16 + 1 + COMPACT_MAC
LOCAL_MAX = 64  # RFC 5321 4.5.3.1.1
BASE_LOCAL_MAX = LOCAL_MAX - len(SEPARATOR) - TOKEN_MAX


class ForgedAddress(Exception):
    """A VERP address on our bounce domain whose token does not verify."""


@lru_cache(maxsize=16)
def split(address: str) -> tuple[str, str]:
    """``(local, domain)`` of a bare address; domain lowercased."""
    local, _, domain = address.rpartition("@")
    return local, domain.lower()


def address_for(signer: Signer, bounce_address: str, delivery_id: int) -> str:
    """The envelope sender for one delivery row (one HMAC; called per recipient)."""
    local, domain = split(bounce_address)
    return f"{local}{SEPARATOR}{signer.make_compact(PURPOSE, delivery_id)}@{domain}"


def delivery_of(signer: Signer, bounce_address: str, address: str) -> int | None:
    """The delivery row a returned address names; None when it is not a VERP address
    of ours (another address, or the bare bounce address). ``ForgedAddress`` when it
    looks like one but its token does not verify."""
    _, bare = parseaddr(address)
    local, domain = split(bare.strip().strip("<>"))
    base_local, base_domain = split(bounce_address)
    prefix = (base_local + SEPARATOR).lower()
    if domain != base_domain or not local.lower().startswith(prefix):
        return None
    token = local[len(prefix) :]
    try:
        return signer.check_compact(token, PURPOSE)
    except TokenError:
        raise ForgedAddress(f"bad bounce token in {bare!r}") from None
