"""Encryption of backup archives: AES-256-GCM in chunks, key from a passphrase by scrypt.

The file is `MAGIC`, a header (salt, scrypt parameters, nonce prefix), then chunks of at
most CHUNK_SIZE plaintext bytes, each sealed on its own, so memory stays bounded however
large the archive. Every chunk's nonce is the prefix plus its number, and its associated
data binds the header, its number and a "last chunk" flag: chunks cannot be reordered,
dropped, swapped between files, or the file cut short without decryption failing.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from django.utils.translation import gettext as _

MAGIC = b"KARTOTEKA-BACKUP-AESGCM-1\n"
CHUNK_SIZE = 1024 * 1024
SALT_SIZE = 16
NONCE_PREFIX_SIZE = 8
# scrypt: 2**15 x 8 x 128 bytes = 32 MiB and a fraction of a second per key, once per archive.
SCRYPT_LOG2_N = 15
SCRYPT_R = 8
SCRYPT_P = 1
_HEADER = struct.Struct(">16sBBB8s")
_CHUNK = struct.Struct(">BI")  # last-chunk flag, ciphertext length


class DecryptionError(Exception):
    """The archive cannot be decrypted: wrong passphrase, or the file was damaged."""


def derive_key(passphrase: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    if not passphrase:
        raise DecryptionError(_("No backup passphrase is set (KARTOTEKA_BACKUP_PASSPHRASE)."))
    kdf = Scrypt(salt=salt, length=32, n=2**log2_n, r=r, p=p)
    return kdf.derive(passphrase.encode("utf-8"))


def is_encrypted(path: os.PathLike[str] | str) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">QB", index, 1 if last else 0)


class EncryptingWriter:
    """A write-only file object that encrypts what is written to it into `target`.

    tarfile writes the archive into it in stream mode ("w|"), so the plaintext archive
    never touches the disk. `close()` seals the last chunk; it does not close `target`.
    """

    def __init__(self, target: BinaryIO, passphrase: str) -> None:
        salt = os.urandom(SALT_SIZE)
        self._prefix = os.urandom(NONCE_PREFIX_SIZE)
        self._header = _HEADER.pack(salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P, self._prefix)
        self._aes = AESGCM(derive_key(passphrase, salt, SCRYPT_LOG2_N, SCRYPT_R, SCRYPT_P))
        self._target = target
        self._buffer = bytearray()
        self._index = 0
        self._closed = False
        target.write(MAGIC + self._header)

    def write(self, data: bytes) -> int:
        self._buffer += data
        while len(self._buffer) > CHUNK_SIZE:
            self._seal(bytes(self._buffer[:CHUNK_SIZE]), last=False)
            del self._buffer[:CHUNK_SIZE]
        return len(data)

    def _seal(self, plaintext: bytes, *, last: bool) -> None:
        nonce = self._prefix + struct.pack(">I", self._index)
        sealed = self._aes.encrypt(nonce, plaintext, _aad(self._header, self._index, last))
        self._target.write(_CHUNK.pack(1 if last else 0, len(sealed)) + sealed)
        self._index += 1

    def close(self) -> None:
        if not self._closed:
            self._seal(bytes(self._buffer), last=True)
            self._buffer.clear()
            self._closed = True


def decrypt_chunks(source: BinaryIO, passphrase: str) -> Iterator[bytes]:
    """The plaintext of an encrypted archive, chunk by chunk; raises DecryptionError."""
    if source.read(len(MAGIC)) != MAGIC:
        raise DecryptionError(_("This file is not an encrypted Kartoteka backup."))
    header = source.read(_HEADER.size)
    if len(header) != _HEADER.size:
        raise DecryptionError(_("The encrypted backup is cut short."))
    salt, log2_n, r, p, prefix = _HEADER.unpack(header)
    aes = AESGCM(derive_key(passphrase, salt, log2_n, r, p))
    index = 0
    while True:
        head = source.read(_CHUNK.size)
        if len(head) != _CHUNK.size:
            raise DecryptionError(_("The encrypted backup is cut short."))
        flag, length = _CHUNK.unpack(head)
        sealed = source.read(length)
        if len(sealed) != length or length > CHUNK_SIZE + 16:
            raise DecryptionError(_("The encrypted backup is cut short."))
        last = flag == 1
        nonce = prefix + struct.pack(">I", index)
        try:
            yield aes.decrypt(nonce, sealed, _aad(header, index, last))
        except InvalidTag:
            raise DecryptionError(
                _("The backup cannot be decrypted: wrong passphrase, or the file is damaged.")
            ) from None
        index += 1
        if last:
            if source.read(1):
                raise DecryptionError(_("The encrypted backup has data after its end."))
            return


def decrypt_file(source_path: os.PathLike[str] | str, target: BinaryIO, passphrase: str) -> None:
    with open(source_path, "rb") as source:
        for chunk in decrypt_chunks(source, passphrase):
            target.write(chunk)
