"""Fixture scopes that `make mutation` can see through."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest


def shared(scope: str) -> Callable[[str, pytest.Config], str]:
    """`scope`, except while mutmut records which tests reach which function: it credits a
    shared fixture's calls to the first test that used it, and would then run only that test
    against the mutants of the code the fixture runs (the stacks' components)."""

    def decide(fixture_name: str, config: pytest.Config) -> str:
        return "function" if os.environ.get("MUTANT_UNDER_TEST") == "stats" else scope

    return decide
