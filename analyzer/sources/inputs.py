"""Opening log inputs: plain files, compressed files (gzip, bzip2, xz, zstd) and stdin.

Compression is recognised by the file's magic bytes, not its name, so a ``.log`` that is
really gzip (or a ``.gz`` piped through stdin) is read correctly.  Text is decoded as UTF-8
with ``surrogateescape``: invalid bytes survive a round trip, so fingerprints and class IDs
are computed over the exact bytes the server wrote.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import os
import sys
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

from analyzer.errors import InputError

BLOCK_SIZE = 1 << 18

_MAGIC = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bzip2"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
)


@dataclass
class LogInput:
    """An opened input: a decompressed byte stream plus what progress reporting needs."""

    name: str
    stream: BinaryIO
    compression: str | None
    size: int | None  # bytes on disk, None for stdin
    _raw: BinaryIO
    start: int = 0  # first byte, for a range of a plain file
    end: int | None = None  # byte after the last one of the range

    def position(self) -> int:
        """Bytes consumed from the underlying file (compressed bytes for compressed input);
        for a byte range, bytes consumed from the range."""
        try:
            return self._raw.tell() - self.start
        except (OSError, ValueError):
            return 0

    def close(self) -> None:
        if self.stream is not self._raw:
            self.stream.close()
        if self._raw is not sys.stdin.buffer:
            self._raw.close()


def is_url(path: str) -> bool:
    """An fsspec URL (``s3://bucket/slow.log``, ``gs://...``, ``file://...``), not a local path."""
    scheme, sep, _ = path.partition("://")
    return bool(sep) and scheme.replace("+", "").replace("-", "").isalnum() and len(scheme) > 1


def _open_url(path: str) -> tuple[BinaryIO, int | None]:
    """A URL opened with fsspec (its backend for the scheme must be installed: s3fs, gcsfs, ...)."""
    try:
        import fsspec
    except ImportError:
        raise InputError(f"{path}: reading URLs needs fsspec (pip install 'mysql-query-analyzer[dask]')") from None
    try:
        fs, target = fsspec.core.url_to_fs(path)
    except (ImportError, ValueError) as exc:
        raise InputError(f"{path}: cannot read this URL ({' '.join(str(exc).split())})") from None
    try:
        size = fs.size(target)
        handle = fs.open(target, "rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot open ({' '.join(str(exc).split())})") from None
    return handle, size


def open_raw(path: str) -> BinaryIO:
    """A local file or an fsspec URL, opened for reading bytes as they are (no decompression)."""
    if is_url(path):
        return _open_url(path)[0]
    return open(path, "rb")


def open_log(path: str) -> LogInput:
    """Open ``path`` (or ``-`` for stdin) for reading, transparently decompressing it.

    Raises ``InputError`` with a one-line message for a missing file, a directory or an
    unreadable file.
    """
    if path == "-":
        raw: BinaryIO = sys.stdin.buffer
        size = None
        name = "<stdin>"
    elif is_url(path):
        raw, size = _open_url(path)
        name = path
    else:
        if os.path.isdir(path):
            raise InputError(f"{path}: is a directory; give the slow log file(s) inside it")
        try:
            raw = open(path, "rb")  # noqa: SIM115 - closed by LogInput.close
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except PermissionError:
            raise InputError(f"{path}: permission denied") from None
        except OSError as exc:
            raise InputError(f"{path}: cannot open ({exc.strerror or exc})") from None
        size = os.fstat(raw.fileno()).st_size
        name = path
    peekable = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
    head = peekable.peek(8)[:8]
    compression = next((kind for magic, kind in _MAGIC if head.startswith(magic)), None)
    stream = _decompressor(peekable, compression, name)
    return LogInput(name=name, stream=stream, compression=compression, size=size, _raw=peekable)


def open_log_range(path: str, start: int, end: int) -> LogInput:
    """Open bytes ``start`` to ``end`` of an uncompressed file (one chunk of a parallel read)."""
    log = open_log(path)
    if log.compression is not None:
        log.close()
        raise InputError(f"{path}: compressed files cannot be read in byte ranges")
    log._raw.seek(start)
    log.start, log.end = start, end
    return log


def is_splittable(path: str) -> bool:
    """True for a regular, uncompressed file, which can be read in parallel byte ranges."""
    if path == "-" or is_url(path) or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError:
        return False
    return not any(head.startswith(magic) for magic, _ in _MAGIC)


def _decompressor(raw: BinaryIO, compression: str | None, name: str) -> BinaryIO:
    if compression is None:
        return raw
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    if compression == "bzip2":
        return bz2.BZ2File(raw)  # type: ignore[return-value]
    if compression == "xz":
        return lzma.LZMAFile(raw)  # type: ignore[return-value]
    try:
        import zstandard
    except ImportError:  # pragma: no cover - zstandard is a declared dependency
        raise InputError(f"{name}: zstd-compressed; install the 'zstandard' package") from None
    return zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)  # type: ignore[return-value]


def iter_text_blocks(log: LogInput, block_size: int = BLOCK_SIZE) -> Iterator[str]:
    """Yield the input as decoded text blocks that always end at a line break.

    Blocks are cut at the last ``\\n`` of each read so a multi-byte character is never split.
    In a log whose first line ends with ``\\r\\n`` (a log converted to Windows line ends) every
    ``\\r\\n`` becomes ``\\n``; elsewhere a ``\\r`` is a byte of a statement the server wrote
    verbatim (in a string literal, say) and stays.  The final block may lack a trailing newline.
    """
    carry: list[bytes] = []  # the bytes after the last line break (a long line: many reads)
    crlf: bool | None = None  # decided by the first line end
    read = log.stream.read
    remaining = None if log.end is None else log.end - log.start
    while True:
        if remaining is not None:
            if remaining <= 0:
                break
            block_size = min(block_size, remaining)
        try:
            chunk = read(block_size)
        except (OSError, EOFError, lzma.LZMAError, zlib.error) as exc:
            raise InputError(f"{log.name}: cannot decompress ({exc})") from None
        except Exception as exc:  # zstandard.ZstdError has no common base with the others
            if type(exc).__module__.startswith("zstandard"):
                raise InputError(f"{log.name}: cannot decompress ({exc})") from None
            raise
        if not chunk:
            break
        if remaining is not None:
            remaining -= len(chunk)
        cut = chunk.rfind(b"\n")
        if cut < 0:  # inside a long line: kept in pieces, joined once (never copied per read)
            carry.append(chunk)
            continue
        if carry:
            carry.append(chunk)
            data = b"".join(carry)
            cut += len(data) - len(chunk)
        else:
            data = chunk
        carry = [data[cut + 1 :]] if cut + 1 < len(data) else []
        if crlf is None:
            first_end = data.find(b"\n")
            crlf = first_end > 0 and data[first_end - 1] == 13  # b"\r"
        text = data[: cut + 1].decode("utf-8", "surrogateescape")
        if crlf and "\r" in text:
            text = text.replace("\r\n", "\n")
        yield text
    if carry:
        text = b"".join(carry).decode("utf-8", "surrogateescape")
        yield text.replace("\r\n", "\n") if crlf and "\r" in text else text
