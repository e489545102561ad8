"""Benchmark: what the firewall and the access log add to one request (the authorization path).

    .venv/bin/python bench/waf.py [--requests 20000] [--redis redis://127.0.0.1:6379/0]

In-process ASGI calls, no network, so the figure is the middleware's own cost: a trivial endpoint that
answers 200 is called bare, behind the firewall, and behind the firewall plus the access log (writing ECS
lines to a file, as in production). The request is an authorization as the payment switch sends it: POST
/v1/authorizations, a signed bearer token, a 250-byte JSON body. Also: the same with the rate-limit
counters in Redis, and the inspection of a 1 MiB transcript body. Last line: JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import jwt

from cardwise.config import Settings
from cardwise.logging import configure_logging
from cardwise.logs.access import AccessLogMiddleware
from cardwise.security.waf import FirewallMiddleware

BODY = json.dumps(
    {
        "card_token": "tok_3f9a1c2b7d8e4f60a1b2c3d4e5f60718",
        "amount_krw": 45_000,
        "merchant_id": 1234567,
        "at": "2023-09-01T12:34:56+09:00",
        "channel": "offline",
        "contactless": True,
        "idempotency_key": "2b1f0c7e-9d3a-4c55-8e21-7a6b5c4d3e2f",
    }
).encode()


async def endpoint(scope: dict[str, Any], receive: Any, send: Any) -> None:
    while True:  # read the body like a view would
        message = await receive()
        if not message.get("more_body"):
            break
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": b'{"decision":"approve"}'})


_SWITCH_ADDRESSES = [f"10.1.2.{i}" for i in range(1, 9)]  # the payment switch's few addresses
_next = [0]


def scope_for(token: str, body: bytes, path: str = "/v1/authorizations") -> dict[str, Any]:
    _next[0] += 1
    return {
        "type": "http",
        "method": "POST",
        "path": path,
        "query_string": b"",
        "client": (_SWITCH_ADDRESSES[_next[0] % len(_SWITCH_ADDRESSES)], 50000),
        "headers": [
            (b"host", b"api"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
            (b"user-agent", b"switch/1.0"),
        ],
        "state": {},
    }


async def run(app: Any, token: str, body: bytes, n: int, path: str = "/v1/authorizations") -> list[float]:
    times: list[float] = []
    statuses: set[int] = set()

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.add(message["status"])

    for _ in range(n):
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return {"type": "http.disconnect"}

        t0 = time.perf_counter_ns()
        await app(scope_for(token, body, path), receive, send)
        times.append((time.perf_counter_ns() - t0) / 1000)
    assert statuses == {200}, statuses
    return times


def summary(times: list[float]) -> dict[str, float]:
    q = statistics.quantiles(times, n=100)
    return {"mean_us": round(statistics.fmean(times), 1), "p50_us": round(q[49], 1), "p99_us": round(q[98], 1)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--redis", default="redis://127.0.0.1:6379/0")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-waf-"))
    settings = Settings(environment="test", data_dir=tmp, scheduler_enabled=False)
    secret = getattr(settings, "jwt_secret", "bench-secret")
    token = jwt.encode({"sub": "7", "roles": ["switch"], "typ": "access"}, secret, algorithm="HS256")
    configure_logging("INFO", "json", log_dir=tmp / "logs")
    root = logging.getLogger()  # files only: a stderr handler would measure the terminal
    root.handlers[:] = [h for h in root.handlers if isinstance(h, logging.FileHandler)]
    n = args.requests

    async def bench() -> dict[str, Any]:
        out: dict[str, Any] = {}
        await run(endpoint, token, BODY, 500)  # warm up
        out["bare"] = summary(await run(endpoint, token, BODY, n))
        waf = FirewallMiddleware(endpoint, settings=settings)
        await run(waf, token, BODY, 500)
        out["firewall"] = summary(await run(waf, token, BODY, n))
        full = AccessLogMiddleware(FirewallMiddleware(endpoint, settings=settings))
        await run(full, token, BODY, 500)
        out["firewall_and_access_log"] = summary(await run(full, token, BODY, n))
        try:
            redis_settings = Settings(
                environment="test", data_dir=tmp, scheduler_enabled=False, waf_storage_url=args.redis
            )
            rwaf = FirewallMiddleware(endpoint, settings=redis_settings)
            await run(rwaf, token, BODY, 200)
            out["firewall_redis"] = summary(await run(rwaf, token, BODY, min(n, 5000)))
        except Exception as exc:  # no Redis here: say so instead of failing the whole bench
            out["firewall_redis"] = f"unavailable: {type(exc).__name__}"
        line = "상담사: 카드 한도 문의 주셨죠? 고객: 네 맞아요. "
        reps = 1_040_000 // len(line.encode())  # just under the 1 MiB cap
        big_body = json.dumps({"customer_id": 1, "text": line * reps}, ensure_ascii=False).encode()
        out["transcript_body_bytes"] = len(big_body)
        out["firewall_1mib_transcript"] = summary(await run(waf, token, big_body, 30, "/v1/transcripts"))
        return out

    result = asyncio.run(bench())
    overhead = result["firewall_and_access_log"]["mean_us"] - result["bare"]["mean_us"]
    result["added_mean_us"] = round(overhead, 1)
    result["added_firewall_only_mean_us"] = round(result["firewall"]["mean_us"] - result["bare"]["mean_us"], 1)
    result["requests"] = n
    print(json.dumps(result))


if __name__ == "__main__":
    main()
