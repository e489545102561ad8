"""Ship the JSON log files to OpenSearch (or Elasticsearch): the seed's Logstash → Elasticsearch step (L1).

Each run reads, per log file, what was appended since the last run and bulk-loads it (opensearch-py's
``helpers.bulk``) into daily indices ``<prefix>-YYYY.MM.DD`` after putting the index template
(``index_template.json``, copied to ``deploy/opensearch/``).

Exactly once, like the ingest exporter's high-water marks:

- a file is known by a fingerprint of its first line, not by its name, so a rotated file
  (``….jsonl`` → ``….1.jsonl``) keeps its offset and is never shipped twice;
- the offset moves (an atomic rewrite of ``<log_dir>/.shipper-state.json``) only after the search engine
  accepted every document of the batch; a failed batch is sent again next time;
- every document has a deterministic ``_id`` (fingerprint and byte offset of its line), so a batch that was
  stored but not recorded (a crash between the two) overwrites the same documents instead of doubling them.

Only complete lines (ending in a newline) are shipped; the line being written waits for the next run.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from cardwise.config import Settings
from cardwise.logging import get_logger
from cardwise.logs.query import log_files

log = get_logger("cardwise.logs.shipper")

STATE_FILE = ".shipper-state.json"
TEMPLATE_NAME = "cardwise-logs"
MAX_BATCH_BYTES = 8 * 1024 * 1024


class ShipError(RuntimeError):
    """The search engine refused documents; nothing of that batch is recorded as shipped."""


def index_template(prefix: str = "cardwise-logs") -> dict[str, Any]:
    """The packaged index template with its pattern set to ``<prefix>-*``."""
    raw = resources.files("cardwise.logs").joinpath("index_template.json").read_text(encoding="utf-8")
    template: dict[str, Any] = json.loads(raw)
    template = copy.deepcopy(template)
    template["index_patterns"] = [f"{prefix}-*"]
    return template


def fingerprint(path: Path) -> str | None:
    """A file's identity: the SHA-256 of its first line (timestamp and process make it unique); None until
    the first line is complete."""
    try:
        with path.open("rb") as fh:
            first = fh.readline(64 * 1024)
    except OSError:
        return None
    if not first.endswith(b"\n"):
        return None
    return hashlib.sha256(first).hexdigest()[:32]


def read_state(log_dir: Path) -> dict[str, int]:
    try:
        data = json.loads((log_dir / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): int(v) for k, v in data.get("offsets", {}).items()}


def write_state(log_dir: Path, offsets: dict[str, int]) -> None:
    tmp = log_dir / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps({"offsets": offsets}, sort_keys=True), encoding="utf-8")
    os.replace(tmp, log_dir / STATE_FILE)


def index_for(doc: dict[str, Any], prefix: str) -> str:
    ts = str(doc.get("@timestamp") or "")
    day = ts[:10] if len(ts) >= 10 and ts[4] == "-" and ts[7] == "-" else "unknown"
    return f"{prefix}-{day.replace('-', '.')}"


@dataclass
class ShipResult:
    files: int = 0
    documents: int = 0
    bytes: int = 0
    unparsed: int = 0
    indices: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "documents": self.documents,
            "bytes": self.bytes,
            "unparsed": self.unparsed,
            "indices": sorted(self.indices),
        }


def _actions(chunk: bytes, start: int, fp: str, prefix: str, result: ShipResult) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = []
    pos = start
    for line in chunk.splitlines(keepends=True):
        offset, pos = pos, pos + len(line)
        text = line.strip()
        if not text:
            continue
        try:
            doc = json.loads(text)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
        except ValueError:
            # Kept, not dropped: a broken line is still evidence; it was redacted when it was written.
            result.unparsed += 1
            doc = {"message": text.decode("utf-8", errors="replace")[:10_000], "tags": ["cardwise_unparsed"]}
        index = index_for(doc, prefix)
        result.indices.add(index)
        actions.append({"_op_type": "index", "_index": index, "_id": f"{fp}-{offset}", "_source": doc})
    return actions


def ship_once(log_dir: Path, client: Any, *, prefix: str = "cardwise-logs") -> ShipResult:
    """Ship everything appended since the last run; returns what was sent."""
    from opensearchpy import helpers

    result = ShipResult()
    if not log_dir.is_dir():
        return result
    client.indices.put_index_template(name=TEMPLATE_NAME, body=index_template(prefix))
    offsets = read_state(log_dir)
    seen: set[str] = set()
    for path in sorted(log_files(log_dir), key=lambda p: (p.stat().st_mtime, p.name)):
        fp = fingerprint(path)
        if fp is None:
            continue
        seen.add(fp)
        offset = offsets.get(fp, 0)
        with path.open("rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            if size <= offset:
                continue
            result.files += 1
            while offset < size:
                fh.seek(offset)
                chunk = fh.read(min(MAX_BATCH_BYTES, size - offset))
                end = chunk.rfind(b"\n")
                if end < 0:
                    break  # an incomplete last line: next run
                chunk = chunk[: end + 1]
                actions = _actions(chunk, offset, fp, prefix, result)
                ok, errors = helpers.bulk(client, actions, raise_on_error=False, raise_on_exception=True)
                if errors:
                    raise ShipError(f"{path.name}: {len(errors)} documents refused, first: {str(errors[0])[:300]}")
                offset += len(chunk)
                offsets[fp] = offset
                write_state(log_dir, {k: v for k, v in offsets.items() if k in seen or k == fp})
                result.documents += int(ok)
                result.bytes += len(chunk)
    # Files rotated out and deleted are forgotten; the rest keep their offsets.
    write_state(log_dir, {k: v for k, v in offsets.items() if k in seen})
    return result


def client_for(url: str) -> Any:
    from opensearchpy import OpenSearch

    return OpenSearch(hosts=[url], timeout=30, max_retries=2, retry_on_timeout=True)


def ship_job(settings: Settings) -> dict[str, Any] | None:
    """The scheduled job and `cardwise logs ship`: nothing to do unless a search engine is configured."""
    url = settings.log_search_url
    if not url:
        return None
    client = client_for(url)
    try:
        result = ship_once(settings.log_dir, client, prefix=settings.log_index_prefix)
    finally:
        client.close()
    if result.documents:
        log.info("logs shipped", extra={"cardwise.shipped": result.as_dict()})
    return result.as_dict()
