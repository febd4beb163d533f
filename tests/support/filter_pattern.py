"""CloudWatch Logs JSON filter patterns, evaluated against CloudTrail records.

Enough of the syntax for the CIS metric filters: `{ ... }`, `&&` (binding
tighter than `||`), parentheses, `$.a.b` selectors, `=` and `!=` against quoted
or bare values with `*` wildcards, and `NOT EXISTS`. A comparison with a
field the event lacks is false, as SQL's comparison with NULL is.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from typing import Any

Predicate = Callable[[dict], bool]
_TOKEN = re.compile(
    r'\s*(\(|\)|&&|\|\||!=|=|NOT EXISTS|"(?:[^"\\]|\\.)*"|\$[\w.\[\]]+|[^\s()=!&|]+)'
)
_MISSING = object()


def _tokens(pattern: str) -> list[str]:
    text = pattern.strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise ValueError(f"not a JSON filter pattern: {pattern!r}")
    body, tokens, position = text[1:-1], [], 0
    while position < len(body.rstrip()):
        match = _TOKEN.match(body, position)
        if match is None:
            raise ValueError(f"cannot read {body[position:]!r}")
        tokens.append(match.group(1))
        position = match.end()
    return tokens


def _lookup(event: dict, selector: str) -> Any:
    value: Any = event
    for part in selector.removeprefix("$.").split("."):
        if not isinstance(value, dict) or part not in value:
            return _MISSING
        value = value[part]
    return _MISSING if value is None else value


def _matches(value: Any, expected: str) -> bool:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    return fnmatch.fnmatchcase(text, expected.replace("[", "[[]"))


class _Parser:
    def __init__(self, tokens: list[str]):
        self.tokens, self.at = tokens, 0

    def take(self, expected: str | None = None) -> str:
        token = self.tokens[self.at]
        if expected is not None and token != expected:
            raise ValueError(f"expected {expected!r}, found {token!r}")
        self.at += 1
        return token

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def expression(self) -> Predicate:
        terms = [self.term()]
        while self.peek() == "||":
            self.take()
            terms.append(self.term())
        return terms[0] if len(terms) == 1 else (lambda event: any(term(event) for term in terms))

    def term(self) -> Predicate:
        factors = [self.factor()]
        while self.peek() == "&&":
            self.take()
            factors.append(self.factor())
        return (
            factors[0]
            if len(factors) == 1
            else (lambda event: all(factor(event) for factor in factors))
        )

    def factor(self) -> Predicate:
        if self.peek() == "(":
            self.take()
            inner = self.expression()
            self.take(")")
            return inner
        selector = self.take()
        if not selector.startswith("$."):
            raise ValueError(f"expected a $. selector, found {selector!r}")
        operator = self.take()
        if operator == "NOT EXISTS":
            return lambda event: _lookup(event, selector) is _MISSING
        raw = self.take()
        expected = raw[1:-1] if raw.startswith('"') else raw

        def compare(event: dict) -> bool:
            value = _lookup(event, selector)
            if value is _MISSING:
                return False
            return _matches(value, expected) == (operator == "=")

        return compare


def compile_pattern(pattern: str) -> Predicate:
    parser = _Parser(_tokens(pattern))
    predicate = parser.expression()
    if parser.peek() is not None:
        raise ValueError(f"unexpected {parser.peek()!r}")
    return predicate
