"""Shopify search syntax for ``orders(query:)`` / ``ordersCount(query:)``.

Supported, as documented for the Admin API search syntax:

* terms ``field:value`` with comparators ``:`` (equality), ``:>``, ``:>=``, ``:<``, ``:<=``;
  values bare, ``'single'`` or ``"double"`` quoted;
* ``AND`` (also implicit, by whitespace), ``OR``, ``NOT`` / ``-term``, parentheses;
  ``AND`` binds tighter than ``OR``;
* order fields ``updated_at``, ``created_at``, ``processed_at`` (time), ``id`` (legacy numeric id),
  ``status`` (``any|open|closed|cancelled|not_closed``), ``name``, ``fulfillment_status``
  (``shipped|partial|unshipped|unfulfilled``), ``financial_status`` (``paid|partially_refunded|refunded``);
  a bare word matches the order name.

Time values may be ``now``, a year ``2024``, a month ``2024-05``, a day ``2024-05-01`` or a full
timestamp (``Z``/offset; no offset means the shop's time zone, UTC here). A value names an interval
of whole seconds (a day is 86,400 of them) and the comparators follow it: ``:2024-05-01`` is that
whole day, ``:>2024-05-01`` starts the next day, ``:<=2024-05-01`` ends with it.

Unknown fields behave as on Shopify: the term is dropped (it matches everything) and the response
carries ``extensions.search[].warnings[]`` with ``"Invalid search field for this query."`` (clients
must check it; a typo silently widens the result). An unparseable time value is a request error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .records import OrderRecord

__all__ = ["SearchError", "OrderFilter", "compile_order_search", "parse_timestamp_exact"]

Predicate = Callable[[OrderRecord], bool]
_COMPARATORS = (">=", "<=", ">", "<")
TIME_FIELDS = {"updated_at": "updated_at", "created_at": "created_at", "processed_at": "created_at"}
# processed_at equals created_at for simulated orders, so both filter (and use) the created_at index.


class SearchError(ValueError):
    """The query string cannot be evaluated (e.g. an unparseable timestamp)."""


@dataclass(frozen=True, slots=True)
class Term:
    field: str | None  # None: free text
    op: str  # ":" or a comparator
    value: str


@dataclass(frozen=True, slots=True)
class Bool:
    op: str  # "AND" | "OR" | "NOT"
    parts: tuple[Any, ...]


@dataclass(slots=True)
class OrderFilter:
    """A compiled search: a row predicate plus the ranges an index can use."""

    predicate: Predicate
    bounds: dict[str, tuple[int | None, int | None]] = field(default_factory=dict)
    warnings: list[dict[str, str]] = field(default_factory=list)
    parsed: dict[str, Any] | None = None


# -- parsing ---------------------------------------------------------------------------------------


def _tokens(query: str) -> list[str]:
    tokens: list[str] = []
    i, n = 0, len(query)
    while i < n:
        ch = query[i]
        if ch.isspace():
            i += 1
        elif ch in "()":
            tokens.append(ch)
            i += 1
        else:
            start = i
            while i < n and not query[i].isspace() and query[i] not in "()":
                if query[i] in "'\"":
                    close = query.find(query[i], i + 1)
                    i = n if close < 0 else close + 1
                else:
                    i += 1
            tokens.append(query[start:i])
    return tokens


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def _term(token: str) -> Term | Bool:
    negated = token.startswith("-") and len(token) > 1
    body = token[1:] if negated else token
    name, colon, rest = body.partition(":")
    if not colon or not name or name[0] in "'\"":
        term = Term(None, ":", _unquote(body))
    else:
        op = ":"
        for comparator in _COMPARATORS:
            if rest.startswith(comparator):
                op, rest = comparator, rest[len(comparator) :]
                break
        term = Term(name.lower(), op, _unquote(rest))
    return Bool("NOT", (term,)) if negated else term


class _Parser:
    def __init__(self, tokens: list[str]) -> None:
        self.tokens, self.i = tokens, 0

    def peek(self) -> str | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> str:
        self.i += 1
        return self.tokens[self.i - 1]

    def parse_or(self) -> Any:
        parts = [self.parse_and()]
        while self.peek() == "OR":
            self.take()
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else Bool("OR", tuple(parts))

    def parse_and(self) -> Any:
        parts = [self.parse_unary()]
        while (token := self.peek()) is not None and token not in (")", "OR"):
            if token == "AND":
                self.take()
                continue
            parts.append(self.parse_unary())
        return parts[0] if len(parts) == 1 else Bool("AND", tuple(parts))

    def parse_unary(self) -> Any:
        token = self.take()
        if token == "NOT":
            return Bool("NOT", (self.parse_unary(),))
        if token == "(":
            inner = self.parse_or() if self.peek() != ")" else Bool("AND", ())
            if self.peek() == ")":
                self.take()
            return inner
        return _term(token)


def parse_search(query: str) -> Any:
    tokens = [t for t in _tokens(query)]
    # Leading/trailing/duplicate connectives are ignored rather than fatal, like Shopify's parser.
    while tokens and tokens[0] in ("AND", "OR"):
        tokens.pop(0)
    while tokens and tokens[-1] in ("AND", "OR", "NOT"):
        tokens.pop()
    if not tokens:
        return Bool("AND", ())
    parser = _Parser(tokens)
    tree = parser.parse_or()
    while parser.peek() is not None:  # stray ")": keep going, conjoin the rest
        parser.take()
        if parser.peek() is not None:
            tree = Bool("AND", (tree, parser.parse_or()))
    return tree


# -- time values -----------------------------------------------------------------------------------

_DATE_ONLY = re.compile(r"^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$")


def _interval(value: str, now: int) -> tuple[int, int]:
    """Whole-second interval ``[lo, hi)`` a time value stands for."""
    text = value.strip()
    if text.lower() == "now":
        return now, now + 1
    if m := _DATE_ONLY.match(text):
        year, month, day = int(m.group(1)), m.group(2), m.group(3)
        try:
            if month is None:
                lo, hi = datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
            elif day is None:
                lo = datetime(year, int(month), 1, tzinfo=UTC)
                hi = datetime(year + (lo.month == 12), lo.month % 12 + 1, 1, tzinfo=UTC)
            else:
                lo = datetime(year, int(month), int(day), tzinfo=UTC)
                hi = lo + timedelta(days=1)
        except ValueError as exc:
            raise SearchError(str(exc)) from None
        return int(lo.timestamp()), int(hi.timestamp())
    try:
        instant = datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        raise SearchError(f"unparseable time {value!r}") from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    exact = instant.timestamp()
    if exact == int(exact):
        return int(exact), int(exact) + 1
    # A sub-second instant matches no whole second exactly; every comparison rounds up to the next one.
    up = math.ceil(exact)
    return up, up


def parse_timestamp_exact(value: Any) -> int:
    """A cursor's timestamp back to epoch seconds (strict: must be a full second-precision time)."""
    if not isinstance(value, str) or "T" not in value:
        raise ValueError(value)
    lo, hi = _interval(value, 0)
    if hi != lo + 1:
        raise ValueError(value)
    return lo


def _range(op: str, lo: int, hi: int) -> tuple[int | None, int | None]:
    """Comparator applied to the interval ``[lo, hi)``: the matching range ``[start, stop)``."""
    return {":": (lo, hi), ">": (hi, None), ">=": (lo, None), "<": (None, lo), "<=": (None, hi)}[op]


# -- compiling -------------------------------------------------------------------------------------

_STATUS: dict[str, Predicate] = {
    "any": lambda o: True,
    "open": lambda o: o.closed_at is None and o.cancelled_at is None,
    "closed": lambda o: o.closed_at is not None,
    "cancelled": lambda o: o.cancelled_at is not None,
    "canceled": lambda o: o.cancelled_at is not None,
    "not_closed": lambda o: o.closed_at is None,
}
_FULFILLMENT = {
    "shipped": "FULFILLED",
    "fulfilled": "FULFILLED",
    "partial": "PARTIALLY_FULFILLED",
    "unshipped": "UNFULFILLED",
    "unfulfilled": "UNFULFILLED",
}
_FINANCIAL = {"paid": "PAID", "partially_refunded": "PARTIALLY_REFUNDED", "refunded": "REFUNDED"}
_TEXT_FIELDS = frozenset({"status", "name", "fulfillment_status", "financial_status"})


def _in_range(attr: str, start: int | None, stop: int | None) -> Predicate:
    if start is not None and stop is not None:
        return lambda o: start <= getattr(o, attr) < stop
    if start is not None:
        return lambda o: getattr(o, attr) >= start
    if stop is not None:
        return lambda o: getattr(o, attr) < stop
    return lambda o: True


class _Compiler:
    def __init__(self, query: str, now: int) -> None:
        self.query, self.now = query, now
        self.warnings: list[dict[str, str]] = []

    def warn(self, term: Term, message: str, code: str) -> None:
        self.warnings.append({"field": term.field or "", "message": message, "code": code})

    def compile(self, node: Any) -> Predicate:
        if isinstance(node, Bool):
            parts = [self.compile(p) for p in node.parts]
            if node.op == "NOT":
                inner = parts[0]
                return lambda o: not inner(o)
            if node.op == "AND":
                return lambda o: all(p(o) for p in parts)
            return lambda o: any(p(o) for p in parts)
        return self.term(node)

    def term(self, term: Term) -> Predicate:
        name, value = term.field, term.value
        if name is None:  # free text: Shopify searches default fields; the simulator, the name
            needle = value.lstrip("#").lower()
            return lambda o: needle in str(o.number)
        if name in TIME_FIELDS:
            attr = TIME_FIELDS[name]
            try:
                lo, hi = _interval(value, self.now)
            except SearchError:
                raise SearchError(f"Invalid timestamp for query filter `{name}`.") from None
            return _in_range(attr, *_range(term.op, lo, hi))
        if name == "id":
            number = value.rsplit("/", 1)[-1]
            if not number.isdigit():
                self.warn(term, f"Input `{value}` is not an accepted value.", "invalid_value")
                return lambda o: True
            return _in_range("id", *_range(term.op, int(number), int(number) + 1))
        if name not in _TEXT_FIELDS:
            self.warn(term, "Invalid search field for this query.", "invalid_field")
            return lambda o: True
        if term.op != ":":
            self.warn(term, f"Comparator `{term.op}` is not supported for `{name}`.", "invalid_value")
            return lambda o: True
        key = value.lower()
        if name == "status":
            if key not in _STATUS:
                self.warn(term, f"Input `{value}` is not an accepted value.", "invalid_value")
                return lambda o: True
            return _STATUS[key]
        if name == "name":
            wanted = value.lstrip("#")
            return lambda o: str(o.number) == wanted
        if name == "fulfillment_status" and key in _FULFILLMENT:
            status = _FULFILLMENT[key]
            return lambda o: o.display_fulfillment_status() == status
        if name == "financial_status" and key in _FINANCIAL:
            status = _FINANCIAL[key]
            return lambda o: o.display_financial_status() == status
        self.warn(term, f"Input `{value}` is not an accepted value.", "invalid_value")
        return lambda o: True


def _index_bounds(tree: Any, now: int) -> dict[str, tuple[int | None, int | None]]:
    """Ranges on indexed fields implied by the top-level conjunction (OR/NOT terms are not used)."""
    terms = tree.parts if isinstance(tree, Bool) and tree.op == "AND" else (tree,)
    bounds: dict[str, tuple[int | None, int | None]] = {}
    for term in terms:
        if not isinstance(term, Term) or term.field is None:
            continue
        if term.field in TIME_FIELDS:
            key, (lo, hi) = TIME_FIELDS[term.field], _interval(term.value, now)
        elif term.field == "id" and term.value.rsplit("/", 1)[-1].isdigit():
            number = int(term.value.rsplit("/", 1)[-1])
            key, lo, hi = "id", number, number + 1
        else:
            continue
        start, stop = _range(term.op, lo, hi)
        old_start, old_stop = bounds.get(key, (None, None))
        if old_start is not None:
            start = old_start if start is None else max(start, old_start)
        if old_stop is not None:
            stop = old_stop if stop is None else min(stop, old_stop)
        bounds[key] = (start, stop)
    return bounds


def _describe(node: Any) -> dict[str, Any]:
    """Shopify's ``parsed`` rendering of a query, for ``extensions.search``."""
    if isinstance(node, Bool):
        return {node.op.lower(): [_describe(p) for p in node.parts]}
    key = {":": "match_all", ">": "range_gt", ">=": "range_gte", "<": "range_lt", "<=": "range_lte"}[node.op]
    return {"field": node.field or "default", key: node.value}


def compile_order_search(query: str | None, now: int) -> OrderFilter:
    """Compile an ``orders(query:)`` string; ``now`` (epoch seconds) resolves the ``now`` keyword.

    Raises:
        SearchError: a time value cannot be parsed.
    """
    if query is None or not query.strip():
        return OrderFilter(predicate=lambda o: True)
    tree = parse_search(query)
    compiler = _Compiler(query, now)
    predicate = compiler.compile(tree)
    return OrderFilter(
        predicate=predicate,
        bounds=_index_bounds(tree, now),
        warnings=compiler.warnings,
        parsed=_describe(tree),
    )
