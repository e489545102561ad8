"""The policy file: the documented default loads; a bad file fails at load with every problem named."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from cardwise.config import Settings
from cardwise.family.policy import DEFAULT_POLICY_PATH, PolicyError, cached_policy, load_policy, parse_policy


def _default() -> dict:
    return yaml.safe_load(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"))


def _bad(mutate) -> str:  # type: ignore[no-untyped-def]
    data = _default()
    mutate(data)
    with pytest.raises(PolicyError) as err:
        parse_policy(yaml.safe_dump(data, allow_unicode=True), "test.yaml")
    return str(err.value)


def test_default_policy() -> None:
    p = load_policy()
    assert p.age.threshold == 50 and (p.members.min, p.members.max) == (2, 6) and p.grace_days == 30
    assert set(p.relations) == {
        "spouse", "unmarried_partner", "cohabitant", "parent", "child", "sibling", "grandparent", "grandchild", "in_law"
    }  # fmt: skip
    assert p.relations["cohabitant"].proof == "resident_registration_abstract"
    assert p.relations["in_law"].proof == "family_relation_certificate"
    assert p.proofs["family_relation_certificate"].valid_months == 3
    assert p.proofs["resident_registration_abstract"].same_address
    assert [t.min_members for t in p.benefits.size_tiers] == [2, 3, 4]
    assert p.benefits.tenure.mode == "summed"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["benefits"]["size_tiers"][2].update(savings_bonus_pp=0.05), "never decrease"),
        (lambda d: d["benefits"]["size_tiers"].reverse(), "sorted by min_members"),
        (lambda d: d["benefits"]["tenure"]["tiers"][2].update(card_discount_pct=0), "never decrease"),
        (lambda d: d["benefits"]["tenure"].update(mode="average"), "benefits.tenure.mode"),
        (lambda d: d["relations"]["cohabitant"].update(proof="utility_bill"), "'utility_bill'"),
        (lambda d: d["relations"].update(neighbour=d["relations"]["child"]), "unknown relations ['neighbour']"),
        (lambda d: d["members"].update(min=5, max=3), "members.max (3) is below members.min (5)"),
        (lambda d: d["members"].update(max=3), "size tiers for [4] members can never apply"),
        (lambda d: d["age"].update(threshold=-1), "age.threshold"),
        (lambda d: d.pop("grace_days"), "grace_days: Field required"),
        (lambda d: d.update(grace_dayz=3), "grace_dayz: Extra inputs are not permitted"),
        (lambda d: d["notifications"]["grace"].update(body_ko="{deadlne}까지"), "unknown placeholders ['deadlne']"),
        (lambda d: d["notifications"]["grace"].update(body_en="{oops"), "malformed template"),
        (lambda d: d["notifications"].pop("dissolved"), "missing ['dissolved']"),
        (lambda d: d["benefits"]["point_pooling"]["relations"].append("pet"), "['pet']"),
        (lambda d: d["benefits"]["age_bonus"].append({"min_age": 60, "savings_bonus_pp": 0.1}), "age_bonus"),
        (lambda d: d["benefits"]["caps"].update(savings_bonus_pp="lots"), "caps.savings_bonus_pp"),
    ],
)
def test_a_bad_policy_names_its_problem(mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    text = _bad(mutate)
    assert text.startswith("family policy test.yaml is invalid") and message in text, text


def test_not_yaml_or_not_a_mapping(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not valid YAML"):
        parse_policy("age: [1, 2", "x.yaml")
    with pytest.raises(PolicyError, match="mapping at the top level"):
        parse_policy("- 1\n- 2\n", "x.yaml")
    with pytest.raises(PolicyError, match="cannot read family policy"):
        load_policy(tmp_path / "missing.yaml")


def test_settings_refuse_a_bad_policy_file(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("version: x\n", encoding="utf-8")
    with pytest.raises(ValidationError, match=r"family policy .* is invalid"):
        Settings(family_policy_path=bad)
    good = tmp_path / "good.yaml"
    good.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    assert Settings(family_policy_path=good).family_policy_path == good


def test_cached_policy_reloads_an_edited_file(tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(DEFAULT_POLICY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    first = cached_policy(path)
    assert cached_policy(path) is first
    data = _default()
    data["age"]["threshold"] = 60
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cached_policy(path).age.threshold == 60
