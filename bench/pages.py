"""Server time of the customer pages on a loaded seed002 database (every page ≤ 300 ms). Prints per-page
p50/p99 in milliseconds; the last line is one JSON object. The back-office, agent and analyst pages have
their own script with the same method: bench/backoffice_pages.py.

Prepare a scratch data directory once (the lake, a loaded database, the month's spend reports):

    export CARDWISE_DATA_DIR=/tmp/scratch; mkdir -p $CARDWISE_DATA_DIR; ln -s $PWD/var/lake $CARDWISE_DATA_DIR/lake
    cardwise db upgrade && cardwise db load && cardwise recommend run --month 2023-09
    python bench/pages.py --repeat 30

The script signs in as a customer with the most cards (creating the user, a family group and a few
hundred declined payments on the first run) and times each page in-process (routing, session check,
services, template), without the network.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.config import get_settings
from cardwise.db.engine import engine_for
from cardwise.db.models import Card, Merchant
from cardwise.safety.models import Authorization
from cardwise.security.users import User, create_user

PASSWORD = "bench password 42 horse"
USER = "bench.customer"
DECLINES = 300


def _prepare(settings: object) -> tuple[int, int]:
    """The bench customer and one of their cards; user, family group, controls and declines on first run."""
    from cardwise.family import service as family
    from cardwise.family.policy import cached_policy
    from cardwise.safety import service as safety
    from cardwise.safety.service import AuthorizationRequest

    engine = engine_for(settings)  # type: ignore[arg-type]
    with Session(engine) as s:
        user = s.scalar(select(User).where(User.username == USER))
        if user is not None and user.customer_id is not None:
            customer_id = user.customer_id
        else:
            customer_id = int(
                s.execute(
                    select(Card.customer_id)
                    .where(Card.closed_on.is_(None))
                    .group_by(Card.customer_id)
                    .order_by(func.count().desc(), Card.customer_id)
                    .limit(1)
                ).scalar_one()
            )
            create_user(s, username=USER, password=PASSWORD, roles=["customer"], customer_id=customer_id)
            s.commit()
        card = (
            s.execute(
                select(Card).where(Card.customer_id == customer_id, Card.closed_on.is_(None)).order_by(Card.card_id)
            )
            .scalars()
            .first()
        )
        assert card is not None
        card_id, token = card.card_id, card.token
        if family.current_membership(s, customer_id) is None:
            family.create_group(
                s, cached_policy(None), customer_id=customer_id, name="벤치 가족", now=datetime.now(UTC)
            )
            s.commit()
        have = s.scalar(select(func.count()).select_from(Authorization).where(Authorization.card_id == card_id))
        if (have or 0) < DECLINES:
            merchant = s.execute(
                select(Merchant.merchant_id, Merchant.category_code).where(Merchant.country == "KR").limit(1)
            ).one()
            safety.set_controls(
                s,
                card_id=card_id,
                allowed_regions=None,
                blocked_windows=[],
                blocked_categories=[merchant.category_code],
                max_amount_krw=None,
                block_online=False,
                block_overseas=False,
                block_contactless=False,
            )
            start = datetime.now(UTC) - timedelta(days=30)
            for i in range(DECLINES):
                safety.authorize(
                    s,
                    AuthorizationRequest(
                        idempotency_key=f"bench-pages-{uuid.uuid4().hex}",
                        card_token=token,
                        amount_krw=10_000 + i,
                        merchant_id=merchant.merchant_id,
                        at=start + timedelta(minutes=137 * i),
                        channel="offline",
                    ),
                )
            s.commit()
    engine.dispose()
    return customer_id, card_id


def pages(card_id: int) -> dict[str, str]:
    return {
        "my_cards": "/my/cards",
        "card": f"/my/cards/{card_id}",
        "regions": f"/my/cards/{card_id}/regions",
        "times": f"/my/cards/{card_id}/times",
        "categories": f"/my/cards/{card_id}/categories",
        "pause": f"/my/cards/{card_id}/pause",
        "lost": f"/my/cards/{card_id}/lost",
        "alerts": "/my/alerts",
        "report": "/my/report",
        "report_en": "/my/report?lang=en",
        "family": "/my/family",
        "family_benefits": "/my/family/benefits",
        "family_what_if": "/my/family/what-if",
    }


def timed(call: object, repeat: int) -> dict[str, float]:
    """Wall time and this process's CPU time per call (the CPU figure is what the page costs; the wall
    figure also holds waiting for cores that other programs on a shared machine are using)."""
    walls, cpus = [], []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        call()  # type: ignore[operator]
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    walls.sort()
    cpus.sort()
    at = min(repeat - 1, int(repeat * 0.99))
    return {
        "p50_ms": round(statistics.median(walls), 1),
        "p99_ms": round(walls[at], 1),
        "cpu_p50_ms": round(statistics.median(cpus), 1),
        "cpu_p99_ms": round(cpus[at], 1),
    }


def show(name: str, r: dict[str, float], what: str) -> None:
    print(
        f"{name:16s} p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms  "
        f"(cpu p50 {r['cpu_p50_ms']:5.1f}, p99 {r['cpu_p99_ms']:5.1f})  {what}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    settings = get_settings().model_copy(update={"cookie_secure": False, "scheduler_enabled": False})
    customer_id, card_id = _prepare(settings)
    results: dict[str, dict[str, float]] = {}
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/login", data={"username": USER, "password": PASSWORD, "next": "/home"}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        for name, path in pages(card_id).items():
            last = client.get(path)  # warm: template compiled, caches filled
            assert last.status_code == 200, (path, last.status_code, last.text[:300])
            assert not re.search(r"(?<![\d.])\d{15,16}(?![\d.])", last.text), f"{path}: something like a card number"

            def get(path: str = path) -> None:
                assert client.get(path).status_code == 200

            results[name] = timed(get, args.repeat)
            show(name, results[name], path)
        visitor = TestClient(client.app)  # the login page as a visitor sees it (no session, no redirect)
        results["login"] = timed(lambda: visitor.get("/login"), args.repeat)
        show("login", results["login"], "/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/my/cards/{card_id}/categories").text)
        assert token

        def save() -> None:  # one write: saving the blocked categories (a full form round trip)
            r = client.post(
                f"/my/cards/{card_id}/categories",
                data={"csrf_token": token.group(1), "category": ["BAR", "KARAOKE"]},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text[:300]

        results["save_categories"] = timed(save, args.repeat)
        show("save_categories", results["save_categories"], "POST")
    worst = max(v["p99_ms"] for v in results.values())
    worst_cpu = max(v["cpu_p99_ms"] for v in results.values())
    print(
        json.dumps(
            {
                "bench": "customer_pages",
                "customer_id": customer_id,
                "repeat": args.repeat,
                "pages": results,
                "worst_p99_ms": worst,
                "worst_cpu_p99_ms": worst_cpu,
                "target_ms": 300,
                "ok": worst <= 300,
            }
        )
    )


if __name__ == "__main__":
    main()
