"""Mutation testing of the modules that decide security outcomes (`make mutation`).

    .venv/bin/python tools/mutation.py [GROUP ...] [--jobs 2] [--survivors | --report]

For each group, mutmut changes the group's modules one small edit at a time
(a `<` for a `<=`, `and` for `or`, a string altered, a call argument dropped)
and runs the tests written for those modules against each change. A change
no test notices ("survived") is behaviour the suite does not pin.

Each group runs in its own staging copy of the checkout under `.mutation/`
(mutmut writes its `mutants/` tree next to the configuration it reads), so
the working tree is never touched. The policy pack is lifted to the top of
the staging copy because mutmut names a mutant after its file path, and the
pack is imported as `orgtrail_policies`, not `policies.orgtrail_policies`.

With `--survivors`, a group's last run is taken up again with the tests as
they are now: only its survivors, the mutants a stopped run did not reach,
and every mutant of a function changed since (mutmut numbers those anew)
are run; mutmut maps the new tests to the functions they reach first. With
`--report`, nothing runs: the table is made from each group's last run.

Mutants listed in `tools/mutation_equivalent.yaml` were read and judged
equivalent (no test could tell them apart from the original), and two kinds
in policy documents are equivalent by rule (`equivalent_by_rule`). A survivor
that differs from the original only inside the text of a command's `--help`
(compared as syntax trees) is prose for people, not an outcome. The kill rate
leaves all of these out and the table counts them. Timeouts count as killed (the
change made the tests hang, which a run notices). Mutants a stopped run did
not reach are counted as "not run". Exit 1 when a module is under the target
or has mutants not run.
"""

from __future__ import annotations

import argparse
import ast
import fnmatch
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
STAGING = ROOT / ".mutation"
EQUIVALENT = Path(__file__).resolve().parent / "mutation_equivalent.yaml"
TARGET = 0.90
PACK = "policies/orgtrail_policies"
MUTMUT = [sys.executable, "-m", "mutmut"]
NOT_RUN = "not checked"  # mutmut's status for a mutant a stopped run did not reach


@dataclass(frozen=True)
class Group:
    sources: tuple[str, ...]
    tests: tuple[str, ...]
    moto: bool = False  # its tests talk to moto_server: one runs per worker for the whole group


# The tests written for each module: mutmut then runs, per mutant, only those
# that reach the mutated function (fastest first, stopping at the first failure).
GROUPS = {
    "policy-eval": Group(("orgtrail/policy_eval.py",), ("tests/test_policy_eval.py",)),
    "policy-documents": Group(
        ("orgtrail/contract/policy_documents.py",),
        (
            "tests/test_policy_documents.py",
            "tests/test_security_stack.py",
            "tests/test_guardrails.py",
        ),
    ),
    "pack": Group(
        ("orgtrail_policies",),
        (
            "tests/test_policy_rules.py",
            "tests/test_policy_stack_rules.py",
            "tests/test_policy_exemptions.py",
            "tests/test_policy_messages.py",
            "tests/test_policy_pack.py",
            "tests/test_policy_corpus.py",
            # Compares the pack in process with the pack over gRPC, whose process imports the
            # staging copy's unmutated policies/: here it would kill every mutant by comparison
            # with the original, which `make test` could not do.
            "--deselect",
            "tests/test_policy_corpus.py::test_the_in_process_pack_answers_exactly_as_the_running_pack",
        ),
    ),
    "config": Group(
        ("orgtrail/contract/config.py", "orgtrail/contract/derived.py"),
        ("tests/test_config.py", "tests/test_config_rules.py", "tests/test_project_files.py"),
    ),
    "detections": Group(
        ("orgtrail/analysis/detections.py",),
        ("tests/test_detections.py", "tests/test_analysis_and_alarms.py"),
    ),
    "verify": Group(
        ("orgtrail/ops/verify.py",),
        ("tests/test_verify.py", "tests/test_verify_checks.py", "tests/test_cli.py"),
        moto=True,
    ),
    "alert-path": Group(
        ("orgtrail/ops/alert_path.py",),
        ("tests/test_alert_path.py",),
        moto=True,
    ),
    "notifier": Group(
        ("functions/insights_notifier/handler.py",),
        ("tests/test_insights_notifier.py", "tests/test_trail_alerts.py"),
        moto=True,
    ),
    "cutover": Group(
        ("orgtrail/ops/cutover.py", "orgtrail/ops/recording.py"),
        (
            "tests/test_cutover.py",
            "tests/test_cutover_proof.py",
            "tests/test_recording.py",
            "tests/test_cli.py",
        ),
        moto=True,
    ),
    "selectors": Group(
        ("orgtrail/ops/selectors.py",),
        ("tests/test_selectors.py", "tests/test_selector_properties.py", "tests/test_recording.py"),
    ),
}


def stage(name: str, group: Group) -> Path:
    """A copy of the checkout's tracked files with a mutmut section for this group."""
    where = STAGING / name
    shutil.rmtree(where, ignore_errors=True)
    tracked = _copy_checkout(where)
    copied = sorted({Path(path).parts[0] for path in tracked} | {"orgtrail_policies"})
    settings = {
        "source_paths": list(group.sources),
        "also_copy": [entry for entry in copied if entry not in group.sources],
        "pytest_add_cli_args_test_selection": list(group.tests),
        "pytest_add_cli_args": ["-p", "no:cacheprovider", "-p", "no:xdist"],
        # The stack tests run the program under the SDK's gRPC mocks: not fork-safe once
        # the suite has run in the forking process.
        "process_isolation": "forkserver",
    }
    with (where / "pyproject.toml").open("a") as pyproject:
        pyproject.write("\n[tool.mutmut]\n")
        for key, value in settings.items():
            pyproject.write(f"{key} = {value!r}\n".replace("'", '"'))
    return where


@contextmanager
def moto_servers(count: int) -> Iterator[dict[str, str]]:
    """`count` moto_servers for the tests of a group, named in the environment the tests see
    (ORGTRAIL_MOTO_SERVERS): each mutant's test run borrows one instead of starting its own,
    about a second and a half a mutant."""
    if not count:
        yield {}
        return
    sys.path.insert(0, str(ROOT))
    from tests.support.moto_org import MotoServer

    servers = []
    try:
        servers = [MotoServer() for _ in range(count)]
        yield {"ORGTRAIL_MOTO_SERVERS": ",".join(server.url for server in servers)}
    finally:
        for server in servers:
            server.stop()


def _copy_checkout(where: Path, keep: tuple[str, ...] = ()) -> list[str]:
    """Copy the checkout's files (tracked or new, not ignored) into `where`, the pack also
    under its import name, except the paths in `keep`; the paths found."""
    tracked = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    for path in tracked:
        if (ROOT / path).is_file() and path not in keep:
            (where / path).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / path, where / path)
    if "orgtrail_policies" not in keep:
        shutil.copytree(ROOT / PACK, where / "orgtrail_policies", dirs_exist_ok=True)
    return tracked


def _last_run(name: str) -> Path:
    where = STAGING / name
    if not (where / "mutants").is_dir():
        sys.exit(f"{name} has not been run yet: run it in full first (make mutation GROUPS={name})")
    return where


def restage(name: str, group: Group, equivalent: dict[str, str]) -> tuple[Path, list[str]]:
    """The group's last staging copy with the checkout as it is now, for re-running its
    survivors; and name patterns for every mutant of a function changed since that run: mutmut
    numbers those anew (and forgets their verdicts), so they all run again."""
    where = _last_run(name)
    changed = []
    for source in group.sources:
        original = ROOT / (PACK if source == "orgtrail_policies" else source)
        before, now = _tree_text(where / source), _tree_text(original)
        for relative, text in now.items():
            module = _module_name(Path(source) / relative if relative else Path(source))
            changed += [
                f"{module}.{function}__mutmut_*"
                for function in changed_functions(before.get(relative, ""), text)
            ]
    stale = sorted(m for m in equivalent if any(fnmatch.fnmatch(m, p) for p in changed))
    if stale:
        print(
            f"   judged equivalent before their function changed, to be read again: "
            f"{', '.join(stale)}",
            flush=True,
        )
    # Everything but the staging's mutmut settings as it is now: mutmut sees the mutated
    # sources are newer than its mutants and makes the changed functions' mutants again.
    _copy_checkout(where, keep=("pyproject.toml",))
    return where, changed


def changed_functions(before: str, after: str) -> list[str]:
    """The functions of a module whose text differs (or that are new), named as mutmut names
    their mutants: `x_name` for a function, `xǁClassǁname` for a method."""
    old, new = _function_texts(before), _function_texts(after)
    return [name for name, text in new.items() if old.get(name) != text]


def _function_texts(source: str) -> dict[str, str]:
    if not source:
        return {}
    tree = ast.parse(source)
    texts = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            texts[f"x_{node.name}"] = ast.get_source_segment(source, node)
        elif isinstance(node, ast.ClassDef):
            for method in node.body:
                if isinstance(method, ast.FunctionDef | ast.AsyncFunctionDef):
                    texts[f"xǁ{node.name}ǁ{method.name}"] = ast.get_source_segment(source, method)
    return texts


def _module_name(path: Path) -> str:
    """A staged source's module name, as mutmut prefixes its mutants with it."""
    parts = path.with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _tree_text(path: Path) -> dict[str, str]:
    """The text of a file, or of every Python file under a directory, by relative path."""
    if path.is_file():
        return {"": path.read_text()}
    return {str(file.relative_to(path)): file.read_text() for file in sorted(path.rglob("*.py"))}


def run(
    where: Path, group: Group, jobs: int, only: list[str] | None = None
) -> dict[str, tuple[str, str | None]]:
    """mutmut's verdict on every mutant of the group, by mutant name, with the reason a
    survivor is equivalent when a rule says so. With `only`, just those mutants are run again
    (the other verdicts stand)."""
    started = time.monotonic()
    if only is None or only:  # nothing to run again: the verdicts stand as they are
        with moto_servers(jobs if group.moto else 0) as servers:
            _mutmut_run(where, jobs, servers, only or [])
    verdicts = verdicts_in(where)
    print(f"   {len(verdicts)} mutants in {time.monotonic() - started:.0f} s", flush=True)
    return verdicts


def survivors(where: Path, equivalent: dict[str, str]) -> list[str]:
    """The last run's survivors that no rule or judgement sets aside, and the mutants it did
    not reach (a run that was stopped)."""
    return [
        mutant
        for mutant, (status, by_rule) in verdicts_in(where).items()
        if status in ("survived", NOT_RUN) and by_rule is None and mutant not in equivalent
    ]


def _mutmut_run(where: Path, jobs: int, servers: dict[str, str], names: list[str]) -> None:
    env = {
        **os.environ,
        **servers,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    }
    with (where / "mutmut.log").open("w") as log:
        # Its own process group: stopping this script stops mutmut's workers and fork server too.
        process = subprocess.Popen(
            [*MUTMUT, "run", "--max-children", str(jobs), *names],
            cwd=where,
            env=env,
            stdout=log,
            start_new_session=True,
        )
        try:
            process.wait()
        finally:
            if process.returncode is None:
                os.killpg(process.pid, signal.SIGTERM)
    if process.returncode:
        sys.exit(f"mutmut failed in {where}; its output is in {where / 'mutmut.log'}")


def verdicts_in(where: Path) -> dict[str, tuple[str, str | None]]:
    listing = subprocess.run(
        [*MUTMUT, "results", "--all", "true"],
        cwd=where,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    verdicts = {}
    for line in listing.splitlines():
        mutant, _, status = line.strip().rpartition(": ")
        if mutant:
            survived = status not in ("killed", "timeout", NOT_RUN)
            verdicts[mutant] = (status, equivalent_by_rule(where, mutant) if survived else None)
    return verdicts


def module_of(mutant: str) -> str:
    return mutant.partition(".x")[0]


# Modules whose string literals are policy documents sent to AWS.
DOCUMENT_MODULES = ("orgtrail.contract.policy_documents",)
IAM_NAME = re.compile(r"^[A-Za-z0-9-]+:[A-Za-z0-9:*/._-]+$")
STRING = re.compile(r'"([^"]*)"')
CASE_ONLY = (
    "only the case of IAM action or condition-key names (or a Bool value) changes, and AWS "
    "compares those case-insensitively (IAM user guide, 'IAM JSON policy elements')"
)


# Keyword arguments of argparse whose values are only read by people (`--help`).
PROSE_KEYWORDS = frozenset({"help", "description", "epilog", "metavar"})
PROSE = "only the text of a command's --help changes (a help or description argument)"


def equivalent_by_rule(where: Path, mutant: str) -> str | None:
    """Why a survivor is left out of the kill rate, when a rule says so."""
    if only_prose_changes(where, mutant):
        return PROSE
    if module_of(mutant) in DOCUMENT_MODULES:
        return document_rule(where, mutant)
    return None


def only_prose_changes(where: Path, mutant: str) -> bool:
    """Whether the mutant differs from its original only inside --help texts, compared as
    syntax trees (mutmut keeps both functions, `<name>__mutmut_orig` and the mutant, in its
    copy of the module)."""
    source = where / "mutants" / (module_of(mutant).replace(".", "/") + ".py")
    if not source.is_file():
        return False
    functions = _functions(source)
    name = mutant.rpartition(".")[2]
    original = functions.get(name.rpartition("__mutmut_")[0] + "__mutmut_orig")
    mutated = functions.get(name)
    if original is None or mutated is None:
        return False
    return not _differs_outside_prose(original.body, mutated.body)


@functools.cache
def _functions(source: Path) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of mutmut's copy of a module, by name: parsed once per run, since the copy
    holds every mutant of the module (thousands of functions) and each survivor is asked about."""
    return {
        node.name: node
        for node in ast.walk(ast.parse(source.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _differs_outside_prose(a: object, b: object) -> bool:
    if isinstance(a, list) or isinstance(b, list):
        return (
            not isinstance(a, list)
            or not isinstance(b, list)
            or len(a) != len(b)
            or any(_differs_outside_prose(x, y) for x, y in zip(a, b, strict=True))
        )
    if not isinstance(a, ast.AST) or not isinstance(b, ast.AST):
        return a != b
    if type(a) is not type(b):
        return True
    if isinstance(a, ast.Call):
        before = {keyword.arg: keyword.value for keyword in a.keywords}
        after = {keyword.arg: keyword.value for keyword in b.keywords}
        if set(after) - set(before) or set(before) - set(after) - PROSE_KEYWORDS:
            return True
        return _differs_outside_prose([a.func, *a.args], [b.func, *b.args]) or any(
            _differs_outside_prose(value, after[key])
            for key, value in before.items()
            if key in after and key not in PROSE_KEYWORDS
        )
    return any(
        _differs_outside_prose(value, getattr(b, field)) for field, value in ast.iter_fields(a)
    )


def document_rule(where: Path, mutant: str) -> str | None:
    """The reason a mutant of a policy document is equivalent, when it is."""
    diff = subprocess.run(
        [sys.executable, "-m", "mutmut", "show", mutant],
        cwd=where,
        capture_output=True,
        text=True,
    ).stdout.splitlines()
    removed = [line[1:] for line in diff if line.startswith("-") and not line.startswith("---")]
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    if len(removed) != 1 or len(added) != 1:
        return None
    before, after = STRING.findall(removed[0]), STRING.findall(added[0])
    changed = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    if len(before) != len(after) or not changed:
        return None
    if before[0] == after[0] == "Sid":
        return "a Sid only labels a statement; nothing AWS decides depends on it"
    for original, mutated in changed:
        iam_name = IAM_NAME.match(original) and not original.startswith("arn:")
        boolean = original.lower() in ("true", "false")
        if original.lower() != mutated.lower() or not (iam_name or boolean):
            return None
    return CASE_ONLY


def report(verdicts: dict[str, tuple[str, str | None]], equivalent: dict[str, str]) -> bool:
    by_module: dict[str, Counter] = {}
    survivors = []
    for mutant, (status, by_rule) in sorted(verdicts.items()):
        counts = by_module.setdefault(module_of(mutant), Counter())
        if status in ("killed", "timeout"):
            counts["killed"] += 1
        elif status == NOT_RUN:
            counts["not run"] += 1
        elif by_rule == PROSE:
            counts["help text"] += 1
        elif mutant in equivalent or by_rule:
            counts["equivalent"] += 1
        else:
            counts["not killed"] += 1
            survivors.append(f"{mutant}: {status}")
        counts["mutants"] += 1

    table = Table(title="Mutation testing")
    counted = ("mutants", "killed", "equivalent", "help text", "not killed", "not run")
    for column in ("module", *counted, "kill rate"):
        table.add_column(column, justify="left" if column == "module" else "right", no_wrap=True)
    every_module_on_target = True
    for module, counts in by_module.items():
        judged = counts["killed"] + counts["not killed"]
        rate = counts["killed"] / judged if judged else 1.0
        every_module_on_target &= rate >= TARGET and not counts["not run"]
        table.add_row(
            module,
            *(str(counts[key]) for key in counted),
            f"{rate:.1%}",
        )
    console = Console(width=120)
    console.print(table)
    if survivors:
        console.print("Not killed (show one with `mutmut show NAME` in its .mutation/ directory):")
        console.print(textwrap.indent("\n".join(survivors), "  "), highlight=False)
    return every_module_on_target


def main() -> int:
    # Stopped with SIGTERM (kill, a CI timeout), unwind: mutmut's workers and the moto_servers
    # are stopped by the `finally` blocks, which Python's default SIGTERM action skips.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"one of {', '.join(GROUPS)}")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    again = parser.add_mutually_exclusive_group()
    again.add_argument(
        "--report",
        action="store_true",
        help="run nothing: the table of each group's last run, with today's judgements",
    )
    again.add_argument(
        "--survivors",
        action="store_true",
        help="run only the last run's survivors (and what it did not reach) again, against "
        "the tests as they are now",
    )
    arguments = parser.parse_args()
    unknown = set(arguments.groups) - set(GROUPS)
    if unknown:
        parser.error(
            f"unknown group {', '.join(sorted(unknown))}; the groups are {', '.join(GROUPS)}"
        )
    equivalent = {
        mutant: entry["why"]
        for entry in yaml.safe_load(EQUIVALENT.read_text()) or []
        for mutant in entry["mutants"]
    }
    verdicts = {}
    for name in arguments.groups or GROUPS:
        print(f"== {name}", flush=True)
        group = GROUPS[name]
        if arguments.report:
            verdicts |= verdicts_in(_last_run(name))
        elif arguments.survivors:
            where, changed = restage(name, group, equivalent)
            only = survivors(where, equivalent)
            print(
                f"   {len(only)} survivors to run again"
                + (f", and every mutant of {len(changed)} changed functions" if changed else ""),
                flush=True,
            )
            verdicts |= run(where, group, arguments.jobs, only + changed)
        else:
            verdicts |= run(stage(name, group), group, arguments.jobs)
    return 0 if report(verdicts, equivalent) else 1


if __name__ == "__main__":
    sys.exit(main())
