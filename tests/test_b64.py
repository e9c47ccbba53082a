"""b64.py: chunked base64 is byte for byte the one-shot encoding, and decoding stays strict in
every chunk (the chunk is made tiny here, so that short buffers cross many boundaries)."""

import base64

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from symgrad import b64


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(b64, "CHUNK", 12)  # 16 characters a chunk


def decoded(text, n):
    out = np.full(n, 0xAA, np.uint8)
    b64.decode_into(text, out)
    return out.tobytes()


@pytest.mark.parametrize("n", [0, 1, 2, 3, 11, 12, 13, 23, 24, 25, 35, 36, 37, 100])
def test_pieces_join_into_the_standard_encoding_and_decode_back(tiny_chunks, n):
    data = np.random.default_rng(n).integers(0, 256, n, dtype=np.uint8).tobytes()
    pieces = list(b64.encode_pieces(data))
    assert len(pieces) == max(1, -(-n // 12))
    text = b"".join(pieces)
    assert text == base64.b64encode(data) == b64.encode(data)
    assert decoded(text, n) == data
    assert decoded(text.decode(), n) == data  # a str, as the JSON parser gives small ones


@settings(max_examples=80, derandomize=True, deadline=None)
@given(data=st.binary(max_size=200), groups=st.integers(1, 9))
def test_any_chunk_size_gives_the_same_bytes(data, groups):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(b64, "CHUNK", 3 * groups)
        text = b"".join(b64.encode_pieces(np.frombuffer(data, np.uint8)))
        assert text == base64.b64encode(data)
        assert decoded(text, len(data)) == data


def test_encode_takes_any_contiguous_buffer(tiny_chunks):
    value = np.arange(7, dtype=np.float64).reshape(7, 1)
    assert b"".join(b64.encode_pieces(value)) == base64.b64encode(value.tobytes())


@pytest.mark.parametrize("bad", ["!", "\\", '"', " ", "\n", "-", "_", "\u00e9"])
def test_a_bad_character_anywhere_is_refused(tiny_chunks, bad):
    data = bytes(range(49))  # 68 characters: four whole chunks and a padded one
    text = base64.b64encode(data).decode()
    for i in range(len(text)):
        with pytest.raises(ValueError):
            decoded(text[:i] + bad + text[i + 1:], len(data))


def test_padding_is_refused_before_the_end(tiny_chunks):
    data = bytes(range(49))
    text = base64.b64encode(data).decode()
    assert text.endswith("==")
    for i in range(len(text) - 2):  # "=" ending a chunk decodes, short: caught by its length
        with pytest.raises(ValueError):
            decoded(text[:i] + "=" + text[i + 1:], len(data))
    with pytest.raises(ValueError):  # the last group padded less than the length says
        decoded(text[:-1] + "A", len(data))
    with pytest.raises(ValueError, match="padding"):  # or more
        decoded(text, len(data) + 1)


@pytest.mark.parametrize("n", [26, 28, 33])
def test_the_text_must_fill_the_buffer_exactly(tiny_chunks, n):
    with pytest.raises(ValueError):
        decoded(base64.b64encode(bytes(30)), n)
