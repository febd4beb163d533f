"""A loopback HTTP proxy in front of moto_server, for the AWS answers moto cannot give.

Clients are pointed at the proxy (AWS_ENDPOINT_URL); it forwards every request
to moto_server unchanged and can, per AWS operation, rewrite the answer
(Organizations without the retired `Status`, a trail with a delivery error),
replace it with an error (throttling, access denied), or delay every request
by a fixed round trip (what a real API costs, which moto on the same two
cores hides). It listens on 127.0.0.1 only and is stopped by its owner.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass
class Call:
    """One request as the proxy saw it: enough to tell which AWS operation it is."""

    method: str
    path: str
    query: dict[str, list[str]]
    target: str  # X-Amz-Target of JSON protocols, e.g. AWSOrganizationsV20161128.ListAccounts
    body: bytes
    authorization: str = ""

    @property
    def region(self) -> str:
        """The region the request was signed for (its SigV4 credential scope)."""
        match = re.search(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/", self.authorization)
        return match.group(1) if match else ""

    @property
    def access_key(self) -> str:
        """The access key ID the request was signed with."""
        match = re.search(r"Credential=([^/]+)/", self.authorization)
        return match.group(1) if match else ""

    @property
    def operation(self) -> str:
        """The operation name for JSON and query protocols, and for REST JSON APIs that POST to
        /<operation> (Account Management's /listRegions); "" for S3's REST calls."""
        if self.target:
            return self.target.rsplit(".", 1)[-1]
        if self.method == "POST" and self.body.startswith(b"Action="):
            return parse_qs(self.body.decode()).get("Action", [""])[0]
        if self.method == "POST" and re.fullmatch(r"/[a-z][A-Za-z]+", self.path):
            return self.path[1].upper() + self.path[2:]
        return ""

    def json(self) -> dict:
        return json.loads(self.body or b"{}")


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body or b"{}")

    def with_json(self, document: dict) -> Answer:
        return Answer(self.status, self.headers, json.dumps(document).encode())


# A rule sees the call and moto's answer, and returns the answer to send instead (or None).
Rule = Callable[[Call, Answer], "Answer | None"]


def json_error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"__type": code, "message": message}).encode()
    return Answer(status, [("Content-Type", "application/x-amz-json-1.1")], body)


def xml_error(status: int, code: str, message: str) -> Answer:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
    return Answer(status, [("Content-Type", "application/xml")], body)


def ec2_error(status: int, code: str, message: str) -> Answer:
    """An error as the EC2 query API writes it (botocore's ec2 parser reads only this shape)."""
    error = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    body = f"<Response><Errors>{error}</Errors><RequestID>r</RequestID></Response>".encode()
    return Answer(status, [("Content-Type", "text/xml")], body)


class RewritingProxy:
    def __init__(self, upstream: str, delay: float = 0.0):
        self.upstream = urlsplit(upstream)
        self.delay = delay
        self.rules: list[Rule] = []
        # Answered here, never forwarded: what AWS refused did not happen in the emulator either.
        self.refusals: list[Rule] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # `shutdown` waits for the serving loop's next poll: half a second by default.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def on(self, operation: str, rewrite: Callable[[Call, Answer], Answer | None]) -> None:
        """Apply `rewrite` to every call of `operation` (a JSON/query operation name)."""
        self.rules.append(
            lambda call, answer: rewrite(call, answer) if call.operation == operation else None
        )

    def add(self, rule: Rule) -> None:
        self.rules.append(rule)

    def refuse(self, operation: str, answer: Callable[[Call], Answer | None]) -> None:
        """Answer calls of `operation` with `answer(call)` (None: forward) without forwarding
        them: unlike a rewrite, the emulator never carries the request out."""
        self.refusals.append(lambda call, _: answer(call) if call.operation == operation else None)

    def clear(self) -> None:
        with self._lock:
            self.rules.clear()
            self.refusals.clear()
            self.calls.clear()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body leave in two writes: with Nagle's algorithm on, each answer
            # waited for the client's delayed ACK (about 40 ms a request on loopback).
            disable_nagle_algorithm = True

            def log_message(self, *args):  # quiet
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                call = Call(
                    self.command,
                    split.path,
                    parse_qs(split.query, keep_blank_values=True),
                    self.headers.get("X-Amz-Target", ""),
                    body,
                    self.headers.get("Authorization", ""),
                )
                with proxy._lock:
                    proxy.calls.append(call)
                    rules, refusals = list(proxy.rules), list(proxy.refusals)
                if proxy.delay:
                    time.sleep(proxy.delay)
                refused = next((a for r in refusals if (a := r(call, None)) is not None), None)
                if refused is not None:
                    self._send(refused)
                    return
                # The Host header stays the client's: it is part of what the request signed.
                headers = dict(self.headers.items())
                connection = http.client.HTTPConnection(
                    proxy.upstream.hostname, proxy.upstream.port, timeout=60
                )
                try:
                    connection.request(self.command, self.path, body=body, headers=headers)
                    response = connection.getresponse()
                    answer = Answer(response.status, response.getheaders(), response.read())
                finally:
                    connection.close()
                for rule in rules:
                    answer = rule(call, answer) or answer
                self._send(answer)

            def _send(self, answer: Answer) -> None:
                self.send_response(answer.status)
                for name, value in answer.headers:
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

        return Handler


def enabled_regions_only(
    proxy: RewritingProxy,
    regions: set[str],
    caller: Callable[[Call], set[str] | None] | None = None,
) -> None:
    """DescribeRegions answers as for an account with just these regions enabled; with
    `caller`, as for the regions it gives the request's account (None: `regions`)."""

    def keep(call: Call, answer: Answer) -> Answer:
        enabled = (caller(call) if caller else None) or regions
        text = answer.body.decode()
        items = re.findall(r"<item>.*?</item>", text, re.S)
        for item in items:
            name = re.search(r"<regionName>(.*?)</regionName>", item)
            if name and name.group(1) not in enabled:
                text = text.replace(item, "")
        return Answer(answer.status, answer.headers, text.encode())

    proxy.on("DescribeRegions", keep)


def account_of_key(proxy: RewritingProxy, known: dict[str, str]) -> Callable[[Call], str | None]:
    """Which account a request is made in, by its signing key: `known` keys (access key ID ->
    account) and the keys of every role the client assumes through the proxy."""
    keys = dict(known)

    def record(call: Call, answer: Answer) -> None:
        role = parse_qs(call.body.decode()).get("RoleArn", [""])[0]
        key = re.search(r"<AccessKeyId>(.*?)</AccessKeyId>", answer.body.decode())
        if role and key:
            keys[key.group(1)] = role.split(":")[4]

    proxy.on("AssumeRole", record)
    return lambda call: keys.get(call.access_key)


def trail_rewrite(change: Callable[[dict], object]) -> tuple[str, Rule]:
    """DescribeTrails answers with `change` made to each trail it lists: (operation, rewrite)
    for `RewritingProxy.on`."""

    def rewrite(call: Call, answer: Answer) -> Answer:
        document = answer.json()
        for trail in document.get("trailList", []):
            change(trail)
        return answer.with_json(document)

    return "DescribeTrails", rewrite


def selectors_answer(proxy: RewritingProxy, trail_name: str, selectors: dict) -> None:
    """GetEventSelectors of the trail answers `selectors` (EventSelectors and/or
    AdvancedEventSelectors), as AWS does after a PutEventSelectors that replaced every
    selector: moto keeps advanced selectors beside basic ones put later."""

    def answer_with(call: Call, answer: Answer) -> Answer | None:
        if trail_name in call.json().get("TrailName", ""):
            return answer.with_json({"TrailARN": answer.json()["TrailARN"], **selectors})
        return None

    proxy.on("GetEventSelectors", answer_with)


def accounts_without_status(proxy: RewritingProxy) -> None:
    """ListAccounts as Organizations answers since 2026-09-09: `State` only, no `Status`."""

    def retire(call: Call, answer: Answer) -> Answer:
        document = answer.json()
        for account in document.get("Accounts", []):
            account.pop("Status", None)
        return answer.with_json(document)

    proxy.on("ListAccounts", retire)


def failing_listings(proxy: RewritingProxy, account_id: str, error: Answer) -> None:
    """S3 ListObjectsV2 under an account's log prefix answers `error` (denied, throttled...)."""

    def fail(call: Call, answer: Answer) -> Answer | None:
        prefix = call.query.get("prefix", [""])[0]
        return error if call.query.get("list-type") and account_id in prefix else None

    proxy.add(fail)
