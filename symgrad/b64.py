"""Base64 (standard alphabet, padded, no newlines, strict when decoding) of buffers of any size.

pybase64's SIMD codec turns 80 MB in about 5 ms; what costs is one output of that size: fresh
pages from the kernel, a fault for each 4 KB (about 50 ms for 107 MB). So large buffers are
coded in chunks of whole groups (3 bytes, 4 characters: the pieces join into the one-shot
encoding) of under a megabyte, whose outputs malloc recycles while they are still in cache.
pybase64 releases the GIL, but chunks coded on two threads made save and load slower on two
cores (worker threads' malloc arenas hand their pages back, and fault them in again).
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from typing import Any

import numpy as np

try:  # SIMD base64, several times faster than CPython's binascii
    import pybase64 as _b64
except ImportError:  # pragma: no cover - pybase64 is a dependency; binascii gives the same bytes
    _b64 = None

CHUNK = 3 << 18  # bytes of input per chunk (768 KB; 1 MB of base64): a multiple of 3


def encode(data: Any) -> bytes:
    """The base64 of a bytes-like object, in one call."""
    return _b64.b64encode(data) if _b64 is not None else binascii.b2a_base64(
        data, newline=False)


def decode(text: Any) -> bytes:
    """Strict base64 (a character outside the alphabet is binascii.Error), in one call."""
    if _b64 is not None:
        return _b64.b64decode(text, validate=True)
    return binascii.a2b_base64(text, strict_mode=True)


def encode_pieces(data: Any) -> Iterator[bytes]:
    """The base64 of a bytes-like object in pieces that join into `encode(data)`, each
    encoded when it is taken (a large buffer's base64 is never all held at once)."""
    view = memoryview(data).cast("B")
    step = CHUNK
    for i in range(0, max(len(view), 1), step):
        yield encode(view[i:i + step])


def decode_into(text: Any, out: np.ndarray) -> None:
    """Decodes strict base64 (str or bytes-like) into `out`, a writable uint8 array, which it
    must fill exactly; ValueError (binascii.Error among them) otherwise."""
    if len(text) != 4 * -(-len(out) // 3):
        raise ValueError(f"{len(text)} characters cannot hold {len(out)} bytes")
    if isinstance(text, str):
        text = text.encode("ascii", "replace")  # "?" is outside the alphabet: refused below
    text = memoryview(text).cast("B")
    step = CHUNK // 3 * 4
    for i in range(0, len(text), step):
        piece = decode(text[i:i + step])
        start = i // 4 * 3
        expected = min(len(out) - start, step // 4 * 3)
        if len(piece) != expected:  # the lengths agree, so "=" made it short
            raise ValueError("misplaced padding")
        out[start:start + expected] = np.frombuffer(piece, np.uint8)
