"""AES-GCM encryption at rest, with versioned keys kept outside the database.

The key file (KARTOTEKA_ENCRYPTION_KEY_FILE, created on first use, mode 0600) holds one key
per line as `<id>:<base64 key>`; the last line is the current key, earlier ones still decrypt,
so a key is rotated by appending a line (`add_key`, used by `kartoteka rotate_keys`). A value
is stored as `kt1.<key id>.<base64(nonce + ciphertext)>`; `purpose` is bound as associated
data, so a value copied into another column does not decrypt there. Files are encrypted in
chunks by core.encrypted_files with the same keys.

The key ring is cached per process, keyed by the file's modification time: a key appended or
retired by `rotate_keys` in another process is seen by the next call here, so a running web
server neither fails on values re-encrypted under a new key nor keeps writing under a retired
one.
"""

import base64
import os
import secrets
from functools import lru_cache
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

PREFIX = "kt1"
NONCE_BYTES = 12


class DecryptionError(Exception):
    """The value is not ours, was altered, or its key is gone."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def key_file() -> Path:
    return Path(settings.KARTOTEKA_ENCRYPTION_KEY_FILE)


def _write_new_key_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process created it first: use theirs
        return
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(f"1:{_b64(AESGCM.generate_key(bit_length=256))}\n")


def _parse(path: Path) -> tuple[dict[str, bytes], str]:
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


@lru_cache(maxsize=4)
def _keyring(path: Path, stamp: tuple[int, int] | None = None) -> tuple[dict[str, bytes], str]:
    if not path.exists():
        _write_new_key_file(path)
    return _parse(path)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def keyring() -> tuple[dict[str, bytes], str]:
    """All keys by id and the id of the current one."""
    path = key_file()
    return _keyring(path, _stamp(path))


def current_key_id() -> str:
    return keyring()[1]


def key_for(key_id: str) -> bytes:
    """The key `key_id`; DecryptionError when the key file no longer (or never) had it."""
    try:
        return keyring()[0][key_id]
    except KeyError:
        raise DecryptionError(f"Key {key_id!r} is not in the key file.") from None


def add_key() -> str:
    """Append a new random key to the key file, which makes it the current key; returns its
    id. The file keeps mode 0600 and its earlier keys (old values still decrypt)."""
    path = key_file()
    keys, _current = keyring()
    numeric = [int(k) for k in keys if k.isdigit()]
    new_id = str(max(numeric, default=0) + 1)
    with path.open("a", encoding="utf-8") as handle:
        handle.write(f"{new_id}:{_b64(AESGCM.generate_key(bit_length=256))}\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.chmod(path, 0o600)
    _keyring.cache_clear()
    return new_id


def retire_keys(key_ids: set[str]) -> None:
    """Remove `key_ids` from the key file (never the current key). The caller has made sure
    nothing is encrypted under them any more: their values would be lost."""
    path = key_file()
    _keys, current = keyring()
    if current in key_ids:
        raise ValueError("The current key cannot be retired.")
    kept = [
        line
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip().partition(":")[0] not in key_ids
    ]
    temporary = path.with_name(path.name + ".new")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(kept) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)  # atomic: a crash leaves the old file or the new one
    _keyring.cache_clear()


# --- Values (short text in a database column) -------------------------------------------------


def encrypt_bytes(plaintext: bytes, *, purpose: str) -> str:
    """Encrypt `plaintext` with the current key for `purpose`, as a `kt1.` token."""
    keys, current = keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(keys[current]).encrypt(nonce, plaintext, purpose.encode())
    return f"{PREFIX}.{current}.{_b64(nonce + sealed)}"


def decrypt_bytes(token: str, *, purpose: str) -> bytes:
    """The plaintext of a token made by `encrypt_bytes` for the same `purpose`."""
    try:
        prefix, key_id, body = token.split(".")
        if prefix != PREFIX:
            raise ValueError(prefix)
        raw = _unb64(body)
        return AESGCM(key_for(key_id)).decrypt(
            raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode()
        )
    except Exception as exc:  # every failure reads the same: not decryptable here
        raise DecryptionError("The value cannot be decrypted.") from exc


def encrypt(plaintext: str, *, purpose: str) -> str:
    """Encrypt `plaintext` with the current key for `purpose` (e.g. "totp")."""
    return encrypt_bytes(plaintext.encode(), purpose=purpose)


def decrypt(token: str, *, purpose: str) -> str:
    """The plaintext of a value made by `encrypt` for the same `purpose`."""
    try:
        return decrypt_bytes(token, purpose=purpose).decode()
    except UnicodeDecodeError as exc:
        raise DecryptionError("The value cannot be decrypted.") from exc


def is_encrypted(value: str) -> bool:
    """Does `value` look like a token of ours (rather than plaintext from before)?"""
    return value.startswith(PREFIX + ".") and value.count(".") == 2


def token_key_id(token: str) -> str:
    """The id of the key a token was made with ("" for a value that is not a token)."""
    return token.split(".")[1] if is_encrypted(token) else ""


def token_prefix(key_id: str) -> str:
    """What every token made with key `key_id` starts with (for `startswith` queries)."""
    return f"{PREFIX}.{key_id}."


def reencrypt(token: str, *, purpose: str) -> str:
    """The same plaintext under the current key (unchanged when already on it)."""
    if token_key_id(token) == current_key_id():
        return token
    return encrypt_bytes(decrypt_bytes(token, purpose=purpose), purpose=purpose)
