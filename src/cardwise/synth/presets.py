"""Generator presets: the scales the seeds describe, plus a small one for tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class Preset:
    name: str
    n_customers: int
    target_transactions: int
    n_merchants: int
    start: date = date(2022, 10, 1)
    end: date = date(2023, 10, 31)  # inclusive
    cards_per_customer: float = 3.1
    fraud_rate: float = 0.0025  # share of transactions that are injected fraud
    transcripts_per_customer: float = 1.2
    memos_per_customer_month: float = 1.2
    app_sessions_per_customer_month: float = 3.0

    def __post_init__(self) -> None:
        if self.n_customers < 10:
            raise ValueError("a preset needs at least 10 customers")
        if self.target_transactions < self.n_customers:
            raise ValueError("a preset needs at least one transaction per customer")
        if self.n_merchants < 100:
            raise ValueError("a preset needs at least 100 merchants")
        if not 0 <= self.fraud_rate <= 0.05:
            raise ValueError("fraud_rate must lie between 0 and 0.05")
        if self.end <= self.start:
            raise ValueError("end must come after start")

    def scaled(self, n_customers: int) -> Preset:
        """The same shape for another number of customers (transactions and merchants follow)."""
        if n_customers < 10:
            raise ValueError("customers must be at least 10")
        ratio = n_customers / self.n_customers
        return Preset(
            name=self.name,
            n_customers=n_customers,
            target_transactions=max(n_customers, round(self.target_transactions * ratio)),
            n_merchants=max(600, round(self.n_merchants * min(1.0, ratio**0.5))),
            start=self.start,
            end=self.end,
            cards_per_customer=self.cards_per_customer,
            fraud_rate=self.fraud_rate,
            transcripts_per_customer=self.transcripts_per_customer,
            memos_per_customer_month=self.memos_per_customer_month,
            app_sessions_per_customer_month=self.app_sessions_per_customer_month,
        )


PRESETS: dict[str, Preset] = {
    # A few hundred customers, every table populated: what tests run on.
    "small": Preset("small", n_customers=400, target_transactions=120_000, n_merchants=3_000, fraud_rate=0.004),
    # SafetyOne (seed 002): ~7,000 customers aged 20-80, ~22,000 cards, ~5M transactions 2022-10..2023-10.
    "seed002": Preset("seed002", n_customers=7_000, target_transactions=5_000_000, n_merchants=24_000),
    # Family bundle (seed 000): 892,997 customers, 5.3M transactions (~5.9 each).
    "seed000": Preset(
        "seed000",
        n_customers=892_997,
        target_transactions=5_300_000,
        n_merchants=60_000,
        cards_per_customer=1.6,
        transcripts_per_customer=0.08,
        memos_per_customer_month=0.02,
        app_sessions_per_customer_month=0.15,
    ),
}


def get_preset(name: str) -> Preset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; choose one of {', '.join(PRESETS)}") from None
