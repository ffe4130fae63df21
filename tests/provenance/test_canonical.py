"""RFC 8785 canonical JSON: the RFC's own examples and number serialisation samples."""

import json
import math
import struct

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from provenance.standards.canonical import CanonicalJsonError, _stdlib_writes_it, canonical_json

# RFC 8785 §3.2.2: the parsed input, and the canonical output the RFC gives for it.
RFC_3_2_2_INPUT = r"""{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
  "literals": [null, true, false]
}"""
RFC_3_2_2_OUTPUT = (
    '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
    '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
)

# RFC 8785 §3.2.3: member names sorted by UTF-16 code units, in the order the RFC lists.
RFC_3_2_3_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "\r": "Carriage Return",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\ud83d\ude00": "Emoji: Grinning Face",
  "\u0080": "Control",
  "\u00f6": "Latin Small Letter O With Diaeresis"
}"""
RFC_3_2_3_ORDER = [
    "Carriage Return",
    "One",
    "Control",
    "Latin Small Letter O With Diaeresis",
    "Euro Sign",
    "Emoji: Grinning Face",
    "Hebrew Letter Dalet With Dagesh",
]

# RFC 8785 Appendix B, "Number Serialization Samples": IEEE 754 bit patterns and their serialisation
# (finite values; NaN and Infinity are errors, tested below).
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]

# github.com/cyberphone/json-canonicalization (the RFC authors' reference implementations),
# testdata/input/weird.json and testdata/output/weird.json.
WEIRD_INPUT = r"""{
  "\u20ac": "Euro Sign",
  "1": "One",
  "\u0080": "Control\u007f",
  "\ud83d\ude02": "Smiley",
  "\u00f6": "Latin Small Letter O With Diaeresis",
  "\ufb33": "Hebrew Letter Dalet With Dagesh",
  "</script>": "Browser Challenge"
}"""
WEIRD_OUTPUT = (
    '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
    '"ö":"Latin Small Letter O With Diaeresis","€":"Euro Sign","😂":"Smiley",'
    '"\ufb33":"Hebrew Letter Dalet With Dagesh"}'
)

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=("Cs",)), max_size=5), children, max_size=4
        )
    ),
    max_leaves=20,
)


def test_the_rfc_example_serialises_as_the_rfc_shows():
    assert canonical_json(json.loads(RFC_3_2_2_INPUT)) == RFC_3_2_2_OUTPUT.encode("utf-8")


def test_member_names_are_sorted_by_utf16_code_units():
    output = canonical_json(json.loads(RFC_3_2_3_INPUT)).decode("utf-8")
    assert list(json.loads(output).values()) == RFC_3_2_3_ORDER
    assert output.startswith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"')


def test_the_reference_implementation_weird_vector():
    assert canonical_json(json.loads(WEIRD_INPUT)) == WEIRD_OUTPUT.encode("utf-8")


@pytest.mark.parametrize(("bits", "expected"), APPENDIX_B)
def test_numbers_serialise_as_in_appendix_b(bits, expected):
    (value,) = struct.unpack(">d", bytes.fromhex(bits))
    assert canonical_json(value) == expected.encode("ascii")


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, [1.0, math.nan], {"a": math.inf}])
def test_nan_and_infinity_have_no_canonical_form(value):
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


@pytest.mark.parametrize(
    "value",
    [b"bytes", {1, 2}, object(), {1: "non-string key"}, 2**53, -(2**53), "\ud800", {"\udc00": 1}],
)
def test_values_outside_i_json_are_rejected(value):
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


def test_deep_nesting_is_an_error_not_a_crash():
    value: list = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


def test_tuples_are_arrays_and_integers_keep_their_digits():
    assert canonical_json({"b": (1, 2), "a": 9007199254740991}) == b'{"a":9007199254740991,"b":[1,2]}'


@given(json_values)
def test_canonical_json_is_stable_under_a_round_trip(value):
    # JSON numbers are IEEE 754 doubles to RFC 8785: the double 2**53 is written "9007199254740992",
    # which would come back as an int outside the I-JSON range if integers were read as int.
    once = canonical_json(value)
    assert canonical_json(json.loads(once, parse_int=float)) == once


def test_an_integral_double_beyond_the_safe_integers_is_written_without_a_fraction():
    assert canonical_json(2.0**53) == b"9007199254740992"
    with pytest.raises(CanonicalJsonError):
        canonical_json(2**53)


def _reference(value: object) -> bytes | None:
    """The rfc8785 package's own output, or None where it has none."""
    try:
        return rfc8785.dumps(value)
    except (rfc8785.CanonicalizationError, UnicodeError, RecursionError):
        return None


any_double = st.floats(allow_nan=False, allow_infinity=False) | st.builds(
    lambda bits: struct.unpack(">d", struct.pack(">Q", bits))[0], st.integers(0, 2**64 - 1)
).filter(math.isfinite)
plain_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**54), max_value=2**54)
    | any_double
    | st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=12),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(max_codepoint=127), max_size=6), children, max_size=4
        )
        | st.dictionaries(st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=16,
)


@settings(max_examples=1500, deadline=None)
@given(plain_values)
def test_the_standard_library_path_writes_exactly_what_the_reference_writes(value):
    expected = _reference(value)
    if expected is None:
        with pytest.raises(CanonicalJsonError):
            canonical_json(value)
    else:
        assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "number",
    [
        0.1,
        0.7,
        -0.5,
        1e-4,
        0.00011,
        123456789012345.6,
        999999999999999.9,
        1.5e15 + 0.5,
        2.5e-3,
        5e-324,
        1e-7,
        1e16 + 2.0,
        1e21,
        1.7976931348623157e308,
        0.0,
        -0.0,
        3.0,
        9007199254740993.0,
    ],
)
def test_doubles_at_the_edges_of_fixed_notation_are_written_as_the_reference_writes(number):
    assert canonical_json({"n": [number, -number]}) == rfc8785.dumps({"n": [number, -number]})


def test_a_records_parameters_take_the_standard_library_path():
    assert _stdlib_writes_it({"temperature": 0.7, "seed": 7, "stop": ["\n"], "top_p": 0.95, "model": "x"})
    assert not _stdlib_writes_it({"temperature": 1.0})  # integral doubles are written as integers
    assert not _stdlib_writes_it({"é": 1})  # sorted by UTF-16 units: the reference's path
