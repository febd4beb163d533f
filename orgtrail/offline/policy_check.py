"""Run the CrossGuard pack the way the Pulumi CLI does and ask it about a simulated stack.

The CLI starts `python -u -m pulumi.policy <engine> <pack-dir>`, reads the
port the pack prints, and speaks the Analyzer gRPC protocol: GetAnalyzerInfo,
Configure, Analyze (per resource, its inputs) and AnalyzeStack (all
resources with outputs, parents and dependencies). This module does the same,
so the plan and the tests exercise the published pack itself.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from orgtrail.offline.simulate import PROJECT_DIR, Resource

PACK_DIR = PROJECT_DIR / "policies"
LEVELS = {value: name.lower() for name, value in analyzer_pb2.EnforcementLevel.items()}
STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Verdict:
    policy: str
    level: str  # advisory | mandatory | disabled | remediate
    message: str
    urn: str


class PackError(RuntimeError):
    pass


def struct(value: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(json.loads(json.dumps(value)))
    return message


def _provider_urn(reference: str) -> str:
    """A provider reference is '<urn>::<id>'."""
    return reference.rsplit("::", 1)[0] if reference else ""


def _provider(reference: str) -> analyzer_pb2.AnalyzerProviderResource | None:
    """The provider as the engine describes it to Analyze and AnalyzeStack (URN, type, name)."""
    if not reference:
        return None
    provider_urn = _provider_urn(reference)
    qualified_type, name = provider_urn.split("::")[-2:]
    return analyzer_pb2.AnalyzerProviderResource(
        urn=provider_urn, type=qualified_type.rsplit("$", 1)[-1], name=name
    )


def level_and_properties(given: str | Mapping[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """One policy's entry of a `--policy-pack-config` file: its enforcement level (None when
    not given) and its other properties. The CLI's shorthand is the level alone."""
    values = {"enforcementLevel": given} if isinstance(given, str) else dict(given)
    return values.pop("enforcementLevel", None), values


class RunningPack:
    """A policy pack process and a client for it; use as a context manager."""

    def __init__(self, pack_dir: Path = PACK_DIR, python: str = sys.executable):
        self.pack_dir = pack_dir
        self.python = python
        self.process: subprocess.Popen | None = None
        self.channel: grpc.Channel | None = None
        self.stub: analyzer_pb2_grpc.AnalyzerStub | None = None

    def __enter__(self) -> RunningPack:
        self.process = subprocess.Popen(
            # The engine address is unused by Python packs; the CLI passes its own.
            [self.python, "-u", "-m", "pulumi.policy", "127.0.0.1:0", str(self.pack_dir)],
            cwd=self.pack_dir,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        port = self._read_port()
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        grpc.channel_ready_future(self.channel).result(timeout=STARTUP_SECONDS)
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)
        return self

    def _read_port(self) -> int:
        assert self.process is not None and self.process.stdout is not None
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        ready = selector.select(timeout=STARTUP_SECONDS)
        selector.close()
        line = self.process.stdout.readline().decode().strip() if ready else ""
        if not line.isdigit():
            self.__exit__(None, None, None)
            raise PackError(f"policy pack in {self.pack_dir} did not start: {line!r}")
        return int(line)

    def __exit__(self, *_exc) -> None:
        if self.channel is not None:
            self.channel.close()
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()

    # protocol calls

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty())

    def configure(self, config: Mapping[str, Mapping[str, Any]]) -> None:
        """Policy config as in a `--policy-pack-config` file: {policy: {enforcementLevel?, ...props}},
        or the CLI's shorthand {policy: "mandatory"}.

        Like the CLI, every policy is sent its effective enforcement level (the
        pack's default unless the config overrides it): a policy configured
        without a level would otherwise fall back to advisory.
        """
        level_values = dict(analyzer_pb2.EnforcementLevel.items())
        policy_config = {}
        for policy in self.info().policies:
            level, values = level_and_properties(config.get(policy.name, {}))
            policy_config[policy.name] = analyzer_pb2.PolicyConfig(
                enforcementLevel=level_values[level.upper()] if level else policy.enforcementLevel,
                properties=struct(values),
            )
        self.stub.Configure(analyzer_pb2.ConfigureAnalyzerRequest(policyConfig=policy_config))

    def analyze(self, resource: Resource) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.Analyze(
            analyzer_pb2.AnalyzeRequest(
                type=resource.type,
                properties=struct(resource.inputs),
                urn=resource.urn,
                name=resource.name,
                options=analyzer_pb2.AnalyzerResourceOptions(
                    protect=resource.protect, parent=resource.parent
                ),
                provider=_provider(resource.provider),
            )
        )

    def analyze_stack(self, resources: Iterable[Resource]) -> analyzer_pb2.AnalyzeResponse:
        return self.stub.AnalyzeStack(
            analyzer_pb2.AnalyzeStackRequest(
                resources=[
                    analyzer_pb2.AnalyzerResource(
                        type=r.type,
                        properties=struct(r.outputs),
                        urn=r.urn,
                        name=r.name,
                        parent=r.parent,
                        dependencies=r.dependencies,
                        propertyDependencies={
                            key: analyzer_pb2.AnalyzerPropertyDependencies(urns=urns)
                            for key, urns in r.property_dependencies.items()
                        },
                        provider=_provider(r.provider),
                    )
                    for r in resources
                ]
            )
        )

    def verdicts(self, resources: list[Resource]) -> list[Verdict]:
        """Everything the engine would ask about one stack: each resource, then the stack."""
        responses = [self.analyze(r) for r in resources if r.custom]
        responses.append(self.analyze_stack(resources))
        return [
            Verdict(d.policyName, LEVELS[d.enforcementLevel], d.message, d.urn)
            for response in responses
            for d in response.diagnostics
        ]
