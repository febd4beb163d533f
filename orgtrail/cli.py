"""What every subcommand's parser shares: help that shows defaults, examples and exit codes
(as `aws <command> help` and `pulumi <command> --help` do), and the common options.

Exit codes (EXIT_CODES) are the same for every command; each command's help says what 0
and 1 mean for it.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import NoReturn

USAGE, INTERRUPTED = 2, 130
COMMON_EXIT_CODES = {
    USAGE: "usage, configuration or credential error: nothing was read or changed",
    INTERRUPTED: "interrupted (Ctrl-C)",
}
EXIT_CODES = {
    0: "all good",
    1: "findings: a check failed, a trail was withheld, a detection found events, "
    "a mandatory policy was violated, an account was not read",
    **COMMON_EXIT_CODES,
}


class Parser(argparse.ArgumentParser):
    """argparse's parser, whose usage errors stay JSON when the command line asks for --json:
    the usage and the message on stderr for people, `{"error": {"code": "UsageError",
    "message"}}` on stdout, exit 2 (as every other error of a --json run)."""

    def __init__(self, *args, json_errors: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.json_errors = json_errors

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        if self.json_errors:
            print(json.dumps({"error": {"code": "UsageError", "message": message}}))
        raise SystemExit(USAGE)


def asks_for_json(argv: Sequence[str]) -> bool:
    """Whether a command line has --json (argparse also takes an unambiguous prefix)."""
    return any(len(a) > len("--j") and "--json".startswith(a) for a in argv)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Examples and exit codes kept as written; each option's default shown when it has one
    worth showing (not for flags, which default to off)."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        shown = default not in (None, False, [], "", argparse.SUPPRESS)
        if shown and "%(default)" not in text and action.option_strings:
            text += " (default: %(default)s)"
        return text


def command(
    subparsers: argparse._SubParsersAction,
    name: str,
    *,
    summary: str,
    description: str,
    examples: Sequence[tuple[str, str]],
    exit_codes: Mapping[int, str],
) -> argparse.ArgumentParser:
    """A subcommand whose --help ends with its examples and every exit code it can return."""
    codes = {**exit_codes, **COMMON_EXIT_CODES}
    lines = ["examples:"]
    for what, example in examples:
        lines += [f"  # {what}"] if what else []
        lines.append(f"  {example}")
    lines += [
        "",
        "exit codes:",
        *(f"  {code:<4}{meaning}" for code, meaning in sorted(codes.items())),
    ]
    return subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog="\n".join(lines),
        formatter_class=HelpFormatter,
    )


def add_json(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument(
        "--json",
        action="store_true",
        help=f"print one JSON document on stdout (schema/{name}.schema.json); errors too, "
        'as {"error": {"code", "message"}}; messages for people go to stderr',
    )


def add_profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        help="AWS profile to use (default: the standard credential chain: AWS_PROFILE, "
        "environment variables, SSO, instance or container role)",
    )
