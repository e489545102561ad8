"""Server time of the back-office, agent and analyst pages on a loaded seed002 database (S10: every page
≤ 300 ms). Prints per-page p50/p99 in milliseconds; the last line is one JSON object.

Prepare a scratch data directory once (the lake, a loaded database, an issuer's volume of authorizations,
cluster runs, the anomaly distribution):

    export CARDWISE_DATA_DIR=/tmp/scratch; ln -s $PWD/var/lake $CARDWISE_DATA_DIR/lake
    cardwise db upgrade && cardwise db load && python bench/backoffice_data.py --rows 2000000
    cardwise safety clusters --start 2023-04-01 --end 2023-07-01 && cardwise safety clusters
    cardwise safety train && cardwise safety distribution
    python bench/backoffice_pages.py --repeat 20

The timing is the whole request in-process (routing, session check, queries, template), without the network.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from cardwise.api import create_app
from cardwise.config import get_settings
from cardwise.db.engine import engine_for
from cardwise.security.users import User, create_user

PASSWORD = "bench password 42 horse"
USER = "bench.staff"


def pages(customer_id: int) -> dict[str, tuple[str, str]]:
    """name -> (method, path); POSTs carry their form in ``_form``."""
    return {
        "backoffice": ("GET", "/backoffice"),
        "clusters": ("GET", "/backoffice/clusters"),
        "anomaly": ("GET", "/backoffice/anomaly"),
        "safety": ("GET", "/backoffice/safety"),
        "lost_reports": ("GET", "/backoffice/lost-reports?status=all"),
        "payments_live": ("GET", "/backoffice/payments"),
        "payments_live_declined": ("GET", "/backoffice/payments?decision=declined"),
        "payments_live_customer": ("GET", f"/backoffice/payments?customer={customer_id}"),
        "payments_live_category": ("GET", "/backoffice/payments?category=CAFE&min=5000"),
        "payments_lake": ("GET", "/backoffice/payments?source=lake"),
        "payments_lake_customer": ("GET", f"/backoffice/payments?source=lake&customer={customer_id}"),
        "payments_lake_day": ("GET", "/backoffice/payments?source=lake&start=2023-06-15&end=2023-06-15"),
        "family_documents": ("GET", "/backoffice/family-documents"),
        "models": ("GET", "/backoffice/models"),
        "agent_single_view": ("GET", f"/agent/customers/{customer_id}"),
        "analyst": ("GET", "/analyst"),
        "analyst_query": ("POST", "/analyst/query"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--customer", type=int, default=1)
    args = parser.parse_args()
    settings = get_settings().model_copy(update={"cookie_secure": False, "scheduler_enabled": False})
    engine = engine_for(settings)
    with Session(engine) as s:
        if s.scalar(select(User).where(User.username == USER)) is None:
            create_user(s, username=USER, password=PASSWORD, roles=["admin"])
            s.commit()
    engine.dispose()
    query = (
        "SELECT category_code, count(*) AS n, sum(amount_krw) AS krw FROM transactions "
        "WHERE month = '2023-10' GROUP BY 1 ORDER BY 3 DESC"
    )
    results: dict[str, dict[str, float]] = {}
    with TestClient(create_app(settings)) as client:
        r = client.post(
            "/login", data={"username": USER, "password": PASSWORD, "next": "/home"}, follow_redirects=False
        )
        assert r.status_code == 303, r.text
        page = client.get("/analyst")
        marker = 'name="csrf_token" value="'
        csrf = page.text.split(marker, 1)[1].split('"', 1)[0]
        for name, (method, path) in pages(args.customer).items():
            times = []
            for i in range(args.repeat + 2):
                started = time.perf_counter()
                if method == "GET":
                    resp = client.get(path)
                else:
                    resp = client.post(path, data={"sql": query, "limit": "1000", "csrf_token": csrf})
                elapsed = (time.perf_counter() - started) * 1000
                assert resp.status_code == 200, (name, resp.status_code, resp.text[:500])
                if i >= 2:  # the first two warm caches (templates, plotly figures, the OS file cache)
                    times.append(elapsed)
            times.sort()
            results[name] = {
                "p50_ms": round(statistics.median(times), 1),
                "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
            }
            print(f"{name:28s} p50 {results[name]['p50_ms']:7.1f} ms   p99 {results[name]['p99_ms']:7.1f} ms")
    worst = max(v["p99_ms"] for v in results.values())
    print(json.dumps({"pages": results, "worst_p99_ms": worst, "target_ms": 300, "repeat": args.repeat}))


if __name__ == "__main__":
    main()
