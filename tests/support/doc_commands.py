"""The commands a document tells operators to run, taken from its ```sh blocks as written,
and the `aws` ones run through boto3 (the AWS CLI maps `aws <service> <operation-name>
--param-name value` to the API's `OperationName` with `ParamName`), so a test can walk a
guide's steps against the emulated organisation."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

BLOCK = re.compile(r"^```sh\n(.*?)^```", re.MULTILINE | re.DOTALL)


def shell_commands(document: Path, replace: Mapping[str, str] | None = None) -> list[list[str]]:
    """Each command of the document's ```sh blocks, continuation lines joined, comments
    dropped, the example values in `replace` substituted, split as a shell would."""
    commands = []
    for block in BLOCK.findall(document.read_text()):
        for line in block.replace("\\\n", " ").splitlines():
            for example, value in (replace or {}).items():
                line = line.replace(example, value)
            words = shlex.split(line, comments=True)
            if words:
                commands.append(words)
    return commands


def aws_call(argv: list[str]) -> tuple[str, str, dict[str, Any]]:
    """`aws <service> <operation> --name value ...` as (service, boto3 method, parameters)."""
    if argv[:1] != ["aws"] or len(argv) < 3:
        raise ValueError(f"not an aws command: {argv}")
    service, operation, options = argv[1], argv[2], argv[3:]
    if len(options) % 2:
        raise ValueError(f"only --name value pairs are supported: {argv}")
    parameters = {
        "".join(part.capitalize() for part in name.removeprefix("--").split("-")): value
        for name, value in zip(options[::2], options[1::2], strict=True)
    }
    return service, operation.replace("-", "_"), parameters


def run_aws(argv: list[str], session_for: Callable[[dict[str, Any]], Any]) -> dict:
    """Run one `aws` command through boto3, with the session `session_for(parameters)` picks
    (the account the command is run in)."""
    service, method, parameters = aws_call(argv)
    return getattr(session_for(parameters).client(service), method)(**parameters)
