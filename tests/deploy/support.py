"""Checks shared by the deployment tests: does a `cardwise …` command line exist, is a variable a setting."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import typer

from cardwise.cli import app
from cardwise.config import Settings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
ENV_EXAMPLE = DEPLOY / ".env.example"
NGINX_CONF = DEPLOY / "nginx.conf"
TEMPLATE = DEPLOY / "aws" / "cardwise.yaml"

HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(\d+)(/\w+)")


def settings_env_names() -> set[str]:
    """Every environment variable the settings object reads."""
    return {f"CARDWISE_{name.upper()}" for name in Settings.model_fields}


def cli_command(args: list[str]) -> tuple[list[str], Any]:
    """Resolve ``cardwise ARGS`` to its command path and parse its options without running it.

    Raises AssertionError when a (sub)command does not exist or the options do not parse (unknown option,
    wrong type, missing argument). Groups are walked by their ``commands`` mapping: recent Typer versions
    ship their own copy of click, so ``isinstance(…, click.Group)`` cannot be relied on."""
    cmd: Any = typer.main.get_command(app)
    rest, path = list(args), ["cardwise"]
    while isinstance(getattr(cmd, "commands", None), dict):
        assert rest and not rest[0].startswith("-"), f"`{' '.join(path)}` needs a subcommand, got {args}"
        name = rest.pop(0)
        sub = cmd.commands.get(name)
        assert sub is not None, f"`{' '.join([*path, name])}` is not a cardwise command (from {args})"
        cmd, path = sub, [*path, name]
    try:
        ctx = cmd.make_context(" ".join(path), rest)
    except Exception as exc:  # click's UsageError / BadParameter, from whichever click Typer uses
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise AssertionError(f"`{' '.join(path)}` rejects {rest}: {message}") from None
    return path[1:], ctx


def option(args: list[str], name: str) -> str | None:
    """The value given to ``--name`` on a command line (``--name V`` or ``--name=V``)."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def health_port_and_path(test: list[str] | str) -> tuple[int, str]:
    text = " ".join(test) if isinstance(test, list) else test
    m = HEALTH_URL.search(text)
    assert m, f"no http://127.0.0.1:PORT/PATH in health check {test!r}"
    return int(m.group(1)), m.group(2)


@dataclass
class Dockerfile:
    """The instructions of a Dockerfile, continuation lines joined, comments dropped."""

    instructions: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def parse(cls, path: Path) -> Dockerfile:
        out, buf = [], ""
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not buf and (not line or line.startswith("#")):
                continue
            if line.startswith("#"):  # a comment inside a continued instruction
                continue
            if line.endswith("\\"):
                buf += line[:-1] + " "
                continue
            buf += line
            keyword, _, rest = buf.partition(" ")
            out.append((keyword.upper(), rest.strip()))
            buf = ""
        return cls(out)

    def all(self, keyword: str) -> list[str]:
        return [rest for kw, rest in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"no {keyword} in the Dockerfile"
        return found[-1]

    def stages(self) -> list[list[tuple[str, str]]]:
        """Instructions per stage (a FROM starts one)."""
        result: list[list[tuple[str, str]]] = []
        for kw, rest in self.instructions:
            if kw == "FROM":
                result.append([])
            if result:
                result[-1].append((kw, rest))
        return result

    def exec_form(self, keyword: str) -> list[str]:
        """The JSON (exec) form of the final ENTRYPOINT / CMD."""
        value = self.last(keyword)
        parsed = json.loads(value)
        assert isinstance(parsed, list), f"{keyword} must use the exec (JSON) form"
        return parsed

    def env(self, stage: int = -1) -> dict[str, str]:
        """ENV of one stage (the final one by default), ``KEY=VALUE`` pairs."""
        values: dict[str, str] = {}
        for kw, rest in self.stages()[stage]:
            if kw == "ENV":
                for pair in shlex.split(rest):
                    key, sep, value = pair.partition("=")
                    assert sep, f"use ENV KEY=VALUE, not {rest!r}"
                    values[key] = value
        return values

    def healthcheck_command(self) -> list[str]:
        rest = self.last("HEALTHCHECK")
        _, _, command = rest.partition(" CMD ")
        return json.loads(command)
