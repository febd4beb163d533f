"""`tools/mutation.py --survivors` after a change: which mutants mutmut numbers anew."""

import importlib.util
import sys
from pathlib import Path

spec = importlib.util.spec_from_file_location(
    "mutation", Path(__file__).resolve().parent.parent / "tools" / "mutation.py"
)
mutation = importlib.util.module_from_spec(spec)
sys.modules["mutation"] = mutation  # its dataclasses look their module up there
spec.loader.exec_module(mutation)

BEFORE = """
def kept(a):
    return a + 1


def edited(a):
    def inner(b):
        return b < 2

    return inner(a)


class Checks:
    def add(self, ok):
        return bool(ok)

    def guarded(self):
        return None
"""


def test_only_functions_whose_text_changed_or_that_are_new_are_named_as_mutmut_names_them():
    after = (
        BEFORE.replace("b < 2", "b <= 2")
        .replace("bool(ok)", "ok is True")
        .replace("class Checks:", "def new():\n    return 0\n\n\nclass Checks:")
    )
    assert mutation.changed_functions(BEFORE, after) == ["x_edited", "x_new", "xǁChecksǁadd"]
    assert mutation.changed_functions(BEFORE, BEFORE) == []
    assert mutation.changed_functions("", BEFORE) == [
        "x_kept",
        "x_edited",
        "xǁChecksǁadd",
        "xǁChecksǁguarded",
    ]


def test_module_names_are_mutmuts_prefixes():
    assert mutation._module_name(Path("orgtrail/ops/verify.py")) == "orgtrail.ops.verify"
    assert mutation._module_name(Path("orgtrail_policies/__init__.py")) == "orgtrail_policies"
