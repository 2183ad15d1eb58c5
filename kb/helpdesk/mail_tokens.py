"""Reply addresses that name their ticket: `<local>+t-<ref>-<signature>@<domain>`. The signature is an HMAC of the
ticket's reference under the site's secret key, so a reply address cannot be made up for another ticket."""
from __future__ import annotations

import hashlib
import hmac
import re

from kb.helpdesk.accounts import normalise_email

_SIGNATURE_CHARS = 20
_TOKEN_RE = re.compile(r"\+t-(?P<ref>[a-z0-9-]{1,20})-(?P<sig>[0-9a-f]{%d})@" % _SIGNATURE_CHARS)


def _signature(secret: str, ref: str) -> str:
    digest = hmac.new(secret.encode(), b"kb.reply:" + ref.upper().encode(), hashlib.sha256).hexdigest()
    return digest[:_SIGNATURE_CHARS]


def reply_address(secret: str, support_address: str, ref: str) -> str:
    """The address a reply to ticket `ref` goes to: the support address with the signed token after a `+`."""
    local, _, domain = normalise_email(support_address).partition("@")
    return f"{local}+t-{ref.lower()}-{_signature(secret, ref)}@{domain}"


def ticket_ref_from(secret: str, address: str) -> str | None:
    """The ticket reference a reply address names, when its signature is right; None for any other address."""
    match = _TOKEN_RE.search(normalise_email(address))
    if not match:
        return None
    ref, signature = match["ref"].upper(), match["sig"]
    return ref if hmac.compare_digest(signature, _signature(secret, ref)) else None
