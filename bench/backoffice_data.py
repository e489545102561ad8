"""Fill a loaded database with an issuer's volume of back-office rows, for bench/pages.py (S10).

Authorizations are replayed from the lake's newest transactions (same cards, merchants, amounts and
times), a share of them declined with a reason; anomaly alerts and decline messages go to the outbox
as the authorization path writes them; some cards get customer-set rules. Only for a scratch database:
it refuses one that already holds authorizations.

    CARDWISE_DATA_DIR=/tmp/scratch .venv/bin/python bench/backoffice_data.py --rows 2000000
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import duckdb
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from cardwise.config import get_settings
from cardwise.db.engine import engine_for
from cardwise.lake.store import connect
from cardwise.notify.models import OutboxMessage
from cardwise.safety.models import Authorization, CardControl

SEOUL = ZoneInfo("Asia/Seoul")
BLOCKED = [{"code": "CATEGORY_BLOCKED", "message_ko": "차단한 업종입니다.", "message_en": "Blocked category."}]
DECLINE_EVERY = 23  # ~4% declined
ALERT_EVERY = 197  # ~0.5% of approvals raise an anomaly alert
CHUNK = 20_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--controls", type=int, default=3_000, help="cards that get customer-set rules")
    args = parser.parse_args()
    settings = get_settings()
    engine = engine_for(settings)
    with Session(engine) as session:
        if session.scalar(select(func.count()).select_from(Authorization)):
            raise SystemExit("the database already holds authorizations; use a scratch database")
    con: duckdb.DuckDBPyConnection = connect(settings.lake_dir)
    started = time.perf_counter()
    reader = con.execute(
        "SELECT card_id, merchant_id, amount_krw, ts, channel, contactless, customer_id FROM transactions "
        f"ORDER BY ts DESC LIMIT {int(args.rows)}"
    ).to_arrow_reader(CHUNK)
    n = 0
    with engine.begin() as conn:
        for batch in reader:
            auths, messages = [], []
            cols = batch.to_pydict()
            for i in range(batch.num_rows):
                n += 1
                at = cols["ts"][i].replace(tzinfo=SEOUL).astimezone(UTC)
                declined = n % DECLINE_EVERY == 0
                reasons = (
                    [
                        {
                            "code": "CATEGORY_BLOCKED",
                            "message_ko": "차단한 업종입니다.",
                            "message_en": "Blocked category.",
                        }
                    ]
                    if declined
                    else []
                )
                auths.append(
                    {
                        "authorization_id": n,
                        "idempotency_key": f"bench-{n}",
                        "request_hash": "0" * 64,
                        "card_id": cols["card_id"][i],
                        "merchant_id": cols["merchant_id"][i],
                        "amount_krw": cols["amount_krw"][i],
                        "requested_at": at,
                        "channel": cols["channel"][i],
                        "contactless": cols["contactless"][i],
                        "approved": not declined,
                        "reasons": reasons,
                        "created_at": at,
                    }
                )
                kind = "authorization_declined" if declined else "anomaly_alert" if n % ALERT_EVERY == 0 else None
                if kind:
                    messages.append(
                        {
                            "dedupe_key": f"bench:{kind}:{n}",
                            "customer_id": cols["customer_id"][i],
                            "kind": kind,
                            "channel": "sms",
                            "subject": "[cardwise]",
                            "body": "bench",
                            "payload": {"authorization_id": n, "card_id": cols["card_id"][i], "codes": []},
                            "status": "sent",
                            "attempts": 1,
                            "next_attempt_at": at,
                            "created_at": at,
                        }
                    )
            conn.execute(insert(Authorization), auths)
            if messages:
                conn.execute(insert(OutboxMessage), messages)
        card_ids = [
            r[0]
            for r in con.execute(
                f"SELECT card_id FROM cards ORDER BY hash(card_id) LIMIT {int(args.controls)}"
            ).fetchall()
        ]
        now = datetime.now(UTC)
        conn.execute(
            insert(CardControl),
            [
                {
                    "card_id": c,
                    "allowed_regions": ["11"] if c % 3 == 0 else None,
                    "blocked_windows": [{"days": [0, 1, 2, 3, 4], "start": "01:00", "end": "05:00"}] if c % 2 else [],
                    "blocked_categories": ["BAR", "GAMBLING"] if c % 5 else ["JEWELRY"],
                    "max_amount_krw": 500_000 if c % 7 == 0 else None,
                    "block_online": c % 11 == 0,
                    "block_overseas": c % 2 == 0,
                    "block_contactless": False,
                    "updated_at": now,
                }
                for c in card_ids
            ],
        )
    con.close()
    print(
        json.dumps({"authorizations": n, "controls": len(card_ids), "seconds": round(time.perf_counter() - started, 1)})
    )


if __name__ == "__main__":
    main()
