"""Finding input files and reading their bytes, gzipped or not."""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from isal import igzip, igzip_lib

GZIP_MAGIC = b"\x1f\x8b"
HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class SourceFile:
    """One input file.

    path: absolute path.
    size_bytes: size on disk (compressed size for .gz).
    sha256: hex digest of the bytes on disk; identifies the content across runs.
    is_gzip: recognised by its magic bytes, not its name.
    mtime_ns: modification time, to trust an earlier run's hash of an unchanged file.
    """

    path: Path
    size_bytes: int
    sha256: str
    is_gzip: bool
    mtime_ns: int = 0

    @property
    def key(self) -> str:
        """A short stable name for landing files: the content hash prefix."""
        return self.sha256[:20]


class UnreadableFile(Exception):
    """The bytes of a file cannot be read (truncated or corrupt gzip, I/O error)."""


def iter_input_paths(sources: Iterable[Path]) -> Iterator[Path]:
    """Every regular file under the given files and directories, sorted, hidden files skipped."""
    for source in sources:
        if source.is_file():
            yield source.resolve()
            continue
        for path in sorted(source.rglob("*")):
            relative = path.relative_to(source)
            if path.is_file() and not any(part.startswith(".") for part in relative.parts):
                yield path.resolve()


def describe_file(path: Path, known: dict[tuple[str, int, int], str] | None = None) -> SourceFile:
    """Size, content hash and gzip-ness of a file. ``known`` maps (path, size, mtime_ns) to the hash an
    earlier run computed, so a night hashes only files that are new or changed."""
    stat = path.stat()
    cached = (known or {}).get((str(path), stat.st_size, stat.st_mtime_ns))
    if cached is not None:
        with path.open("rb") as handle:
            is_gzip = handle.read(2) == GZIP_MAGIC
        return SourceFile(path, stat.st_size, cached, is_gzip, stat.st_mtime_ns)
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        first = handle.read(2)
        digest.update(first)
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return SourceFile(path, stat.st_size, digest.hexdigest(), first == GZIP_MAGIC, stat.st_mtime_ns)


def read_head(source: SourceFile, size: int = HEAD_BYTES) -> bytes:
    """The first bytes of the file's content (decompressed); a corrupt gzip gives what could be read."""
    if not source.is_gzip:
        with source.path.open("rb") as handle:
            return handle.read(size)
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    head = b""
    with source.path.open("rb") as handle:
        while len(head) < size:
            chunk = handle.read(1 << 16)
            if not chunk:
                break
            try:
                head += decompressor.decompress(chunk, size - len(head))
            except zlib.error:
                break
            if decompressor.unconsumed_tail:
                break
    return head


def read_content(source: SourceFile) -> bytes:
    """The whole content, decompressed; raises UnreadableFile naming what went wrong."""
    try:
        content = source.path.read_bytes()
        return igzip.decompress(content) if source.is_gzip else content
    except EOFError as error:
        raise UnreadableFile(f"truncated gzip: {error}") from error
    except (OSError, igzip_lib.IsalError) as error:
        raise UnreadableFile(f"unreadable file: {error}") from error
