"""Random lifecycles of family groups through the real service and database (Hypothesis state machine),
on SQLite and PostgreSQL. Whatever customers do — found, invite, accept, prove, leave, rejoin, wait —
these hold after every step:

- a customer is in at most one group;
- a group is active exactly when it qualifies today, so never without its older member;
- a dissolved group has no members and no pending invitations;
- a day that has passed keeps its benefits: later events never rewrite history.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from cardwise.core.errors import DomainError
from cardwise.db.engine import make_engine, session_scope
from cardwise.db.migrate import upgrade
from cardwise.db.models import Customer, Region
from cardwise.family import service
from cardwise.family.models import FamilyDocument, FamilyEvent, FamilyGroup, FamilyInvitation, FamilyMembership
from cardwise.family.policy import load_policy
from cardwise.notify.models import OutboxMessage
from tests.db_fixtures import temporary_schema

POLICY = load_policy()
SECRET = service.derive_invite_secret("lifecycle")
# Two customers who are 50 or over for the whole run, four who never are.
BIRTH_YEARS = {1: 1950, 2: 1962, 3: 1990, 4: 1992, 5: 1995, 6: 2001}
PEOPLE = st.sampled_from(sorted(BIRTH_YEARS))
START = datetime(2031, 3, 2, 1, 0, tzinfo=UTC)
REACHED: Counter[str] = Counter()  # states the runs went through: the test checks it explored them


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def lifecycle_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('lifecycle') / 'cw.db'}"
        else:
            url = stack.enter_context(temporary_schema())
        upgrade(url)
        engine = make_engine(url)
        stack.callback(engine.dispose)
        with session_scope(engine) as s:
            s.add(Region(region_code="11", level="province", parent_code=None, name_ko="서울", name_en="Seoul"))
            s.flush()
            for cid, year in BIRTH_YEARS.items():
                s.add(
                    Customer(
                        customer_id=cid,
                        birth_year=year,
                        gender="F",
                        home_region_code="11",
                        occupation="office_worker",
                        is_sole_proprietor=False,
                        marital_status="married",
                        household_id=cid,
                        relation_to_head="head",
                        income_band=3,
                        target_group="credit",
                        marketing_consent=True,
                        preferred_channel="sms",
                        joined_on=date(2010, 1, 1),
                    )
                )
        yield engine


class Lifecycle(RuleBasedStateMachine):
    engine: Engine

    @initialize(rep=PEOPLE, older=st.sampled_from([1, 2]), seed=st.booleans())
    def fresh(self, rep: int, older: int, seed: bool) -> None:
        """An empty bundle, or (half the runs) one family that qualifies, so every state gets explored."""
        with session_scope(self.engine) as s:
            for model in (FamilyDocument, FamilyMembership, FamilyInvitation, FamilyEvent, FamilyGroup, OutboxMessage):
                s.execute(delete(model))
        self.now = START
        self.seen: dict[tuple[int, date], str] = {}  # benefit signatures of days, as first observed after the day
        if seed:
            self.found(rep)
            self.bring_in(rep, older if older != rep else 3, "parent" if older != rep else "child")

    # --- helpers --------------------------------------------------------------------------------------------------

    def _try(self, fn, **kw) -> object | None:  # type: ignore[no-untyped-def]
        try:
            with session_scope(self.engine) as s:
                return fn(s, **kw)
        except DomainError:
            return None  # a refusal is a legitimate outcome; the invariants decide whether state stayed sound

    def _current(self, s: Session, customer_id: int) -> FamilyMembership | None:
        return service.current_membership(s, customer_id)

    # --- steps ------------------------------------------------------------------------------------------------------

    @rule(who=PEOPLE)
    def found(self, who: int) -> None:
        self._try(service.create_group, policy=POLICY, customer_id=who, name="가족", now=self.now)

    @rule(rep=PEOPLE, who=PEOPLE, relation=st.sampled_from(["child", "sibling", "parent", "spouse", "cohabitant"]))
    def invite(self, rep: int, who: int, relation: str) -> None:
        with Session(self.engine) as s:
            mine = self._current(s, rep)
        if mine is None:
            return
        self._try(
            service.invite,
            policy=POLICY,
            group_id=mine.group_id,
            customer_id=rep,
            relation=relation,
            invitee=service.Invitee("customer_id", str(who)),
            secret=SECRET,
            now=self.now,
        )

    @rule(rep=PEOPLE, who=PEOPLE, relation=st.sampled_from(["child", "parent", "sibling"]))
    def bring_in(self, rep: int, who: int, relation: str) -> None:
        """Invite, accept and verify in one go (the path most families take), so runs reach active groups.
        Someone alone in a group of their own leaves it first, as the app would ask them to."""
        with Session(self.engine) as s:
            theirs = self._current(s, who)
            alone = theirs is not None and len(service.members_of(s, theirs.group_id)) == 1 and rep != who
        if alone and theirs is not None:
            self._try(
                service.leave,
                policy=POLICY,
                group_id=theirs.group_id,
                customer_id=who,
                new_representative_id=None,
                now=self.now,
            )
        self.invite(rep, who, relation)
        with Session(self.engine) as s:
            invitation_id = s.execute(
                select(FamilyInvitation.invitation_id).where(
                    FamilyInvitation.status == "pending", FamilyInvitation.invitee_customer_id == who
                )
            ).scalar()
        if invitation_id is not None:
            self._try(service.accept, policy=POLICY, invitation_id=invitation_id, customer_id=who, now=self.now)
            self.prove(who, verify=True)

    @rule(data=st.data())
    def accept(self, data: st.DataObject) -> None:
        with Session(self.engine) as s:
            pending = s.execute(
                select(FamilyInvitation.invitation_id, FamilyInvitation.invitee_customer_id)
                .where(FamilyInvitation.status == "pending")
                .order_by(FamilyInvitation.invitation_id)
            ).all()
        if not pending:
            return
        invitation_id, who = data.draw(st.sampled_from(pending))
        self._try(service.accept, policy=POLICY, invitation_id=invitation_id, customer_id=who, now=self.now)

    @rule(who=PEOPLE, verify=st.booleans())
    def prove(self, who: int, verify: bool) -> None:
        with Session(self.engine) as s:
            mine = self._current(s, who)
        if mine is None or mine.relation not in POLICY.relations:
            return
        proof = POLICY.relations[mine.relation].proof
        doc = self._try(
            service.submit_document,
            policy=POLICY,
            group_id=mine.group_id,
            member_id=who,
            customer_id=who,
            kind=proof,
            issued_on=service.seoul_date(self.now),
            same_address=True,
            reference="docs/x",
            now=self.now,
        )
        if isinstance(doc, FamilyDocument):
            self._try(
                service.review_document,
                policy=POLICY,
                document_id=doc.document_id,
                decision="verified" if verify else "rejected",
                note=None if verify else "흐릿함",
                reviewer="agent:test",
                now=self.now,
            )

    @rule(who=PEOPLE, data=st.data())
    def leave(self, who: int, data: st.DataObject) -> None:
        with Session(self.engine) as s:
            mine = self._current(s, who)
            if mine is None:
                return
            group = s.get(FamilyGroup, mine.group_id)
            others = [
                m.customer_id
                for m in service.members_of(s, mine.group_id)
                if m.customer_id != who and m.proof_verified_at is not None
            ]
        successor = data.draw(st.sampled_from(others)) if group and group.representative_id == who and others else None
        self._try(
            service.leave,
            policy=POLICY,
            group_id=mine.group_id,
            customer_id=who,
            new_representative_id=successor,
            now=self.now,
        )

    @rule(rep=PEOPLE, who=PEOPLE)
    def remove(self, rep: int, who: int) -> None:
        with Session(self.engine) as s:
            mine = self._current(s, rep)
        if mine is not None:
            self._try(
                service.remove_member,
                policy=POLICY,
                group_id=mine.group_id,
                member_id=who,
                actor_customer_id=rep,
                actor=f"customer:{rep}",
                now=self.now,
            )

    @rule(days=st.sampled_from([0, 1, 3, 10, 31, 61]))
    def wait_and_check(self, days: int) -> None:
        self.now += timedelta(days=days, minutes=1)
        summary = service.run_daily(self.engine, POLICY, now=self.now)
        assert summary.errors == 0

    # --- invariants ---------------------------------------------------------------------------------------------------

    @invariant()
    def one_group_per_customer(self) -> None:
        with Session(self.engine) as s:
            worst = s.execute(
                select(func.count())
                .select_from(FamilyMembership)
                .where(FamilyMembership.left_at.is_(None))
                .group_by(FamilyMembership.customer_id)
                .order_by(func.count().desc())
                .limit(1)
            ).scalar()
        assert worst in (None, 1)

    @invariant()
    def status_matches_the_rules(self) -> None:
        today = service.seoul_date(self.now)
        with Session(self.engine) as s:
            for g in s.execute(select(FamilyGroup)).scalars():
                REACHED[g.status if g.status != "dissolved" else f"dissolved:{g.dissolved_reason}"] += 1
                members = service.members_of(s, g.group_id)
                if g.status == "dissolved":
                    assert members == [] and g.dissolved_at is not None
                    pending = s.execute(
                        select(func.count())
                        .select_from(FamilyInvitation)
                        .where(FamilyInvitation.group_id == g.group_id, FamilyInvitation.status == "pending")
                    ).scalar_one()
                    assert pending == 0
                    continue
                assert members, f"open group {g.group_id} without members"
                assert g.representative_id in {m.customer_id for m in members}
                b = service.group_benefits(s, POLICY, g.group_id, today)
                if g.status == "active":
                    assert b.eligibility.eligible
                    assert any(BIRTH_YEARS[c] <= today.year - POLICY.age.threshold for c in b.eligibility.counted), (
                        "active without an older member"
                    )
                else:
                    assert not b.eligibility.eligible, (g.status, b.eligibility)
                    if g.status == "grace":
                        assert g.grace_deadline is not None and g.grace_deadline > self.now - timedelta(days=1)
                    else:
                        assert g.qualified_at is None

    @invariant()
    def past_days_never_change(self) -> None:
        today = service.seoul_date(self.now)
        with Session(self.engine) as s:
            gids = list(s.execute(select(FamilyGroup.group_id)).scalars())
            for gid in gids:
                for back in (1, 2, 5, 40):
                    day = today - timedelta(days=back)
                    signature = service.group_benefits(s, POLICY, gid, day).signature
                    key = (gid, day)
                    assert self.seen.setdefault(key, signature) == signature, f"group {gid} on {day} changed"


def test_random_lifecycles_keep_the_invariants(lifecycle_engine: Engine) -> None:
    Lifecycle.engine = lifecycle_engine
    run = Lifecycle.TestCase
    run.settings = settings(
        max_examples=30,
        stateful_step_count=25,
        deadline=None,
        derandomize=True,  # the same runs every time, so the exploration check below is stable
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    REACHED.clear()
    run().runTest()
    assert {"forming", "active", "grace"} <= set(REACHED), REACHED
    assert any(k.startswith("dissolved:") for k in REACHED), REACHED
