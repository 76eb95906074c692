"""Rebuilds values sent by the sandbox runner, and compares them on the host.

The tagged JSON form is written by `colbench.sandbox.guest.encode`. Everything arriving
here was produced by untrusted code, so the decoder accepts only well-formed nodes of the
known tags and rebuilds plain trusted types; comparison then uses Python's own equality
rules on those (1 == 1.0, a Counter equals the same dict, a list never equals a tuple).
"""

from __future__ import annotations

import base64
import binascii
import collections
import datetime
import decimal
import fractions
from typing import Any

import numpy as np


class NotComparable:
    """A value the sandbox would not vouch for (user class, lying subclass, too big).

    It equals nothing, not even another NotComparable, so a test involving one fails.
    """

    __slots__ = ("reason",)

    def __init__(self, reason: str):
        self.reason = reason

    def __eq__(self, other: object) -> bool:
        return False

    def __ne__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self) -> str:
        return f"<not comparable: {self.reason}>"


class DecodeError(ValueError):
    pass


class ClassRef:
    """A standard-library class sent by its qualified name (e.g. the builtin `int`).

    Classes compare by identity and a standard-library class is the same object under the
    same name in every process, so two ClassRefs are equal exactly when the classes were
    the same: Python's `[int, str] == [int, str]` holds, `int == float` does not, and a
    class never equals anything that is not a class."""

    __slots__ = ("module", "qualname")

    def __init__(self, module: str, qualname: str):
        self.module = module
        self.qualname = qualname

    def __eq__(self, other: object) -> bool:
        return (type(other) is ClassRef and other.module == self.module
                and other.qualname == self.qualname)

    def __ne__(self, other: object) -> bool:
        return not self == other

    def __hash__(self) -> int:
        return hash((ClassRef, self.module, self.qualname))

    def __repr__(self) -> str:
        name = self.qualname if self.module == "builtins" else f"{self.module}.{self.qualname}"
        return f"<class {name!r}>"


_NUMPY_KINDS = "biufcUS"


# Work bounds for rebuilding one value, beyond the runner's size limits: inputs within
# those limits that would cost quadratic time on the host are refused (not comparable).
# Each bound is about half a second of this machine's time at most.
# - Fractions are reduced on construction (a gcd, quadratic in the parts' length): the sum
#   over a value's fractions of (bits of the longer part)**2.
MAX_FRACTION_WORK = 2**38
# - Sets and dict keys whose elements share a hash compare each new element with every
#   earlier one of that hash: the sum over a value's sets and dicts of (count of elements
#   per hash)**2, added over the hashes.
MAX_COLLISION_WORK = 2**23


class _TooCostly(Exception):
    pass


def decode(node: Any) -> Any:
    """Rebuilds a value from its tagged form; malformed input, or input that would cost
    more than the work bounds above to rebuild, gives a NotComparable."""
    try:
        return _Decoder().dec(node)
    except _TooCostly as exc:
        return NotComparable(f"value too costly to rebuild ({exc})")
    except (DecodeError, ValueError, TypeError, KeyError, IndexError, OverflowError,
            RecursionError, binascii.Error, decimal.InvalidOperation, ZeroDivisionError) as exc:
        return NotComparable(f"malformed value ({type(exc).__name__})")


def _int(node: Any) -> int:
    if type(node) is int:
        return node
    if type(node) is dict and len(node) == 1 and type(node.get("I")) is str:
        return int(node["I"], 16)
    raise DecodeError("bad int")


def _list(node: Any) -> list:
    if type(node) is not list:
        raise DecodeError("expected a list")
    return node


def _b64(node: Any) -> bytes:
    if type(node) is not str:
        raise DecodeError("bad bytes")
    return base64.b64decode(node, validate=True)


def _dtype(node: Any) -> np.dtype:
    if type(node) is not str:
        raise DecodeError("bad dtype")
    dt = np.dtype(node)
    if dt.kind not in _NUMPY_KINDS or dt.fields is not None or dt.subdtype is not None:
        raise DecodeError("untrusted dtype")
    return dt


class _Decoder:
    """One value's decoding, with its work counted against the bounds above."""

    def __init__(self) -> None:
        self.fraction_work = 0
        self.collision_work = 0

    def _hashed(self, keys: list[Any]) -> None:
        """Counts the work of putting `keys` in one set or dict (before doing it)."""
        if len(keys) < 2:
            return
        per_hash = collections.Counter(map(hash, keys))
        if len(per_hash) == len(keys):
            return  # every hash distinct: linear, the common case
        self.collision_work += sum(n * n for n in per_hash.values() if n > 1)
        if self.collision_work > MAX_COLLISION_WORK:
            raise _TooCostly("too many set elements or dict keys with equal hashes")

    def _fraction(self, num: int, den: int) -> fractions.Fraction:
        bits = max(num.bit_length(), den.bit_length(), 64)
        self.fraction_work += bits * bits
        if self.fraction_work > MAX_FRACTION_WORK:
            raise _TooCostly("fractions with too long numerators or denominators")
        return fractions.Fraction(num, den)

    def _pairs(self, node: Any) -> list[tuple[Any, Any]]:
        out = []
        for pair in _list(node):
            if type(pair) is not list or len(pair) != 2:
                raise DecodeError("bad pair")
            out.append((self.dec(pair[0]), self.dec(pair[1])))
        self._hashed([k for k, _ in out])
        return out

    def _elements(self, node: Any) -> list[Any]:
        out = [self.dec(x) for x in _list(node)]
        self._hashed(out)
        return out

    def dec(self, node: Any) -> Any:
        t = type(node)
        if t is str or t is bool or node is None or t is float:
            return node
        if t is int:
            return node
        if t is not dict or len(node) == 0:
            raise DecodeError("bad node")
        if "x" in node:
            return NotComparable(str(node["x"])[:200])
        dec = self.dec
        if len(node) == 1:
            (tag, body), = node.items()
            if tag == "I":
                return _int(node)
            if tag == "l":
                return [dec(x) for x in _list(body)]
            if tag == "t":
                return tuple(dec(x) for x in _list(body))
            if tag == "d":
                return dict(self._pairs(body))
            if tag == "s":
                return set(self._elements(body))
            if tag == "f":
                return frozenset(self._elements(body))
            if tag == "b":
                return _b64(body)
            if tag == "ba":
                return bytearray(_b64(body))
            if tag == "r":
                start, stop, step = (_int(x) for x in _list(body))
                return range(start, stop, step)
            if tag == "T":
                module, qualname = _list(body)
                if type(module) is not str or type(qualname) is not str:
                    raise DecodeError("bad class name")
                return ClassRef(module, qualname)
            if tag == "c":
                re, im = _list(body)
                if type(re) is not float or type(im) is not float:
                    raise DecodeError("bad complex")
                return complex(re, im)
            if tag == "D":
                if type(body) is not str:
                    raise DecodeError("bad decimal")
                return decimal.Decimal(body)
            if tag == "Q":
                num, den = _list(body)
                return self._fraction(_int(num), _int(den))
            if tag in ("dt", "tm", "da"):
                if type(body) is not str:
                    raise DecodeError("bad date")
                parse = {"dt": datetime.datetime.fromisoformat, "tm": datetime.time.fromisoformat,
                         "da": datetime.date.fromisoformat}[tag]
                return parse(body)
            if tag == "td":
                days, seconds, micro = (_int(x) for x in _list(body))
                return datetime.timedelta(days=days, seconds=seconds, microseconds=micro)
            if tag == "C":
                return collections.Counter(dict(self._pairs(body)))
            if tag == "O":
                return collections.OrderedDict(self._pairs(body))
            if tag == "dd":
                return collections.defaultdict(None, self._pairs(body))
            if tag == "q":
                return collections.deque(dec(x) for x in _list(body))
        if set(node) == {"n", "b"}:
            dt = _dtype(node["n"])
            raw = _b64(node["b"])
            if len(raw) != dt.itemsize:
                raise DecodeError("bad numpy scalar")
            return np.frombuffer(raw, dtype=dt)[0]
        if set(node) == {"a", "sh", "b"}:
            dt = _dtype(node["a"])
            shape = tuple(_int(x) for x in _list(node["sh"]))
            if any(n < 0 for n in shape):
                raise DecodeError("bad shape")
            raw = _b64(node["b"])
            arr = np.frombuffer(raw, dtype=dt)
            return arr.reshape(shape).copy()
        raise DecodeError("unknown tag")


def values_equal(expected: Any, actual: Any, *, compat: bool = False) -> bool:
    """Whether a candidate's value equals the reference's.

    Both sides are decoded trusted values, so == runs only trusted code, with Python's own
    rules (numpy scalars compare as numbers: np.float64(1.5) == 1.5). numpy arrays, by
    default, are equal when their shapes and elements are; under compat the original
    checker's rule holds instead (its `if expected == actual` raised ValueError for arrays
    of more than one element, which counted as a failure).
    """
    if isinstance(expected, NotComparable) or isinstance(actual, NotComparable):
        return False
    if not compat and (_has_array(expected) or _has_array(actual)):
        return _structural_equal(expected, actual)
    try:
        return bool(expected == actual)
    except (ValueError, TypeError):
        return False


_LEAVES = frozenset({int, float, str, bool, type(None), bytes, complex})


def _has_array(v: Any, depth: int = 0) -> bool:
    if type(v) in _LEAVES:
        return False
    if isinstance(v, np.ndarray):
        return True
    if depth > 200:
        return False
    if isinstance(v, (list, tuple, collections.deque)):
        return any(_has_array(x, depth + 1) for x in v)
    if isinstance(v, dict):
        return any(_has_array(x, depth + 1) for x in v.values())
    return False


def _structural_equal(a: Any, b: Any) -> bool:
    """Python equality, except that arrays compare by shape and elements."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)
                and a.shape == b.shape and bool(np.array_equal(a, b)))
    if isinstance(a, (list, tuple, collections.deque)):
        return (type(a) is type(b) and len(a) == len(b)
                and all(_structural_equal(x, y) for x, y in zip(a, b)))
    if isinstance(a, dict) and isinstance(b, dict):
        if isinstance(a, collections.OrderedDict) and isinstance(b, collections.OrderedDict):
            if list(a) != list(b):
                return False
        return a.keys() == b.keys() and all(_structural_equal(a[k], b[k]) for k in a)
    try:
        return bool(a == b)
    except (ValueError, TypeError):
        return False
