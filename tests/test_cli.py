"""What every command of the operator CLI that reads AWS does alike: the options it requires,
credentials from a named profile, errors printed plainly, JSON for machines indented for people."""

import io
import re
import socket

import pytest
from rich.console import Console

from orgtrail.__main__ import main
from orgtrail.output import add_row, data_table
from tests.support.contract import conforming
from tests.support.moto_org import CENTRAL_BUCKET, TRAIL_NAME
from tests.test_cutover import write_stack


@pytest.fixture
def stack_file(shared_org, tmp_path):
    return write_stack(tmp_path, shared_org, [])


def commands(stack_file) -> dict[str, list[str]]:
    """Each command with every option it requires, in the order --help lists them."""
    return {
        "verify": ["verify", "--log-bucket", CENTRAL_BUCKET, "--trail", TRAIL_NAME],
        "cutover": ["cutover", "--stack-config", str(stack_file), "--log-bucket", CENTRAL_BUCKET],
    }


@pytest.mark.parametrize(
    ("command", "option"),
    [
        ("verify", "--log-bucket"),
        ("verify", "--trail"),
        ("cutover", "--stack-config"),
        ("cutover", "--log-bucket"),
    ],
)
def test_each_command_requires_its_options(command, option, tmp_path, capsys):
    argv = commands(tmp_path / "Pulumi.management.yaml")[command]
    at = argv.index(option)
    with pytest.raises(SystemExit) as exit_:
        main(argv[:at] + argv[at + 2 :])
    assert exit_.value.code == 2
    assert f"the following arguments are required: {option}" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["verify", "cutover"])
def test_credentials_come_from_the_named_profile(
    command, shared_org, stack_file, tmp_path, monkeypatch, capsys
):
    credentials = tmp_path / "credentials"
    credentials.write_text(
        "[audit]\n"
        f"aws_access_key_id = {shared_org.environment['AWS_ACCESS_KEY_ID']}\n"
        f"aws_secret_access_key = {shared_org.environment['AWS_SECRET_ACCESS_KEY']}\n"
    )
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    argv = [*commands(stack_file)[command], "--json"]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err.startswith("error: no usable AWS credentials")
    # With --json, the error is JSON too: a script's output stays JSON.
    assert conforming("error", captured.out)["error"]["code"] == "CredentialError"
    main([*argv, "--profile", "audit"])
    output = capsys.readouterr().out
    first, second = output.splitlines()[:2]
    assert first in ("[", "{") and second.startswith("  ") and second[2] != " ", "indented by 2"
    conforming(command, output)


@pytest.mark.parametrize("command", ["verify", "cutover"])
def test_errors_are_printed_without_highlighting(command, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "250")
    missing = tmp_path / "Pulumi.management.yaml"
    argv = commands(missing)[command]
    if command == "verify":
        argv = [*argv, "--stack-config", str(missing)]
    assert main(argv) == 2
    label, message = capsys.readouterr().err.split("\x1b[0m", 1)
    assert label.endswith("error:")
    assert message == (f" {missing}: no such file\n"), "only the 'error:' label is coloured"


def test_a_cutover_that_cannot_start_says_why_plainly(stack_file, capsys, monkeypatch):
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "250")
    argv = commands(stack_file)["cutover"]
    argv[argv.index(CENTRAL_BUCKET)] = "acme-org-trail-lgos"
    assert main(argv) == 2
    label, message = capsys.readouterr().err.split("\x1b[0m", 1)
    assert label.endswith("error:")
    assert message == (
        " --log-bucket acme-org-trail-lgos is not where the organization trail delivers "
        f"({CENTRAL_BUCKET}): cutover must read the organization trail's own bucket\n"
    ), "only the 'error:' label is coloured"


def test_ctrl_c_exits_130_with_one_line(monkeypatch, capsys):
    from orgtrail.analysis import query

    def interrupted(args, console):
        raise KeyboardInterrupt

    monkeypatch.setattr(query, "run", interrupted)
    assert main(["query", "vpc-changes", "--logs", "."]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_version_is_printed(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("orgtrail 0.")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["verify", "--log-bucket", "b", "--trail", "t", "--log-bucket-role-arn", "notanarn"],
         "argument --log-bucket-role-arn: 'notanarn' is not an IAM role ARN"),
        (["verify", "--log-bucket", "b", "--trail", "t", "--regions", "eu-wst-1"],
         "argument --regions: not an AWS region: 'eu-wst-1' (did you mean 'eu-west-1'?)"),
        (["verify", "--log-bucket", "b", "--trail", "t", "--regions", "moon-1"],
         "argument --regions: not an AWS region: 'moon-1'"),
        (["cutover", "--log-bucket-role-arn", "arn:aws:iam::1:role/x"],
         "argument --log-bucket-role-arn: 'arn:aws:iam::1:role/x' is not an IAM role ARN"),
        (["verify", "--log-bucket", "b", "--trail", "t", "--region", "us-east-7"],
         "argument --region: not an AWS region: 'us-east-7' (did you mean"),
        (["verify", "--log-bucket", "b", "--trail", "t", "--region", "us-east-1,eu-west-1"],
         "argument --region: 'us-east-1,eu-west-1' is not one AWS region name"),
        (["verify", "--log-bucket", "b", "--trail", "t", "--region", ""],
         "argument --region: '' is not one AWS region name"),
    ],
)  # fmt: skip
def test_bad_arguments_are_refused_before_any_call(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--log-bucket", "b", "--trail", "t", "--log-bucket-role-arn", "", "--json"],
        ["verify", "--json", "--log-bucket", "b"],  # --trail missing
        ["inventory", "--concurrency", "0", "--json"],
        ["cutover", "--no-such-option", "--json"],
        ["query", "--jso", "--no-such-option"],  # argparse takes a prefix of --json
        ["cost", "--json", "--days", "many"],
        ["plan", "--json", "--stack", "staging"],
        ["--json"],  # no command
    ],
    ids=lambda argv: " ".join(argv),
)
def test_usage_errors_stay_json_under_json(argv, capsys):
    """A script reading --json output gets a JSON error document, never 0 bytes."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    printed = capsys.readouterr()
    assert exited.value.code == 2
    error = conforming("error", printed.out)["error"]
    assert error["code"] == "UsageError"
    assert error["message"] and error["message"] in printed.err


def test_usage_errors_without_json_print_nothing_on_stdout(capsys):
    with pytest.raises(SystemExit):
        main(["inventory", "--concurrency", "0"])
    assert capsys.readouterr().out == ""


def test_data_tables_neither_cut_nor_read_markup():
    arn = "arn:aws:cloudtrail:us-east-1:111111111111:trail/org-trail"
    table = data_table("t", ("account", "trail"))
    add_row(table, "041365253612", f"{arn} [own, eu-west-1, logging]")
    for width, whole in ((100, True), (70, True), (40, False)):
        console = Console(file=io.StringIO(), width=width, record=True)
        console.print(table)
        text = console.export_text()
        assert "041365253612" in text and "[own," in text and "logging]" in text
        # An ARN fits whole on a line when the width allows it, as a table or as records;
        # narrower than the ARN itself, it is folded, never cut: every character is there.
        assert any(arn in line for line in text.splitlines()) is whole
        assert arn in "".join(line.strip() for line in text.splitlines())
        assert max(len(line) for line in text.splitlines()) <= width


@pytest.mark.parametrize("command", ["verify", "cutover", "inventory"])
def test_an_endpoint_nobody_listens_on_is_named_as_unreachable(
    command, shared_org, stack_file, monkeypatch, capsys
):
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    argv = {**commands(stack_file), "inventory": ["inventory"]}[command]
    assert main(argv) == 2
    assert capsys.readouterr().err.startswith("error: cannot reach AWS: ")


@pytest.mark.parametrize("command", ["plan", "inventory", "cutover", "verify", "query", "cost"])
def test_every_command_help_has_examples_defaults_and_exit_codes(command, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    text = capsys.readouterr().out
    examples = text.split("\nexamples:\n", 1)[1].split("\nexit codes:\n")[0]
    runs = [line.strip() for line in examples.splitlines() if line.strip() and "#" not in line]
    assert runs and all(f"orgtrail {command}" in run for run in runs)
    codes = re.findall(r"^  (\d+) +\S", text.split("\nexit codes:\n", 1)[1], re.M)
    assert {"0", "1", "2", "130"} <= set(codes)
    # Every option that takes a value and has a default shows it; --json and --profile say
    # what they do.
    parser_defaults = {
        "inventory": ["--concurrency CONCURRENCY  accounts scanned at once (default: 16)"],
        "cutover": ["(default: 24.0)", "(default: 2.0)", "(default: 16)"],
        "verify": ["(default: 16)"],
        "plan": ["(default: all)"],
        "query": [],
        "cost": [],
    }[command]
    flat = " ".join(text.split())
    for shown in parser_defaults:
        assert " ".join(shown.split()) in flat
    assert f"schema/{command}.schema.json" in flat
    if command in ("inventory", "cutover", "verify"):
        assert "--profile PROFILE AWS profile to use" in flat
    assert "(default: False)" not in flat and "(default: None)" not in flat
