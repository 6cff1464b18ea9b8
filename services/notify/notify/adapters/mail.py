"""Composing a plain-text Chinese e-mail as RFC 5322 / MIME bytes, directly.

The stdlib's `email` package (EmailMessage with the modern policy) parses every header it is
given into a token tree and folds it again when flattening: about 2 ms of CPU per mail, most of
what a notification cost to send. A notice needs one fixed shape only — a handful of headers,
one UTF-8 text body — so it is written out here: non-ASCII header text as RFC 2047 encoded
words (base64, folded below 78 characters, never splitting a character), the body in base64
lines of 76, CRLF line ends. Any MIME reader (and the local sink's stdlib parser) reads it back
exactly: tests round-trip it through `email.message_from_bytes(..., policy=default)`.

Addresses are checked before anything is sent: an address that is not a plain `local@domain`
(dot-atom local part, host name labels; a Unicode domain is IDNA-encoded) is a permanent
failure, so header injection (CR/LF, a second address) cannot get through."""
from __future__ import annotations

import base64
import re
from datetime import datetime, timezone
from email.utils import format_datetime

_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LOCAL = re.compile(rf"{_ATEXT}(?:\.{_ATEXT})*\Z")
_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)\Z")
# A display name that may stand as a quoted-string without encoding: printable ASCII.
_PLAIN_ASCII = re.compile(r"[\x20-\x7e]*\Z")
_ENCODED_WORD_BYTES = 39  # 52 base64 characters: "=?utf-8?b?…?=" is 64, a folded line stays below 78


class AddressError(ValueError):
    pass


def check_address(address: str) -> str:
    """`address` as it goes on the wire (IDNA domain), or AddressError saying why not."""
    if not isinstance(address, str) or len(address) > 254:
        raise AddressError("address missing or longer than 254 characters")
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise AddressError(f"not of the form local@domain: {address!r}")
    if len(local) > 64 or not _LOCAL.match(local):
        raise AddressError(f"local part not allowed: {local!r}")
    try:
        ascii_domain = domain.encode("idna").decode("ascii") if not domain.isascii() else domain
    except UnicodeError:
        raise AddressError(f"domain cannot be encoded: {domain!r}") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise AddressError(f"domain not allowed: {domain!r}")
    return f"{local}@{ascii_domain}"


def encoded_words(text: str, limit: int = _ENCODED_WORD_BYTES) -> list[str]:
    """`text` as RFC 2047 B-encoded UTF-8 words of at most `limit` bytes each, split between
    characters."""
    words, chunk, size = [], [], 0
    for ch in text:
        n = len(ch.encode("utf-8"))
        if size + n > limit and chunk:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(ch)
        size += n
    if chunk:
        words.append("".join(chunk))
    return ["=?utf-8?b?" + base64.b64encode(w.encode("utf-8")).decode("ascii") + "?=" for w in words]


def _header_text(text: str) -> str:
    """Unstructured header text (Subject): as is when short printable ASCII, else encoded words
    folded one per line."""
    text = " ".join(text.split())  # no CR/LF or tabs reach a header
    if _PLAIN_ASCII.match(text) and len(text) <= 66 and "=?" not in text:
        return text
    return "\r\n ".join(encoded_words(text))


def mailbox(name: str, address: str) -> str:
    """`name <address>` with the name quoted (ASCII) or encoded (anything else); `address`
    must already be checked."""
    name = " ".join((name or "").split())
    if not name:
        return address
    if _PLAIN_ASCII.match(name) and "=?" not in name:
        quoted = name.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{address}>'
    # One word where it fits in 75 characters (45 bytes: any real name): some readers, the
    # stdlib's address parser among them, keep a space between adjacent words of a phrase.
    return "\r\n ".join(encoded_words(name, limit=45)) + f"\r\n <{address}>"


def _body(text: str) -> bytes:
    data = base64.b64encode(text.replace("\r\n", "\n").replace("\n", "\r\n").encode("utf-8"))
    return b"\r\n".join(data[i:i + 76] for i in range(0, len(data), 76)) + b"\r\n"


def compose(*, message_id: str, sender: str, to: str, subject: str, body: str,
            date: datetime | None = None, language: str = "zh-CN") -> bytes:
    """One plain-text mail. `sender` and `to` are header values made by `mailbox`."""
    head = (
        f"Message-ID: {message_id}\r\n"
        f"Date: {format_datetime(date or datetime.now(timezone.utc))}\r\n"
        f"From: {sender}\r\n"
        f"To: {to}\r\n"
        f"Subject: {_header_text(subject)}\r\n"
        f"Content-Language: {language}\r\n"
        "Auto-Submitted: auto-generated\r\n"  # RFC 3834: no auto-replies to this
        "MIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: base64\r\n"
        "\r\n"
    )
    return head.encode("ascii") + _body(body)
