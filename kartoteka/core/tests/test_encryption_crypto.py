"""core.crypto (values) and core.encrypted_files (chunked files): formats, tamper checks, the
key file and how a running process follows changes to it."""

import io
import os

import pytest

from kartoteka.core import crypto, encrypted_files

CANARY = "CANARY-Астма-7f3a"


@pytest.fixture(autouse=True)
def key_file(tmp_path, settings):
    settings.KARTOTEKA_ENCRYPTION_KEY_FILE = tmp_path / "data" / "encryption.keys"
    return tmp_path / "data" / "encryption.keys"


def test_the_key_file_is_created_private_with_one_key(key_file):
    assert crypto.current_key_id() == "1"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert len(key_file.read_text().splitlines()) == 1


def test_values_round_trip_and_are_bound_to_their_purpose():
    token = crypto.encrypt(CANARY, purpose="health-note")
    assert token.startswith("kt1.1.")
    assert CANARY not in token
    assert crypto.is_encrypted(token)
    assert crypto.token_key_id(token) == "1"
    assert crypto.decrypt(token, purpose="health-note") == CANARY
    assert crypto.encrypt(CANARY, purpose="health-note") != token  # a fresh nonce each time
    with pytest.raises(crypto.DecryptionError, match="cannot be decrypted"):
        crypto.decrypt(token, purpose="totp")
    assert crypto.decrypt_bytes(crypto.encrypt_bytes(b"\x00\xff", purpose="p"), purpose="p") == (
        b"\x00\xff"
    )


@pytest.mark.parametrize("value", ["", "plain text", "kt1.only-two", "kt1.1.x.y"])
def test_plaintext_is_not_mistaken_for_a_token(value):
    assert not crypto.is_encrypted(value)
    assert crypto.token_key_id(value) == ""


def test_add_key_makes_it_current_and_keeps_old_values_readable(key_file):
    old = crypto.encrypt(CANARY, purpose="p")

    assert crypto.add_key() == "2"

    assert crypto.current_key_id() == "2"
    assert key_file.stat().st_mode & 0o777 == 0o600
    assert crypto.decrypt(old, purpose="p") == CANARY
    moved = crypto.reencrypt(old, purpose="p")
    assert moved.startswith("kt1.2.")
    assert crypto.reencrypt(moved, purpose="p") == moved  # already current: untouched
    assert crypto.decrypt(moved, purpose="p") == CANARY


def test_retiring_a_key_makes_its_values_undecryptable_and_never_the_current_one():
    old = crypto.encrypt(CANARY, purpose="p")
    crypto.add_key()
    crypto.retire_keys({"1"})

    assert set(crypto.keyring()[0]) == {"2"}
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(old, purpose="p")
    with pytest.raises(ValueError, match="current key"):
        crypto.retire_keys({"2"})


def test_a_key_added_by_another_process_is_seen_without_restarting(key_file):
    crypto.current_key_id()  # cached now
    # Another process (rotate_keys) appends a key and re-encrypts a value with it.
    with key_file.open("a") as handle:
        handle.write(f"7:{crypto._b64(os.urandom(32))}\n")
    os.utime(key_file, ns=(1, key_file.stat().st_mtime_ns + 1_000_000))

    assert crypto.current_key_id() == "7"


def test_a_broken_key_file_is_reported(key_file):
    key_file.parent.mkdir(parents=True, exist_ok=True)
    key_file.write_text("1:c2hvcnQ\n")
    with pytest.raises(crypto.DecryptionError, match="not a 256-bit key"):
        crypto.keyring()


# --- Files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "size", [0, 1, encrypted_files.CHUNK_SIZE - 1, encrypted_files.CHUNK_SIZE, 200_000]
)
def test_files_round_trip_at_every_size(size):
    data = os.urandom(size)
    sealed = encrypted_files.encrypt_bytes(data, purpose="f")
    assert encrypted_files.is_encrypted(sealed)
    assert encrypted_files.file_key_id(io.BytesIO(sealed)) == "1"
    assert encrypted_files.decrypt_bytes(sealed, purpose="f") == data


def test_a_canary_in_a_file_is_not_in_its_ciphertext():
    data = (CANARY.encode() + b"\n") * 20_000  # several chunks of the same text
    sealed = encrypted_files.encrypt_bytes(data, purpose="f")
    assert CANARY.encode() not in sealed


def _damaged(sealed: bytes, how: str) -> bytes:
    chunk = encrypted_files.CHUNK_SIZE + encrypted_files.TAG_BYTES
    # magic, version, key id length, key id "1", chunk size, nonce prefix
    header = len(encrypted_files.MAGIC) + 1 + 1 + 1 + 4 + encrypted_files.PREFIX_BYTES
    body = sealed[header:]
    if how == "flipped bit":
        return sealed[:-3] + bytes([sealed[-3] ^ 1]) + sealed[-2:]
    if how == "cut at a chunk":
        return sealed[: header + chunk]
    if how == "last chunk dropped":
        return sealed[: header + 2 * chunk]
    if how == "chunks swapped":
        return sealed[:header] + body[chunk : 2 * chunk] + body[:chunk] + body[2 * chunk :]
    if how == "header edited":
        return sealed[:12] + bytes([sealed[12] ^ 1]) + sealed[13:]
    return sealed[:header]  # header only


@pytest.mark.parametrize(
    "how",
    [
        "flipped bit",
        "cut at a chunk",
        "last chunk dropped",
        "chunks swapped",
        "header edited",
        "header only",
    ],
)
def test_altered_or_truncated_files_fail(how):
    sealed = encrypted_files.encrypt_bytes(os.urandom(3 * encrypted_files.CHUNK_SIZE), purpose="f")
    with pytest.raises(encrypted_files.FileDecryptionError):
        encrypted_files.decrypt_bytes(_damaged(sealed, how), purpose="f")


def test_a_file_is_bound_to_its_purpose_and_its_key():
    sealed = encrypted_files.encrypt_bytes(b"thumbnail", purpose="document-thumbnail")
    with pytest.raises(encrypted_files.FileDecryptionError):
        encrypted_files.decrypt_bytes(sealed, purpose="document-file")
    crypto.add_key()
    crypto.retire_keys({"1"})
    with pytest.raises(encrypted_files.FileDecryptionError):
        encrypted_files.decrypt_bytes(sealed, purpose="document-thumbnail")


def test_not_our_format_is_refused_clearly():
    with pytest.raises(encrypted_files.FileDecryptionError, match="not an encrypted file"):
        encrypted_files.decrypt_bytes(b"%PDF-1.4 plain", purpose="f")


class CountingSource(io.RawIOBase):
    """A large file that is never in memory: counts the biggest read asked of it."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.largest_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        self.largest_read = max(self.largest_read, len(buffer))
        size = min(len(buffer), self.left, 8192)  # storage streams return short reads
        buffer[:size] = b"x" * size
        self.left -= size
        return size


def test_encryption_and_decryption_read_one_chunk_at_a_time():
    source = CountingSource(20 * 1024 * 1024)
    sealed, key_id = encrypted_files.encrypt_stream(source, purpose="f")
    assert key_id == "1"
    assert source.largest_read <= encrypted_files.CHUNK_SIZE
    assert sealed._rolled  # type: ignore[attr-defined]  # spilled to disk, not kept in RAM

    with encrypted_files.DecryptingReader(sealed, purpose="f") as reader:
        total = 0
        for block in iter(lambda: reader.read(1024 * 1024), b""):
            assert len(block) <= encrypted_files.CHUNK_SIZE
            total += len(block)
    assert total == 20 * 1024 * 1024
    assert sealed.closed
