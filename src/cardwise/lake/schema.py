"""The lake's tables, declared once: the generator writes them, `lake check` validates them and
docs/lake-schema.md is generated from them (a test keeps the document in step)."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa


@dataclass(frozen=True)
class Column:
    name: str
    type: pa.DataType
    description: str
    nullable: bool = False
    references: str | None = None  # "table.column"
    allowed: tuple[str, ...] | None = None
    min_value: float | None = None
    max_value: float | None = None


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    partitioned_by_month: str | None = None  # the timestamp/date column whose month names the partition
    restricted: bool = False  # identity data: kept outside the analysts' views
    source: str = "generated"

    @property
    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [
                pa.field(c.name, c.type, nullable=c.nullable, metadata={"description": c.description})
                for c in self.columns
            ]
        )

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)


C = Column
TS = pa.timestamp("us")  # Asia/Seoul wall-clock time, as card systems record it
GENDERS = ("F", "M")
CHANNELS = ("offline", "online", "overseas")
TARGET_GROUPS = ("credit", "check", "simple_pay")
HOUSEHOLD_TYPES = (
    "single",
    "married_couple",
    "unmarried_partners",
    "cohabitants",
    "parent_child",
    "couple_with_child",
    "siblings",
    "three_generations",
)
RELATIONS = (
    "head",
    "spouse",
    "unmarried_partner",
    "cohabitant",
    "parent",
    "child",
    "sibling",
    "grandparent",
    "grandchild",
)
MARITAL_STATUSES = ("single", "married", "divorced", "widowed")
OCCUPATIONS = (
    "office_worker",
    "public_servant",
    "professional",
    "self_employed",
    "service_worker",
    "student",
    "homemaker",
    "retired",
    "unemployed",
    "farmer_fisher",
)
LIFE_EVENTS = ("marriage", "car_purchase", "moving", "childbirth")
FRAUD_SCENARIOS = ("lost_stolen_burst", "overseas_card_not_present", "unusual_pattern", "amount_spike")
TOPICS = (
    "complaint",
    "cancellation_intent",
    "card_loan_inquiry",
    "lost_card",
    "benefit_question",
    "payment_inquiry",
    "limit_increase",
    "address_change",
)
APP_EVENT_TYPES = ("login", "failed_login", "page_view", "logout")
DEVICES = ("android", "ios", "web")
NOTIFY_CHANNELS = ("sms", "email", "push")

TABLES: tuple[Table, ...] = (
    Table(
        "categories",
        "Merchant categories (about 50) in groups, Korean and English names.",
        (
            C("category_code", pa.string(), "Category code, e.g. CAFE."),
            C("group_code", pa.string(), "Category group code, e.g. DINING."),
            C("name_ko", pa.string(), "Korean name (커피전문점)."),
            C("name_en", pa.string(), "English name."),
            C("group_name_ko", pa.string(), "Korean group name."),
            C("group_name_en", pa.string(), "English group name."),
            C("prev_month_excluded", pa.bool_(), "Not counted toward previous-month spending (전월실적)."),
        ),
        ("category_code",),
        source="reference",
    ),
    Table(
        "regions",
        "The 17 provinces and metropolitan cities, Seoul's 25 districts, and 'overseas'.",
        (
            C("region_code", pa.string(), "Administrative code (11 Seoul, 11680 Gangnam-gu, XX overseas)."),
            C("level", pa.string(), "province, district or overseas.", allowed=("province", "district", "overseas")),
            C("parent_code", pa.string(), "Province of a district.", nullable=True),
            C("name_ko", pa.string(), "Korean name."),
            C("name_en", pa.string(), "English name."),
            C("lat", pa.float64(), "Latitude (WGS84) of the city or district hall.", nullable=True),
            C("lon", pa.float64(), "Longitude (WGS84).", nullable=True),
        ),
        ("region_code",),
        source="reference",
    ),
    Table(
        "products",
        "Card products: credit and check cards with their benefit rules.",
        (
            C("product_id", pa.string(), "Product id (CRnn credit, CKnn check)."),
            C("name_ko", pa.string(), "Korean product name."),
            C("name_en", pa.string(), "English product name."),
            C("card_type", pa.string(), "credit or check.", allowed=("credit", "check")),
            C("annual_fee_krw", pa.int64(), "Annual fee in KRW.", min_value=0),
            C("launched_on", pa.date32(), "Launch date."),
            C("discontinued_on", pa.date32(), "Date new issuance stopped.", nullable=True),
            C("benefits_json", pa.string(), "The full benefit rules as JSON (see docs/reference-data.md)."),
        ),
        ("product_id",),
        source="reference",
    ),
    Table(
        "households",
        "Households the customers live in; the family bundle's candidate groups.",
        (
            C("household_id", pa.int64(), "Household key."),
            C("household_type", pa.string(), "Shape of the household.", allowed=HOUSEHOLD_TYPES),
            C("size", pa.int8(), "Number of customers in it.", min_value=1, max_value=6),
            C("region_code", pa.string(), "Home region at the start of the period.", references="regions.region_code"),
        ),
        ("household_id",),
    ),
    Table(
        "customers",
        "Customers (pseudonymous keys; identities are kept apart, see customer_identity).",
        (
            C("customer_id", pa.int64(), "Pseudonymous customer key."),
            C("birth_year", pa.int16(), "Year of birth; ages 20-80 at 2023-10-31.", min_value=1943, max_value=2003),
            C("gender", pa.string(), "F or M.", allowed=GENDERS),
            C(
                "home_region_code",
                pa.string(),
                "Home region at the start (a Seoul district or a province).",
                references="regions.region_code",
            ),
            C("occupation", pa.string(), "Occupation.", allowed=OCCUPATIONS),
            C("is_sole_proprietor", pa.bool_(), "Sole proprietor (target group 개인사업자)."),
            C("marital_status", pa.string(), "Legal marital status.", allowed=MARITAL_STATUSES),
            C("household_id", pa.int64(), "Household.", references="households.household_id"),
            C("relation_to_head", pa.string(), "Relation to the household's head.", allowed=RELATIONS),
            C(
                "income_band",
                pa.int8(),
                "Estimated monthly income band 1 (<2M KRW) .. 5 (8M+).",
                min_value=1,
                max_value=5,
            ),
            C("target_group", pa.string(), "credit, check or simple_pay (holds both).", allowed=TARGET_GROUPS),
            C("marketing_consent", pa.bool_(), "Consented to marketing."),
            C("preferred_channel", pa.string(), "Channel for notifications.", allowed=NOTIFY_CHANNELS),
            C("joined_on", pa.date32(), "Date the customer joined the issuer."),
        ),
        ("customer_id",),
    ),
    Table(
        "customer_identity",
        "Restricted: names and contacts, kept apart from the analytics tables.",
        (
            C("customer_id", pa.int64(), "Customer key.", references="customers.customer_id"),
            C("name", pa.string(), "Full name (synthetic)."),
            C("phone", pa.string(), "Mobile number (synthetic)."),
            C("email", pa.string(), "E-mail address at a reserved example domain."),
        ),
        ("customer_id",),
        restricted=True,
    ),
    Table(
        "cards",
        "Cards, stored by token and last four digits; a full card number is never stored.",
        (
            C("card_id", pa.int64(), "Card key."),
            C("customer_id", pa.int64(), "Holder.", references="customers.customer_id"),
            C("product_id", pa.string(), "Product.", references="products.product_id"),
            C("card_type", pa.string(), "credit or check.", allowed=("credit", "check")),
            C("token", pa.string(), "Keyed HMAC-SHA256 of the card number (hex, 32 chars)."),
            C("last4", pa.string(), "Last four digits."),
            C(
                "brand",
                pa.string(),
                "Network brand.",
                allowed=("LOCAL", "VISA", "MASTERCARD", "AMEX", "JCB", "UNIONPAY"),
            ),
            C("issued_on", pa.date32(), "Issue date."),
            C("expires_on", pa.date32(), "Expiry date."),
            C("closed_on", pa.date32(), "Date the card was closed.", nullable=True),
            C("is_primary", pa.bool_(), "The holder's main card."),
            C("contactless_enabled", pa.bool_(), "Contactless payments allowed."),
            C("overseas_enabled", pa.bool_(), "Overseas use allowed."),
        ),
        ("card_id",),
    ),
    Table(
        "merchants",
        "Merchants with category, region and coordinates.",
        (
            C("merchant_id", pa.int64(), "Merchant key."),
            C("name", pa.string(), "Business name (fictional)."),
            C("category_code", pa.string(), "Category.", references="categories.category_code"),
            C(
                "region_code",
                pa.string(),
                "Region (Seoul district, province, or XX).",
                references="regions.region_code",
            ),
            C("country", pa.string(), "ISO country code (KR for domestic)."),
            C("channel", pa.string(), "offline or online.", allowed=("offline", "online")),
            C("lat", pa.float64(), "Latitude, null for overseas merchants.", nullable=True),
            C("lon", pa.float64(), "Longitude.", nullable=True),
            C("opened_on", pa.date32(), "Opening date."),
            C("closed_on", pa.date32(), "Closing date.", nullable=True),
        ),
        ("merchant_id",),
    ),
    Table(
        "transactions",
        "Approved card transactions with injected, labelled fraud. Partitioned by month.",
        (
            C("transaction_id", pa.int64(), "Transaction key, in time order."),
            C("ts", TS, "Local time (Asia/Seoul)."),
            C("card_id", pa.int64(), "Card.", references="cards.card_id"),
            C("customer_id", pa.int64(), "Card holder.", references="customers.customer_id"),
            C("merchant_id", pa.int64(), "Merchant.", references="merchants.merchant_id"),
            C("category_code", pa.string(), "Merchant category.", references="categories.category_code"),
            C("region_code", pa.string(), "Merchant region.", references="regions.region_code"),
            C("amount_krw", pa.int64(), "Amount in KRW.", min_value=100, max_value=100_000_000),
            C("channel", pa.string(), "offline, online or overseas.", allowed=CHANNELS),
            C("card_present", pa.bool_(), "Card physically present."),
            C("contactless", pa.bool_(), "Contactless tap."),
            C("installment_months", pa.int8(), "0 = lump sum, else number of instalments.", min_value=0, max_value=24),
            C("is_fraud", pa.bool_(), "Ground truth: injected fraud."),
            C("fraud_scenario", pa.string(), "Which fraud scenario.", nullable=True, allowed=FRAUD_SCENARIOS),
        ),
        ("transaction_id",),
        partitioned_by_month="ts",
    ),
    Table(
        "life_events",
        "Ground truth life events that shift a customer's spending.",
        (
            C("customer_id", pa.int64(), "Customer.", references="customers.customer_id"),
            C("event_type", pa.string(), "Event.", allowed=LIFE_EVENTS),
            C("event_date", pa.date32(), "When it happened."),
            C(
                "to_region_code",
                pa.string(),
                "New home region after moving.",
                nullable=True,
                references="regions.region_code",
            ),
        ),
        ("customer_id", "event_type"),
    ),
    Table(
        "labels",
        "Ground truth outcomes for the risk models (churn, complaint, delinquency, card loan).",
        (
            C("customer_id", pa.int64(), "Customer.", references="customers.customer_id"),
            C("churned", pa.bool_(), "Stopped using the issuer's cards."),
            C("churned_on", pa.date32(), "Last activity date before churn.", nullable=True),
            C("complained", pa.bool_(), "Filed a formal complaint."),
            C("complained_on", pa.date32(), "Complaint date.", nullable=True),
            C("delinquent", pa.bool_(), "Became 30+ days past due."),
            C("delinquent_on", pa.date32(), "Delinquency date.", nullable=True),
            C("card_loan", pa.bool_(), "Took a card loan."),
            C("card_loan_on", pa.date32(), "Card loan date.", nullable=True),
        ),
        ("customer_id",),
    ),
    Table(
        "call_transcripts",
        "Call-centre transcripts (speech-to-text output), PII masked before storage.",
        (
            C("transcript_id", pa.int64(), "Transcript key."),
            C("customer_id", pa.int64(), "Caller.", references="customers.customer_id"),
            C("started_at", TS, "Call start, local time."),
            C("duration_s", pa.int32(), "Call length in seconds.", min_value=10, max_value=7200),
            C("channel", pa.string(), "phone or chat.", allowed=("phone", "chat")),
            C("topic", pa.string(), "Ground-truth topic of the call.", allowed=TOPICS),
            C("text", pa.string(), "Masked transcript, lines prefixed 상담사:/고객:."),
        ),
        ("transcript_id",),
    ),
    Table(
        "transfer_memos",
        "Account transfer memos (적요), PII masked.",
        (
            C("memo_id", pa.int64(), "Memo key."),
            C("customer_id", pa.int64(), "Account holder.", references="customers.customer_id"),
            C("ts", TS, "Transfer time."),
            C("direction", pa.string(), "out or in.", allowed=("out", "in")),
            C("amount_krw", pa.int64(), "Amount in KRW.", min_value=1000),
            C("memo_kind", pa.string(), "Ground-truth kind of the memo."),
            C("memo", pa.string(), "Memo text."),
        ),
        ("memo_id",),
    ),
    Table(
        "app_events",
        "App and web usage: logins, failed logins, page views, sessions and cookies.",
        (
            C("event_id", pa.int64(), "Event key."),
            C("customer_id", pa.int64(), "Customer.", references="customers.customer_id"),
            C("ts", TS, "Event time."),
            C("event_type", pa.string(), "Event type.", allowed=APP_EVENT_TYPES),
            C("page", pa.string(), "Page path for page views.", nullable=True),
            C("session_id", pa.string(), "Session id."),
            C("cookie_id", pa.string(), "Cookie (device) id."),
            C("device", pa.string(), "Device.", allowed=DEVICES),
            C("ip", pa.string(), "Client address (documentation ranges only)."),
        ),
        ("event_id",),
        partitioned_by_month="ts",
    ),
    # Written by the near-real-time exporter (`cardwise ingest run`) from what the platform itself sees.
    Table(
        "authorization_log",
        "Every authorization decision the platform made, approved or declined, exported within a minute.",
        (
            C("authorization_id", pa.int64(), "Authorization key in the relational store."),
            C("requested_at", TS, "When the card was presented (Asia/Seoul)."),
            C("card_id", pa.int64(), "Card.", references="cards.card_id"),
            C("customer_id", pa.int64(), "Card holder.", references="customers.customer_id"),
            C("merchant_id", pa.int64(), "Merchant.", references="merchants.merchant_id"),
            C("amount_krw", pa.int64(), "Amount in KRW.", min_value=1),
            C("channel", pa.string(), "offline, online or overseas.", allowed=CHANNELS),
            C("contactless", pa.bool_(), "Contactless tap."),
            C("approved", pa.bool_(), "Approved or declined."),
            C("reason_codes", pa.string(), "Decline reasons, comma separated (empty when approved).", nullable=True),
            C("recorded_at", TS, "When the decision was stored (Asia/Seoul)."),
        ),
        ("authorization_id",),
        partitioned_by_month="requested_at",
        source="ingested",
    ),
    Table(
        "notification_log",
        "Alerts and notifications raised (anomaly alerts, declines, family and marketing messages), as queued.",
        (
            C("message_id", pa.int64(), "Message key in the relational store's outbox."),
            C("customer_id", pa.int64(), "Recipient.", nullable=True, references="customers.customer_id"),
            C("kind", pa.string(), "What raised it, e.g. anomaly_alert, authorization_declined."),
            C("channel", pa.string(), "sms, email, push or console."),
            C("created_at", TS, "When it was queued (Asia/Seoul)."),
        ),
        ("message_id",),
        partitioned_by_month="created_at",
        source="ingested",
    ),
    Table(
        "event_log",
        "App and web events posted by the pages and clients (POST /v1/events), with client and server time.",
        (
            C("event_id", pa.int64(), "Event key in the relational store."),
            C(
                "customer_id",
                pa.int64(),
                "Customer, when logged in.",
                nullable=True,
                references="customers.customer_id",
            ),
            C("client_ts", TS, "Time on the client (Asia/Seoul)."),
            C("received_at", TS, "Time the server received it (Asia/Seoul)."),
            C("event_type", pa.string(), "Event type.", allowed=APP_EVENT_TYPES),
            C("page", pa.string(), "Page path for page views.", nullable=True),
            C("session_id", pa.string(), "Session id."),
            C("cookie_id", pa.string(), "Cookie (device) id."),
            C("device", pa.string(), "Device.", allowed=DEVICES),
            C("ip", pa.string(), "Client address."),
        ),
        ("event_id",),
        partitioned_by_month="received_at",
        source="ingested",
    ),
    Table(
        "transcript_log",
        "Call transcripts and transfer memos received from a speech-to-text system, masked before storage.",
        (
            C("transcript_id", pa.int64(), "Transcript key in the relational store."),
            C("customer_id", pa.int64(), "Caller.", references="customers.customer_id"),
            C("started_at", TS, "Call start (Asia/Seoul)."),
            C("channel", pa.string(), "phone, chat or memo.", allowed=("phone", "chat", "memo")),
            C("text", pa.string(), "Masked text."),
            C("received_at", TS, "Time the server received it (Asia/Seoul)."),
        ),
        ("transcript_id",),
        partitioned_by_month="received_at",
        source="ingested",
    ),
)

# Approved authorizations also become rows of `transactions`, keyed above every generated id.
INGESTED_TRANSACTION_ID_BASE = 10**12

TABLES_BY_NAME: dict[str, Table] = {t.name: t for t in TABLES}


def table(name: str) -> Table:
    return TABLES_BY_NAME[name]


def render_markdown() -> str:
    """docs/lake-schema.md, generated so it cannot drift from the code."""
    out = [
        "# Lake schema",
        "",
        "Generated from `src/cardwise/lake/schema.py` by `cardwise lake schema`; do not edit by hand.",
        "",
        "Layout: `<lake>/<table>/part-0.parquet`, month-partitioned tables as "
        "`<lake>/<table>/month=YYYY-MM/part-0.parquet`; restricted tables under `<lake>/_restricted/`; "
        "`_manifest.json` lists every file with its row count and SHA-256. "
        "Times are Asia/Seoul wall-clock times without a zone.",
        "",
    ]
    for t in TABLES:
        flags = []
        if t.partitioned_by_month:
            flags.append(f"partitioned by month of `{t.partitioned_by_month}`")
        if t.restricted:
            flags.append("restricted")
        out += [
            f"## `{t.name}`",
            "",
            t.description + (f" ({'; '.join(flags)})" if flags else ""),
            "",
            f"Primary key: `{', '.join(t.primary_key)}`",
            "",
            "| column | type | null | description |",
            "|---|---|---|---|",
        ]
        for c in t.columns:
            extra = []
            if c.references:
                extra.append(f"→ `{c.references}`")
            if c.allowed:
                extra.append("one of " + ", ".join(f"`{a}`" for a in c.allowed))
            if c.min_value is not None or c.max_value is not None:
                extra.append(f"range [{c.min_value}, {c.max_value}]")
            desc = c.description + (" " + "; ".join(extra) if extra else "")
            out.append(f"| `{c.name}` | {c.type} | {'yes' if c.nullable else 'no'} | {desc} |")
        out.append("")
    return "\n".join(out)
