"""Files encrypted at rest: AES-GCM in chunks, so memory stays bounded whatever the size.

Layout of an encrypted file:

    header  = b"KTENC" | version (1 byte) | key id length (1) | key id (ASCII)
              | chunk size (4, big-endian) | nonce prefix (7 random bytes)
    chunk i = AES-GCM(key, nonce = prefix | i (4 bytes) | last (1 byte),
                      data = plaintext[i], associated data = purpose | header)

Every chunk but the last holds `chunk size` bytes of plaintext (plus a 16-byte tag). The
chunk number and the "last" flag are in the nonce, so chunks cannot be reordered, dropped or
the file cut short without the tag check failing; the header (with the key id) and the
purpose are authenticated with every chunk, so a file cannot be moved to another purpose or
have its header edited. The key id in the header is what lets `rotate_keys` re-encrypt files
and tell which keys are still in use. Keys come from core.crypto (the same key file).
"""

import io
import secrets
import tempfile
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kartoteka.core import crypto

MAGIC = b"KTENC"
VERSION = 1
CHUNK_SIZE = 64 * 1024
TAG_BYTES = 16
PREFIX_BYTES = 7
MAX_CHUNK_SIZE = 4 * 1024 * 1024
# Ciphertext goes to disk (never plaintext) beyond this, so a 20 MB upload is not all in RAM.
SPOOL_BYTES = 1024 * 1024


class FileDecryptionError(crypto.DecryptionError):
    """The file is not ours, was altered or cut short, or its key is gone."""


def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + index.to_bytes(4, "big") + (b"\x01" if last else b"\x00")


def _read_exactly(source: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes, fewer only at the end (storage streams may return short reads)."""
    parts = []
    remaining = size
    while remaining > 0:
        part = source.read(remaining)
        if not part:
            break
        parts.append(part)
        remaining -= len(part)
    return b"".join(parts)


def is_encrypted(head: bytes) -> bool:
    """Do these first bytes of a file start one of ours?"""
    return head.startswith(MAGIC)


def encrypt_to(source: IO[bytes], target: IO[bytes], *, purpose: str) -> str:
    """Encrypt everything `source` has left into `target` under the current key; returns the
    key id. Reads and writes one chunk at a time."""
    keys, key_id = crypto.keyring()
    encoded_id = key_id.encode("ascii")
    prefix = secrets.token_bytes(PREFIX_BYTES)
    header = (
        MAGIC
        + bytes([VERSION, len(encoded_id)])
        + encoded_id
        + CHUNK_SIZE.to_bytes(4, "big")
        + prefix
    )
    aead = AESGCM(keys[key_id])
    associated = purpose.encode() + b"|" + header
    target.write(header)
    index = 0
    chunk = _read_exactly(source, CHUNK_SIZE)
    while True:
        following = _read_exactly(source, CHUNK_SIZE) if len(chunk) == CHUNK_SIZE else b""
        last = not following
        target.write(aead.encrypt(_nonce(prefix, index, last), chunk, associated))
        if last:
            return key_id
        chunk = following
        index += 1


def encrypt_stream(source: IO[bytes], *, purpose: str) -> tuple[IO[bytes], str]:
    """The encrypted form of `source` as a temporary file rewound to its start (in memory up
    to SPOOL_BYTES, then on disk: only ciphertext ever touches the disk), and the key id."""
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 (returned)
    key_id = encrypt_to(source, spooled, purpose=purpose)
    spooled.seek(0)
    return spooled, key_id  # type: ignore[return-value]


def encrypt_bytes(data: bytes, *, purpose: str) -> bytes:
    """Small files (thumbnails) in one go; same format as encrypt_to."""
    out = io.BytesIO()
    encrypt_to(io.BytesIO(data), out, purpose=purpose)
    return out.getvalue()


class DecryptingReader(io.RawIOBase):
    """A read-only stream of the plaintext of an encrypted file, one chunk in memory at a
    time. Reading past a damaged or truncated chunk raises FileDecryptionError; closing it
    closes the source."""

    def __init__(self, source: IO[bytes], *, purpose: str) -> None:
        super().__init__()
        self._source = source
        try:
            head = _read_exactly(source, len(MAGIC) + 2)
            if not is_encrypted(head) or head[len(MAGIC)] != VERSION:
                raise FileDecryptionError("The file is not an encrypted file of this format.")
            id_length = head[len(MAGIC) + 1]
            rest = _read_exactly(source, id_length + 4 + PREFIX_BYTES)
            if len(rest) != id_length + 4 + PREFIX_BYTES:
                raise FileDecryptionError("The file's header is cut short.")
            self.key_id = rest[:id_length].decode("ascii")
            self._chunk_size = int.from_bytes(rest[id_length : id_length + 4], "big")
            self._prefix = rest[id_length + 4 :]
            if not 0 < self._chunk_size <= MAX_CHUNK_SIZE:  # read before it is authenticated
                raise FileDecryptionError("The file's header is damaged.")
            self._aead = AESGCM(crypto.key_for(self.key_id))
        except FileDecryptionError:
            source.close()
            raise
        except (crypto.DecryptionError, UnicodeDecodeError, ValueError) as exc:
            source.close()
            raise FileDecryptionError("The file cannot be decrypted.") from exc
        self._associated = purpose.encode() + b"|" + head + rest
        self._index = 0
        self._pending = _read_exactly(source, self._chunk_size + TAG_BYTES)
        self._buffer = b""
        self._finished = False
        try:  # the first chunk now: a wrong key or altered header fails before any byte is sent
            self._buffer = self._next_chunk()
        except FileDecryptionError:
            source.close()
            raise

    def readable(self) -> bool:
        return True

    def _next_chunk(self) -> bytes:
        sealed = self._pending
        self._pending = (
            _read_exactly(self._source, self._chunk_size + TAG_BYTES)
            if len(sealed) == self._chunk_size + TAG_BYTES
            else b""
        )
        last = not self._pending
        try:
            nonce = _nonce(self._prefix, self._index, last)
            plain = self._aead.decrypt(nonce, sealed, self._associated)
        except InvalidTag as exc:
            raise FileDecryptionError(
                "The file cannot be decrypted (altered or cut short)."
            ) from exc
        self._index += 1
        self._finished = last
        return plain

    def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def, override]
        while not self._buffer and not self._finished:
            self._buffer = self._next_chunk()
        size = min(len(buffer), len(self._buffer))
        buffer[:size] = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return size

    def close(self) -> None:
        if not self.closed:
            self._source.close()
        super().close()


def file_key_id(source: IO[bytes]) -> str:
    """The id of the key an encrypted file was written with ("" if it is not encrypted).
    Reads only the header; the caller rewinds or closes `source`."""
    head = _read_exactly(source, len(MAGIC) + 2)
    if not is_encrypted(head):
        return ""
    return _read_exactly(source, head[len(MAGIC) + 1]).decode("ascii", "replace")


def decrypt_bytes(data: bytes, *, purpose: str) -> bytes:
    """The plaintext of a small encrypted file held in memory (tests, thumbnails)."""
    with DecryptingReader(io.BytesIO(data), purpose=purpose) as reader:
        return reader.read()
