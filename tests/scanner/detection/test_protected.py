"""Protected-value and encrypted-file recognition as tables: ciphertext and hashes versus plaintext look-alikes."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import random
import uuid
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanner.detection.protected import classify_protected, looks_encrypted_file

_RANDOM = random.Random(20241124)


def _random_bytes(n: int) -> bytes:
    return bytes(_RANDOM.getrandbits(8) for _ in range(n))


PGP_ARMOR = (
    "-----BEGIN PGP MESSAGE-----\n\n"
    "jA0ECQMCcGfRkG0p3hX/0kEBq9v1Lr3kQ2pO0Q3c2C3T0b7w0h2L5nJbN0l7c9Qx\n=Xv9k\n"
    "-----END PGP MESSAGE-----"
)
AGE_ARMOR = (
    "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOQ==\n-----END AGE ENCRYPTED FILE-----"
)
AGE_BINARY_HEADER = "age-encryption.org/v1\n-> X25519 mN3t0yY0Vb4UI6bIzZ8ofQ1L3Xn0Z7kq9xNfW0hB0Ww\n"
BCRYPT = "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"
ARGON2 = "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG"
SHA512_CRYPT = "$6$rounds=5000$saltsalt$" + "Ab3./9xYz" * 9 + "Q2Wx5"
AES_BLOCKS_48 = _random_bytes(48)

PROTECTED_CASES = [
    # (value, expected label): what a user expects to be told is ciphertext or a hash
    (PGP_ARMOR, "pgp-armor"),
    ("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nlQVYBGV...\n-----END PGP PRIVATE KEY BLOCK-----", "pgp-armor"),
    (AGE_ARMOR, "age"),
    (AGE_BINARY_HEADER, "age"),
    (BCRYPT, "bcrypt"),
    ("$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "bcrypt"),
    ("$2y$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy", "bcrypt"),
    (ARGON2, "argon2"),
    ("$argon2i$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$8ZbN3n2rJ0lJq1G3v6Q7zXk5c0T1R2o4Yw", "argon2"),
    (SHA512_CRYPT, "sha512-crypt"),
    ("$5$saltsalt$" + "Ab3./9xYz" * 4 + "Q2Wx5X2", "sha256-crypt"),
    ("$1$saltsalt$" + "Ab3./9xYz" * 2 + "Q2Wx", "md5-crypt"),
    ("pbkdf2_sha256$600000$c2FsdHNhbHQ$Rdescudv+JCsgt3ub/b+dWRWJTmaaJObG=", "pbkdf2"),
    ("argon2$" + ARGON2[1:], "argon2"),  # Django password hashers' <algorithm>$ wrappers
    ("bcrypt_sha256$" + BCRYPT, "bcrypt"),
    (hashlib.md5(b"110105198503120012").hexdigest(), "md5-hex"),
    (hashlib.sha1(b"110105198503120012").hexdigest(), "sha1-hex"),
    (hashlib.sha256(b"110105198503120012").hexdigest(), "sha256-hex"),
    (hashlib.sha256(b"13812345678").hexdigest().upper(), "sha256-hex"),
    (hashlib.sha512(b"13812345678").hexdigest(), "sha512-hex"),
    ("0x" + hashlib.sha256(b"x").hexdigest(), "sha256-hex"),
    # pgcrypto: encode(encrypt(...), 'base64'), encode(encrypt(...), 'hex') and bytea's \x text form
    (base64.b64encode(AES_BLOCKS_48).decode(), "base64-ciphertext"),
    (base64.urlsafe_b64encode(_random_bytes(32)).decode().rstrip("="), "base64-ciphertext"),
    (_random_bytes(40).hex(), "hex-ciphertext"),
    (AES_BLOCKS_48.hex(), "sha384-hex"),  # 48 bytes: a SHA-384 length; protected either way
    ("\\x" + _random_bytes(80).hex(), "hex-ciphertext"),
    ("  " + BCRYPT + "\n", "bcrypt"),  # surrounding whitespace as read from a CSV cell
]

PLAINTEXT_CASES = [
    # look-alikes a user expects to stay plaintext: identifiers, numbers, words, short hex
    "",
    "   ",
    "110105198503120012",  # a resident ID: digits only
    "13812345678",
    "6222023141592653587",
    "1" * 64,  # digits only, even at a digest length
    "9" * 128,
    "customer",
    "张三",
    "zhang.san@example.com",
    "ORD20241124153000123",
    "a3f9c2",  # short hex: an order suffix or colour
    "9fceb02",  # an abbreviated git commit
    "deadbeef",
    "0x1f4",
    str(uuid.UUID(int=_RANDOM.getrandbits(128), version=4)),  # a UUID is an identifier, not a digest
    "AKIAIOSFODNN7EXAMPLE",
    "USR0000000000000123456789",
    "/api/v1/users/profile/settings/notifications",
    "com.example.order.service.OrderServiceImpl",
    "getCustomerAccountBalanceByIdAndTypeV2",  # camelCase identifier: high entropy, not ciphertext
    "handleIncomingPaymentCallback2",
    "ORDER_SERVICE_2024_request_timeout",
    "UserAccountId12345678AbcDef",
    base64.b64encode("张三,110105198503120012,13812345678".encode()).decode(),  # base64 is an encoding, not encryption
    base64.b64encode(b"Basic dXNlcjpwYXNzd29yZA== hello world 2024").decode(),
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n张三 13812345678\n",  # clear-signed: readable
    "$100.00",
    "$2b$12$tooShort",
    "$argon2id$not-a-phc-string",
    "The quick brown fox jumps over the lazy dog 1234567890 times",
]


@pytest.mark.parametrize(("value", "label"), PROTECTED_CASES)
def test_protected_values_are_labelled(value: str, label: str) -> None:
    assert classify_protected(value) == label


@pytest.mark.parametrize("value", PLAINTEXT_CASES)
def test_plaintext_look_alikes_are_not_protected(value: str) -> None:
    assert classify_protected(value) is None


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=1, max_size=200), st.sampled_from(["", "0x", "\\x", " "]))
def test_digit_strings_are_never_protected(digits: str, prefix: str) -> None:
    """Card numbers, IDs and phones are decimal: no run of decimal digits is a digest or ciphertext."""
    assert classify_protected(prefix + digits) is None


@settings(max_examples=300, deadline=None)
@given(st.integers(min_value=0, max_value=2**32), st.integers(min_value=24, max_value=512), st.booleans())
def test_random_bytes_base64_encoded_are_protected(seed: int, length: int, urlsafe: bool) -> None:
    """Ciphertext is indistinguishable from random bytes; from 24 bytes (32 base64 characters) on it
    must be recognised. (Hypothesis' own ``binary()`` favours all-zero strings, which encryption never
    produces, so the bytes come from a seeded PRNG.)"""
    raw = random.Random(seed).randbytes(length)
    encoded = base64.urlsafe_b64encode(raw).decode().rstrip("=") if urlsafe else base64.b64encode(raw).decode()
    label = classify_protected(encoded)
    # a random string reads as glued words rarely (~0.3 % at 32 characters): only a label or that
    assert label == "base64-ciphertext" or _reads_as_words(encoded)


def _reads_as_words(value: str) -> bool:
    from scanner.detection.protected import _reads_as_words as reads

    return reads(value)


def test_seeded_random_base64_blobs_are_almost_always_protected() -> None:
    """The rate, measured: 2,000 random 32-byte blobs (44 characters); at most 1 % may be missed."""
    rng = random.Random(7)
    blobs = [base64.b64encode(rng.randbytes(32)).decode() for _ in range(2000)]
    missed = sum(classify_protected(b) is None for b in blobs)
    assert missed <= 20


# -- whole files ------------------------------------------------------------------------------------


def _gpg_symmetric() -> bytes:
    """``gpg -c`` output: old-format SKESK (tag 3) v4, AES-256, iterated+salted S2K, then SEIPD."""
    return bytes.fromhex("8c0d04090302") + _random_bytes(11) + bytes.fromhex("d2c0") + _random_bytes(300)


def _gpg_public_key() -> bytes:
    """``gpg -e`` output: new-format PKESK (tag 1, two-octet length) v3, key ID, RSA (1)."""
    return bytes.fromhex("c1c04c03") + _random_bytes(8) + b"\x01" + _random_bytes(400)


def _gpg_public_key_old_format() -> bytes:
    """Old-format PKESK (tag 1, two-octet length ``0x010c``) v3, key ID, ECDH (18)."""
    return bytes.fromhex("85010c03") + _random_bytes(8) + b"\x12" + _random_bytes(400)


def _gzip() -> bytes:
    return gzip.compress(b"2024-11-24 INFO order created\n" * 200)


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("customers.csv", "name,mobile\n张三,13812345678\n" * 50)
    return buffer.getvalue()


FILE_CASES = [
    # (file head, expected label or None)
    (PGP_ARMOR.encode(), "pgp-armor"),
    (b"\n\n" + PGP_ARMOR.encode(), "pgp-armor"),
    (AGE_BINARY_HEADER.encode() + _random_bytes(200), "age"),
    (AGE_ARMOR.encode(), "age"),
    (_gpg_symmetric(), "pgp-binary"),
    (_gpg_public_key(), "pgp-binary"),
    (_gpg_public_key_old_format(), "pgp-binary"),
    (b"", None),
    (_gzip(), None),  # compressed, not encrypted: the connector opens it
    (_zip(), None),
    (b"\x89PNG\r\n\x1a\n" + _random_bytes(300), None),
    (b"\xff\xd8\xff\xe0\x00\x10JFIF" + _random_bytes(300), None),
    (b"%PDF-1.7\n" + _random_bytes(300), None),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + _random_bytes(300), None),  # legacy Office (OLE)
    (b"\xca\xfe\xba\xbe" + _random_bytes(300), None),
    ("name,mobile\n张三,13812345678\n".encode() * 20, None),
    ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n张三 13812345678\n".encode(), None),
    # text whose first byte reads as a PGP tag: GBK 一 is D2 BB (new-format tag 18), Cyrillic Ґ in UTF-8 is D2 90
    ("一二三四五六七八九十，订单状态：成功，客户张三\n".encode("gbk") * 30, None),
    ("Ґрунт і вода, замовлення виконано\n".encode() * 30, None),
    ("一月份账单，卡号尾号1234\n".encode("gb18030") * 30, None),
]


@pytest.mark.parametrize(("head", "label"), FILE_CASES)
def test_encrypted_file_heads(head: bytes, label: str | None) -> None:
    assert looks_encrypted_file(head) == label


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=20, max_size=200))
def test_chinese_text_in_gbk_is_never_an_encrypted_file(text: str) -> None:
    assert looks_encrypted_file(text.encode("gb18030")) is None
