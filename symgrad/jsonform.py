"""The JSON forms of what io.py saves: params with their exact types, constant values as base64
of little-endian bytes, shapes and dtypes; and the checks that a value read from a file has the
form expected (`Bad` says what is wrong). Knows nothing of graphs or ops.
"""

from __future__ import annotations

import contextlib
import json
import math
import struct
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import b64
from .errors import FormatError

# Fixed-size dtypes only: their bytes mean the same on every machine once little-endian.
DTYPES = {d.name: d for d in map(np.dtype, (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64", "complex64", "complex128"))}
_RAW = {name: d.newbyteorder("<") for name, d in DTYPES.items()}  # how values are stored


class Bad(Exception):
    """What is wrong with a file; `load` turns it into a FormatError naming the file."""


# -- writing -------------------------------------------------------------------------------------
def dtype_out(dtype: np.dtype | None, what: str) -> str | None:
    if dtype is not None and dtype.name not in DTYPES:
        raise FormatError(f"cannot save {what}: dtype {dtype} is not one of {sorted(DTYPES)}")
    return None if dtype is None else dtype.name


def param_out(value: Any, what: str) -> Any:
    """A param as JSON; types kept exact (1, 1.0 and True differ), tuples as arrays."""
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:  # a non-finite float as its IEEE-754 bits: JSON has no NaN, nor payloads
        return value if math.isfinite(value) else {"float": struct.pack(">d", value).hex()}
    if kind is tuple:
        return [param_out(v, what) for v in value]
    raise FormatError(f"cannot save {what}: {value!r} is of type {kind.__name__}; params are "
                      "None, bool, int, float, str and tuples of them")


def value_out(value: np.ndarray) -> tuple[dict, Iterator[bytes]]:
    """A constant's dtype and shape (JSON), and the base64 of its little-endian bytes in
    pieces, encoded as they are taken (a large constant's are never all held at once)."""
    raw = np.ascontiguousarray(value, dtype=_RAW[value.dtype.name])
    data = b64.encode_pieces(raw.reshape(-1).view(np.uint8))
    return {"dtype": raw.dtype.str, "shape": list(value.shape)}, data


def canonical(params: dict) -> str:
    """Params as text that tells 1, 1.0 and True apart, in key order."""
    return json.dumps([[k, param_out(params[k], "param")] for k in sorted(params)])


# -- reading -------------------------------------------------------------------------------------
def signature_in(value: Any, where: str) -> tuple:
    """[shape, dtype] as (tuple of int or None, numpy dtype)."""
    pair = list_in(value, where)
    if len(pair) != 2:
        raise Bad(f"{where}: a signature is [shape, dtype], got {short(value)}")
    shape = tuple(int_in(d, f"{where} shape dimension") if d is not None else None
                  for d in list_in(pair[0], f"{where} shape"))
    dtype = DTYPES.get(pair[1]) if isinstance(pair[1], str) else None
    if dtype is None:
        raise Bad(f"{where}: dtype {short(pair[1])} is not one of {sorted(DTYPES)}")
    return shape, dtype


def value_in(value: Any, signature: tuple, where: str, payloads: list[Any] | None = None
             ) -> np.ndarray:
    """A constant's array (new and read-only) from its base64 bytes, once dtype, shape and
    length agree; a data string "@k" is payload k, a large base64 string the loader took out
    before parsing, and is taken from the list (None in its place: it serves once)."""
    value = dict_in(value, f"{where} value")
    keys(value, ("dtype", "shape", "data"), (), f"{where} value")
    shape, dtype = signature
    raw = _RAW[dtype.name]
    stored = tuple(int_in(d, f"{where} value shape") for d in list_in(value["shape"], where))
    if value["dtype"] != raw.str or stored != shape:
        raise Bad(f"{where}: its value is {short(value['dtype'])} of shape {list(stored)}, "
                  f"the node says {raw.str} of shape {list(shape)}")
    data: Any = str_in(value["data"], f"{where} data")
    if data.startswith("@") and payloads:
        k = int(data[1:]) if data[1:].isascii() and data[1:].isdigit() else len(payloads)
        if k >= len(payloads) or payloads[k] is None:
            raise Bad(f"{where}: its data is not base64 ({short(data)})")
        data, payloads[k] = payloads[k], None
    n = math.prod(shape) * raw.itemsize
    if len(data) != 4 * -(-n // 3):
        raise Bad(f"{where}: {len(data)} base64 characters cannot hold {n} bytes")
    array = np.empty(shape, raw)
    try:  # straight into the array: a large value is never held twice
        b64.decode_into(data, array.reshape(-1).view(np.uint8))
    except ValueError as e:  # binascii.Error among them
        raise Bad(f"{where}: its data is not base64 ({e})") from None
    if dtype.kind == "b" and (array.view(np.uint8) > 1).any():
        raise Bad(f"{where}: a boolean value holds a byte other than 0 and 1")
    array = array.astype(dtype, copy=False)
    array.flags.writeable = False
    return array


def param_in(value: Any, where: str) -> Any:
    if value is None or type(value) in (bool, int, float, str):
        return value
    if type(value) is list:
        return tuple(param_in(v, where) for v in value)
    bits = value.get("float") if type(value) is dict and len(value) == 1 else None
    if type(bits) is str and len(bits) == 16:
        with contextlib.suppress(ValueError):
            number = struct.unpack(">d", bytes.fromhex(bits))[0]
            if not math.isfinite(number):  # a finite float is a JSON number, one way only
                return number
    raise Bad(f"{where}: {short(value)} is not a param value")


def keys(obj: dict, required: tuple, optional: tuple, where: str) -> None:
    missing = [k for k in required if k not in obj]
    unknown = [k for k in obj if k not in required and k not in optional]
    if missing or unknown:
        raise Bad(f"{where}: " + "; ".join([f"missing {missing}"] * bool(missing)
                                           + [f"unknown {unknown}"] * bool(unknown)))


def int_in(value: Any, what: str, low: int = 0, high: int | None = None) -> int:
    if type(value) is not int or value < low or (high is not None and value > high):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise Bad(f"{what} must be an integer {bounds}, got {short(value)}")
    return value


def str_in(value: Any, what: str) -> str:
    return _of(str, value, what, "a string")


def list_in(value: Any, what: str) -> list:
    return _of(list, value, what, "a list")


def dict_in(value: Any, what: str) -> dict:
    return _of(dict, value, what, "an object")


def _of(kind: type, value: Any, what: str, article: str) -> Any:
    if type(value) is not kind:  # exactly: bool is an int, and JSON tells them apart
        raise Bad(f"{what} must be {article}, got {short(value)}")
    return value


def short(value: Any) -> str:
    """A JSON value for a message: files can hold megabytes in one string."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
