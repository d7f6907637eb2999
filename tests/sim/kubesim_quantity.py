"""Kubernetes resource quantities for the API simulator.

Parses quantity strings the way apimachinery's resource.ParseQuantity does
and renders them in the canonical form the real API server returns
("0.5" -> "500m", "1024Mi" -> "1Gi", "2000m" -> "2", "1e3" -> "1e3").
Exact arithmetic with fractions.Fraction; values are rounded up to nano
precision like Quantity does.
"""
import re
from fractions import Fraction

ERR_FORMAT = ("quantities must match the regular expression "
              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
ERR_SUFFIX = "unable to parse quantity's suffix"
ERR_NUMERIC = "unable to parse numeric part of quantity"

_RE = re.compile(r'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$')
_NUM = re.compile(r'^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$')

BINARY = {"Ki": 1, "Mi": 2, "Gi": 3, "Ti": 4, "Pi": 5, "Ei": 6}
DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9,
           "T": 12, "P": 15, "E": 18}
_DEC_SUFFIX = {v: k for k, v in DECIMAL.items()}
_BIN_SUFFIX = {v: k for k, v in BINARY.items()}


class QuantityError(ValueError):
    pass


def parse(s):
    """Return (Fraction value, format) with format 'DecimalSI', 'BinarySI'
    or 'DecimalExponent'.  Raises QuantityError with apimachinery's text."""
    if isinstance(s, bool) or s is None:
        raise QuantityError(ERR_FORMAT)
    if isinstance(s, int):
        return Fraction(s), "DecimalSI"
    if isinstance(s, float):
        s = repr(s)
        if "e" in s or "E" in s:
            return _round_nano(Fraction(float(s))), "DecimalExponent"
    if not isinstance(s, str):
        raise QuantityError(ERR_FORMAT)
    s = s.strip()
    if not s:
        raise QuantityError(ERR_FORMAT)
    m = _RE.match(s)
    if not m:
        raise QuantityError(ERR_FORMAT)
    num, suffix = m.group(1), m.group(2)
    if not _NUM.match(num):
        raise QuantityError(ERR_NUMERIC)
    value = Fraction(num)
    if suffix in BINARY:
        fmt = "BinarySI"
        value *= Fraction(1024) ** BINARY[suffix]
    elif suffix in DECIMAL:
        fmt = "DecimalSI"
        value *= Fraction(10) ** DECIMAL[suffix]
    elif re.match(r'^[eE][-+]?[0-9]+$', suffix):
        fmt = "DecimalExponent"
        value *= Fraction(10) ** int(suffix[1:])
    else:
        raise QuantityError(ERR_SUFFIX)
    return _round_nano(value), fmt


def _round_nano(v):
    """Quantities keep at most nano precision; round up (away from zero)."""
    scaled = v * 10 ** 9
    if scaled.denominator != 1:
        n = -((-abs(scaled.numerator)) // scaled.denominator)  # ceil(abs)
        if v < 0:
            n = -n
        return Fraction(n, 10 ** 9)
    return v


def value(s):
    """Fraction value of a quantity string (raises QuantityError)."""
    return parse(s)[0]


def to_float(s):
    return float(parse(s)[0])


def canonical(s):
    """Canonical string of a quantity as the API server serializes it."""
    v, fmt = parse(s)
    return format_value(v, fmt)


def format_value(v, fmt="DecimalSI"):
    v = Fraction(v)
    if v == 0:
        return "0"
    if fmt == "BinarySI":
        if -1024 < v < 1024 or v.denominator != 1:
            fmt = "DecimalSI"
        else:
            n = abs(v.numerator)
            e = 0
            while e < 6 and n % 1024 == 0:
                n //= 1024
                e += 1
            sign = "-" if v < 0 else ""
            return "%s%d%s" % (sign, n, _BIN_SUFFIX.get(e, ""))
    # decimal: mantissa integer, exponent multiple of 3 in [-9, 18]
    sign = "-" if v < 0 else ""
    a = abs(v)
    n9 = a * 10 ** 9  # integer (nano precision)
    n = int(n9)
    e = -9
    while e < 18 and n % 1000 == 0 and n != 0:
        n //= 1000
        e += 3
    if fmt == "DecimalExponent":
        return "%s%d%s" % (sign, n, ("e%d" % e) if e else "")
    return "%s%d%s" % (sign, n, _DEC_SUFFIX[e])


def go_string(q):
    """Quantity.String() for the invalid-value text in error messages."""
    try:
        return canonical(q)
    except QuantityError:
        return str(q)


if __name__ == "__main__":
    import sys
    for a in sys.argv[1:]:
        print(a, "->", canonical(a))
