"""Hashing and storing files: every stored file has its SHA-256 in its row."""

import hashlib
from pathlib import Path

# Large enough that hashing a multi-GB checkpoint does not spend its time in Python calls.
HASH_CHUNK_BYTES = 1 << 20


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def stored_file_sha256(field) -> str:
    """SHA-256 of a FileField's content, read through its storage (works for any backend)."""
    digest = hashlib.sha256()
    with field.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()
