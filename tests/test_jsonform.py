"""jsonform.py: the JSON forms of params and constant values, and the checks of values read."""

import math

import numpy as np
import pytest

import symgrad as sg
from symgrad.jsonform import Bad, int_in, param_in, param_out, signature_in, value_in, value_out


@pytest.mark.parametrize("value", [None, True, 0, 1, 1.0, -0.0, "axis", (1, (2.5, None)), (),
                                   math.inf, -math.inf, 10**30])
def test_a_param_reads_back_as_itself(value):
    back = param_in(param_out(value, "p"), "p")
    assert back == value and type(back) is type(value)
    assert repr(back) == repr(value)  # -0.0 stays -0.0


def test_a_nan_param_keeps_its_bits():
    nan = np.frombuffer(np.uint64(0x7FF8000000000123).tobytes(), np.float64)[0].item()
    assert param_out(nan, "p") == {"float": "7ff8000000000123"}
    assert np.float64(param_in({"float": "7ff8000000000123"}, "p")).tobytes() == \
        np.float64(nan).tobytes()


@pytest.mark.parametrize("bad", [[1, {"x": 1}], {"float": "3ff0000000000000"}, {"float": "zz"},
                                 {"float": "7ff8000000000000", "more": 1}])
def test_what_is_not_a_param_value(bad):
    with pytest.raises(Bad, match="is not a param value"):
        param_in(bad, "p")


def test_params_of_other_types_cannot_be_saved():
    with pytest.raises(sg.FormatError, match="np.float64|float64"):
        param_out(np.float64(1.0), "node n, param 'slope'")
    with pytest.raises(sg.FormatError, match="is of type list"):
        param_out([1, 2], "p")


def test_a_value_reads_back_bit_for_bit():
    value = np.array([[np.nan, -0.0], [5e-324, np.inf]], dtype=">f8")
    meta, data = value_out(value)
    assert meta == {"dtype": "<f8", "shape": [2, 2]}
    text = b"".join(data).decode()
    back = value_in({**meta, "data": text}, ((2, 2), np.dtype("float64")), "node 1")
    assert back.tobytes() == value.astype("<f8").tobytes() and not back.flags.writeable


def test_checks_tell_json_types_apart():
    with pytest.raises(Bad, match="must be an integer >= 0, got True"):
        int_in(True, "id")
    with pytest.raises(Bad, match="dtype 'float128' is not one of"):
        signature_in([[2], "float128"], "node 1")
    assert signature_in([[None, 3], "float32"], "node 1") == ((None, 3), np.dtype("float32"))
