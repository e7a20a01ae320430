"""AES-GCM encryption of small secrets at rest, with versioned keys kept outside the database.

The key file (KARTOTEKA_ENCRYPTION_KEY_FILE, created on first use, mode 0600) holds one key
per line as `<id>:<base64 key>`; the last line is the current key, earlier ones still decrypt,
so a key is rotated by appending a line. A value is stored as `kt1.<key id>.<base64(nonce +
ciphertext)>`; `purpose` is bound as associated data, so a value copied into another column
does not decrypt there.
"""

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "kt1"


class DecryptionError(Exception):
    """The value is not ours, was altered, or its key is gone."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@lru_cache(maxsize=4)
def _keyring(path: Path) -> tuple[dict[str, bytes], str]:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(f"1:{_b64(AESGCM.generate_key(bit_length=256))}\n")
    keys: dict[str, bytes] = {}
    current = ""
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        key_id, _sep, encoded = line.strip().partition(":")
        key = _unb64(encoded)
        if len(key) != 32:
            raise DecryptionError(f"Key {key_id!r} in {path} is not a 256-bit key.")
        keys[key_id] = key
        current = key_id
    return keys, current


def keyring() -> tuple[dict[str, bytes], str]:
    """All keys by id and the id of the current one."""
    return _keyring(Path(settings.KARTOTEKA_ENCRYPTION_KEY_FILE))


def encrypt(plaintext: str, *, purpose: str) -> str:
    """Encrypt `plaintext` with the current key for `purpose` (e.g. "totp")."""
    keys, current = keyring()
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(keys[current]).encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{PREFIX}.{current}.{_b64(nonce + sealed)}"


def decrypt(token: str, *, purpose: str) -> str:
    """The plaintext of a value made by `encrypt` for the same `purpose`."""
    try:
        prefix, key_id, body = token.split(".")
        if prefix != PREFIX:
            raise ValueError(prefix)
        raw = _unb64(body)
        key = keyring()[0][key_id]
        return AESGCM(key).decrypt(raw[:12], raw[12:], purpose.encode()).decode()
    except Exception as exc:  # every failure reads the same: not decryptable here
        raise DecryptionError("The value cannot be decrypted.") from exc
