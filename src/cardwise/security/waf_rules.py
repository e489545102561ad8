"""The firewall's rule file (``waf_rules.yaml``): validated once, compiled, and self-tested at load.

Validation is strict (unknown fields, bad regexes, bad rate-limit strings are errors) and every problem
is reported at once. Each pattern rule carries ``examples`` it must block and the file carries ``allow``
texts no rule may block, so a careless edit that stops catching an attack or starts blocking Korean text
or a merchant name fails at start, not in production.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import unquote_plus

import yaml
from limits import RateLimitItem, parse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

DEFAULT_RULES = Path(__file__).with_name("waf_rules.yaml")
Target = Literal["path", "query", "body"]
_ALL_TARGETS: tuple[Target, ...] = ("path", "query", "body")


class RulesError(ValueError):
    """The rule file is invalid; the message lists every problem."""


def _regex(v: str) -> str:
    try:
        re.compile(v)
    except re.error as exc:
        raise ValueError(f"invalid regular expression: {exc}") from None
    return v


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClientIp(_Strict):
    trusted_proxies: list[str] = Field(default_factory=list)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for net in v:
            ipaddress.ip_network(net, strict=False)
        return v


class Body(_Strict):
    max_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)


class RateLimit(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    key: Literal["ip", "account"]
    limit: str
    paths: list[str] = Field(default_factory=lambda: ["/"])
    exclude_paths: list[str] = Field(default_factory=list)
    methods: list[str] = Field(default_factory=list)

    @field_validator("limit")
    @classmethod
    def _parses(cls, v: str) -> str:
        parse(v)  # raises ValueError on "10/fortnight"
        return v

    def applies(self, method: str, path: str) -> bool:
        if self.methods and method not in self.methods:
            return False
        return path.startswith(tuple(self.paths)) and not path.startswith(tuple(self.exclude_paths))


class PatternRule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9-]{1,39}$")
    category: str
    description: str
    targets: list[Target] = Field(default_factory=lambda: list(_ALL_TARGETS))
    # Substrings the pattern cannot match without; a text with none of them skips the regex.
    triggers: list[str] = Field(min_length=1)
    pattern: str
    examples: list[str] = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return _regex(v)


class UserAgentRule(_Strict):
    id: str
    category: str
    description: str
    pattern: str
    examples: list[str] = Field(min_length=1)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        return _regex(v)


class AlarmRule(_Strict):
    id: str = Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")
    description: str
    kinds: list[str] = Field(min_length=1)
    group_by: Literal["user", "source_ip", "none"]
    distinct: Literal["source_ip"] | None = None
    threshold: int = Field(ge=1)
    window_seconds: int = Field(ge=10, le=86_400)


class AccountAddresses(_Strict):
    threshold: int = Field(default=5, ge=2)
    window_seconds: int = Field(default=600, ge=10)
    max_accounts: int = Field(default=100_000, ge=100)


class RulesFile(_Strict):
    version: Literal[1]
    client_ip: ClientIp = Field(default_factory=ClientIp)
    body: Body = Field(default_factory=Body)
    exempt_paths: list[str] = Field(default_factory=list)
    uninspected_bodies: list[str] = Field(default_factory=list)
    rate_limits: list[RateLimit] = Field(default_factory=list)
    patterns: list[PatternRule] = Field(default_factory=list)
    user_agents: list[UserAgentRule] = Field(default_factory=list)
    allow: list[str] = Field(default_factory=list)
    alarms: list[AlarmRule] = Field(default_factory=list)
    account_addresses: AccountAddresses = Field(default_factory=AccountAddresses)


# --- normalisation ------------------------------------------------------------------------------------------

_SQL_COMMENT = re.compile(r"/\*.*?\*/", re.S)


def normalize(text: str) -> str:
    """The form the patterns see: percent-decoded (twice: double encoding is a classic evasion), NFKC
    (full-width ＜script＞ becomes <script>), lower case, inline SQL comments as spaces (un/**/ion)."""
    for _ in range(2):
        if "%" not in text and "+" not in text:
            break
        decoded = unquote_plus(text)
        if decoded == text:
            break
        text = decoded
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    text = text.lower()
    if "/*" in text:
        text = _SQL_COMMENT.sub(" ", text)
    return text


@dataclass(frozen=True)
class Match:
    rule_id: str
    category: str
    target: str
    fragment: str  # the matched text (normalised), cut short; redacted before it is logged


@dataclass(frozen=True)
class CompiledRules:
    source: Path
    spec: RulesFile
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    limits: tuple[tuple[RateLimit, RateLimitItem], ...]
    _by_target: dict[str, tuple[tuple[PatternRule, tuple[str, ...], re.Pattern[str]], ...]]
    _user_agents: tuple[tuple[UserAgentRule, re.Pattern[str]], ...]

    @property
    def max_body_bytes(self) -> int:
        return self.spec.body.max_bytes

    def inspect(self, target: Target, raw: str) -> Match | None:
        """The first rule for ``target`` that matches ``raw`` (after normalisation), else None."""
        if not raw:
            return None
        text = normalize(raw)
        for rule, triggers, rx in self._by_target[target]:
            # Plain substring tests (C loops) first: most values (ids, times, Korean text) trigger no rule.
            if not any(t in text for t in triggers):
                continue
            m = rx.search(text)
            if m is not None:
                return Match(rule.id, rule.category, target, text[max(0, m.start() - 20) : m.end() + 20][:120])
        return None

    def inspect_user_agent(self, ua: str) -> Match | None:
        text = ua.lower()
        for rule, rx in self._user_agents:
            if rx.search(text):
                return Match(rule.id, rule.category, "user_agent", text[:120])
        return None


def _compile(spec: RulesFile, source: Path) -> CompiledRules:
    by_target: dict[str, list[tuple[PatternRule, tuple[str, ...], re.Pattern[str]]]] = {t: [] for t in _ALL_TARGETS}
    for rule in spec.patterns:
        rx = re.compile(rule.pattern)
        for t in rule.targets:
            by_target[t].append((rule, tuple(rule.triggers), rx))
    return CompiledRules(
        source=source,
        spec=spec,
        trusted_proxies=tuple(ipaddress.ip_network(n, strict=False) for n in spec.client_ip.trusted_proxies),
        limits=tuple((rl, parse(rl.limit)) for rl in spec.rate_limits),
        _by_target={t: tuple(v) for t, v in by_target.items()},
        _user_agents=tuple((u, re.compile(u.pattern)) for u in spec.user_agents),
    )


def _self_test(rules: CompiledRules) -> list[str]:
    problems: list[str] = []
    for rule in rules.spec.patterns:
        rx = re.compile(rule.pattern)
        for ex in rule.examples:
            text = normalize(ex)
            if not any(t in text for t in rule.triggers):
                problems.append(f"pattern {rule.id}: none of its triggers is in its example {ex!r}")
            elif rx.search(text) is None or all(rules.inspect(t, ex) is None for t in rule.targets):
                problems.append(f"pattern {rule.id}: does not block its own example {ex!r}")
    for ua_rule, rx in rules._user_agents:
        for ex in ua_rule.examples:
            if rx.search(ex.lower()) is None:
                problems.append(f"user agent {ua_rule.id}: does not match its own example {ex!r}")
    for text in rules.spec.allow:
        for target in _ALL_TARGETS:
            m = rules.inspect(target, text)
            if m is not None:
                problems.append(f"pattern {m.rule_id}: blocks the allowed text {text!r} (as {target})")
    ids = (
        [r.id for r in rules.spec.patterns] + [r.id for r in rules.spec.rate_limits] + [a.id for a in rules.spec.alarms]
    )
    problems += [f"duplicate rule id {i!r}" for i in sorted({i for i in ids if ids.count(i) > 1})]
    return problems


def load_rules(path: Path | None = None) -> CompiledRules:
    """The rule file at ``path`` (the packaged default when None), validated, compiled and self-tested."""
    source = path or DEFAULT_RULES
    try:
        raw = yaml.safe_load(source.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RulesError(f"{source}: cannot read the firewall rules: {exc}") from None
    try:
        spec = RulesFile.model_validate(raw)
    except ValidationError as exc:
        lines = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise RulesError(f"{source}: invalid firewall rules:\n  " + "\n  ".join(lines)) from None
    rules = _compile(spec, source)
    problems = _self_test(rules)
    if problems:
        raise RulesError(f"{source}: firewall rules fail their own examples:\n  " + "\n  ".join(problems))
    return rules


@lru_cache(maxsize=8)
def cached_rules(path: Path | None = None) -> CompiledRules:
    return load_rules(path)
