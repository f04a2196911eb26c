"""Recognise ciphertext and hashes, so encrypted data is never reported as plaintext personal data.

JR/T 0171-2020 §7 and PCI DSS 3.5 ask that C3/C2 data be stored encrypted or as one-way hashes; a
scanner that reports such columns or files as plaintext exposures drowns the real ones. The labels
here are evidence for the ``protected`` state of a value or a whole file:

- OpenPGP ASCII armour (RFC 4880 §6.2) and binary packets, age (age-encryption.org/v1) files;
- password hashes: bcrypt (``$2a$``/``$2b$``/``$2y$``), argon2 (PHC string format), crypt(3)
  SHA-256/SHA-512 (``$5$``/``$6$``), scrypt and PBKDF2 PHC strings;
- hex digests of MD5/SHA-1/SHA-2 lengths, and long high-entropy hex or base64 blobs (typical of AES
  output stored as text, pgcrypto's ``encode(encrypt(...), 'base64')``).
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter

# A clear-signed message (``BEGIN PGP SIGNED MESSAGE``, RFC 4880 §7) carries its text in the clear: not protected.
_PGP_ARMOR = re.compile(r"-----BEGIN PGP (?:MESSAGE|PRIVATE KEY BLOCK)-----")
_AGE_ARMOR = "-----BEGIN AGE ENCRYPTED FILE-----"
_PASSWORD_HASHES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bcrypt", re.compile(r"^\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}$")),
    ("argon2", re.compile(r"^\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$")),
    ("scrypt", re.compile(r"^\$(?:scrypt|7)\$[A-Za-z0-9./+$=,]{20,}$")),
    ("pbkdf2", re.compile(r"^(?:\$pbkdf2(?:-sha\d+)?\$|pbkdf2_sha\d+\$)[A-Za-z0-9./+$=]{20,}$")),
    ("sha512-crypt", re.compile(r"^\$6\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{86}$")),
    ("sha256-crypt", re.compile(r"^\$5\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43}$")),
    ("md5-crypt", re.compile(r"^\$1\$[./A-Za-z0-9]{1,8}\$[./A-Za-z0-9]{22}$")),
)
_DJANGO_WRAPPERS = ("argon2$argon2", "bcrypt$$2", "bcrypt_sha256$$2")
_HEX = re.compile(r"^(?:\\x|0x)?[0-9A-Fa-f]+$")
_B64 = re.compile(r"^[A-Za-z0-9+/_-]+={0,2}$")
# runs of letters that read as words (``Customer``, ``request``, ``ORDER``) in glued identifiers
_WORDISH = re.compile(r"[a-z]{3,}|[A-Z][a-z]{2,}|[A-Z]{3,}")
_HEX_DIGESTS = {32: "md5-hex", 40: "sha1-hex", 56: "sha224-hex", 64: "sha256-hex", 96: "sha384-hex",
                128: "sha512-hex"}

MIN_BLOB_LENGTH = 24
HEX_MIN_ENTROPY = 3.0  # bits/char; 16 symbols give at most 4
BASE64_MIN_ENTROPY = 4.0  # bits/char; 64 symbols give at most 6, English text about 4.1 but has spaces


def shannon_entropy(text: str) -> float:
    """Shannon entropy of ``text`` in bits per character (0 for an empty string)."""
    if not text:
        return 0.0
    total = len(text)
    return -sum(n / total * math.log2(n / total) for n in Counter(text).values())


def classify_protected(value: str) -> str | None:
    """A label (``bcrypt``, ``sha256-hex``, ``pgp-armor``, ``base64-ciphertext`` …) when ``value`` is a
    hash or ciphertext rather than readable data, else None.

    Digits-only strings are never labelled: card numbers, IDs and phones are decimal, and a run of
    decimal digits is not a hex digest even when its length matches one.
    """
    v = value.strip()
    if not v:
        return None
    armour = _armour(v)
    if armour is not None:
        return armour
    if v.startswith(_DJANGO_WRAPPERS):  # Django's ``<algorithm>$`` prefix around a PHC/bcrypt string
        v = "$" + v.split("$", 1)[1].lstrip("$")
    if v.startswith(("$", "pbkdf2_")):  # PHC/crypt strings, and Django's ``pbkdf2_sha256$<iterations>$…``
        return next((label for label, pattern in _PASSWORD_HASHES if pattern.match(v)), None)
    if any(c.isspace() for c in v) or v.isdigit():
        return None
    if _HEX.match(v):
        return _hex_label(v[2:] if v[:2] in ("\\x", "0x") else v)
    if len(v) >= MIN_BLOB_LENGTH and _B64.match(v) and shannon_entropy(v) > BASE64_MIN_ENTROPY:
        return _base64_label(v)
    return None


def _armour(value: str) -> str | None:
    """``pgp-armor`` or ``age`` when ``value`` holds an encrypted message's armour or an age header."""
    if _PGP_ARMOR.search(value):
        return "pgp-armor"
    if _AGE_ARMOR in value or value.startswith("age-encryption.org/v1"):
        return "age"
    return None


def _hex_label(digits: str) -> str | None:
    """A digest's label when the hex ``digits`` have its length, ``hex-ciphertext`` when they are long,
    whole bytes and spread over the alphabet; decimal digits are neither (card numbers, IDs)."""
    if digits.isdigit():
        return None
    if len(digits) in _HEX_DIGESTS:
        return _HEX_DIGESTS[len(digits)]
    if len(digits) >= 32 and len(digits) % 2 == 0 and shannon_entropy(digits.lower()) > HEX_MIN_ENTROPY:
        return "hex-ciphertext"
    return None


def _base64_label(value: str) -> str | None:
    """``base64-ciphertext`` for a long, high-entropy base64 ``value`` that decodes to at least 16 bytes of
    binary; readable words glued together (identifiers, camelCase, CONSTANT_NAMES) are not ciphertext.
    (Digits are not required: one random 32-character base64 string in 250 has none.)"""
    has_upper = any(c.isupper() for c in value)
    has_lower = any(c.islower() for c in value)
    if not (has_upper and has_lower) or _reads_as_words(value):
        return None
    altchars = b"-_" if ("-" in value or "_" in value) else None
    try:
        raw = base64.b64decode(value + "=" * (-len(value) % 4), altchars=altchars, validate=altchars is None)
    except (binascii.Error, ValueError):
        return None
    return "base64-ciphertext" if len(raw) >= 16 and not _is_text(raw) else None


def _reads_as_words(value: str) -> bool:
    """Identifiers glued from words (``getCustomerAccountBalanceV2``, ``ORDER_SERVICE_2024_timeout``)
    versus base64: random base64 has few letter runs that look like words and few vowels (10 of its
    52 letters). Measured on random base64 of 24 (32) characters, about 0.6 % (0.3 %) read as words."""
    letters = [c for c in value if c.isalpha()]
    if not letters:
        return False
    wordish = sum(len(m) for m in _WORDISH.findall(value)) / len(value)
    vowels = sum(c in "aeiouAEIOU" for c in letters) / len(letters)
    return wordish >= 0.6 and vowels >= 0.3


def _is_text(raw: bytes) -> bool:
    """Base64 that decodes to readable UTF-8 is an encoding of plaintext (``Basic`` credentials, a
    serialised name), not ciphertext."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\r\n" for c in text)


def looks_encrypted_file(head: bytes) -> str | None:
    """Label of an encrypted file judged from its first bytes, or None.

    Recognises OpenPGP armour and binary messages (RFC 4880 §4.2: packet tag octet with bit 7 set,
    tags 1 public-key encrypted session key, 3 symmetric-key ESK, 18 SEIPD), and age files
    (``age-encryption.org/v1`` header, or its ASCII armour).
    """
    if not head:
        return None
    start = head.lstrip()[:64]
    if start.startswith(b"-----BEGIN PGP MESSAGE-----"):
        return "pgp-armor"
    if start.startswith(b"age-encryption.org/v1") or start.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
        return "age"
    if len(head) >= 16 and _pgp_message_start(head) and _binary_share(head[:4096]) > 0.3:
        return "pgp-binary"
    return None


# RFC 4880 §5.1/§5.3/§5.13 and RFC 9580: packet versions of the packets an encrypted message starts with
_PGP_VERSIONS = {1: (3, 6), 3: (4, 5, 6), 18: (1, 2)}


def _pgp_message_start(head: bytes) -> bool:
    """Whether ``head`` starts with a well-formed ESK or SEIPD packet header (RFC 4880 §4.2).

    The tag octet alone is not enough: text in GBK, Big5 or Cyrillic UTF-8 starts with bytes such as
    ``0xD2`` (GBK lead byte of 一) that read as a new-format tag 18, and is as "binary" by byte share.
    So the length header is parsed and the packet version checked: versions are 1 to 6, control
    characters that text never has there (algorithm ids are left alone: new ones keep being assigned).
    """
    first = head[0]
    if not first & 0x80:
        return False
    if first & 0x40:  # new format: tag in the low six bits, then a one-, two- or five-octet length
        tag, length = first & 0x3F, head[1]
        offset = 2 if length < 192 or 224 <= length < 255 else (3 if length < 224 else 6)
    else:  # old format: tag in bits 5..2, length type in bits 1..0
        tag = (first >> 2) & 0x0F
        offset = 1 + (1, 2, 4, 0)[first & 0x03]
    if tag not in _PGP_VERSIONS or len(head) <= offset:
        return False
    return head[offset] in _PGP_VERSIONS[tag]


def _binary_share(data: bytes) -> float:
    """Share of bytes outside printable ASCII and common whitespace."""
    if not data:
        return 0.0
    binary = sum(1 for b in data if b < 9 or (13 < b < 32) or b > 126)
    return binary / len(data)
