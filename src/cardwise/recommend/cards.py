"""Card products for a customer (M2): the best card by simulated benefit, cards popular among similar
members, and the products most similar to a discontinued one.

- **Best card**: the simulator (``benefits.py``) replays the customer's last months on every product on
  sale; net annual benefit = the months' benefit scaled to a year − the annual fee.
- **Popular among members like you**: which product members like the customer take up — a
  conditional choice model learned from the last months' issuances (who took which product among
  those on sale: age, income, occupation, spending level and mix, cards held, product popularity),
  shown with the share of the customer's nearest neighbours by spend pattern who hold each product.
- **Similar products**: by the rules (a weighted cosine of what each category earns, in money and in
  miles, weighted by how much customers spend there), by payout (correlation across customers of how
  well each pays them compared with the other products) and by holders (cosine of how the holders'
  average spend pattern differs from everyone's); rules count half, the others a quarter each. Only
  products of the same card type that are on sale are offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import numpy.typing as npt
import pandas as pd

from cardwise.marketing.marts import add_months
from cardwise.recommend.benefits import Simulation
from cardwise.recommend.history import History, Reference
from cardwise.recommend.similarity import Neighbours
from cardwise.reference.products import CardProduct

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def net_annual_benefit(sim: Simulation, products: tuple[CardProduct, ...]) -> FloatArray:
    """customers × products: the report months' benefit scaled to twelve months minus the annual fee."""
    months = list(sim.report_months)
    yearly = sim.benefit_krw[:, :, months].sum(axis=2) * (12.0 / max(len(months), 1))
    fees = np.array([p.annual_fee_krw for p in products], dtype=np.float64)
    return np.asarray(yearly - fees[None, :])


def on_sale(ref: Reference, month: date) -> BoolArray:
    """Products that can be issued on the last day of ``month``."""
    return ref.active_products(add_months(month, 1) - timedelta(days=1))


def on_sale_during(ref: Reference, month: date) -> BoolArray:
    """Products that could be issued on some day of ``month`` (on sale at its start or its end)."""
    return ref.active_products(month) | on_sale(ref, month)


def rank_products(score: FloatArray, allowed: BoolArray, k: int) -> npt.NDArray[np.int64]:
    """Per customer, the ``k`` best allowed products by score (ties by catalogue order); -1 pads."""
    masked = np.where(allowed, score, -np.inf)
    order = np.argsort(-masked, axis=1, kind="stable")[:, :k]
    ok = np.take_along_axis(allowed, order, axis=1)
    return np.where(ok, order, -1).astype(np.int64)


def neighbour_shares(neighbours: Neighbours, held: BoolArray) -> FloatArray:
    """customers × products: similarity-weighted share of the customer's neighbours holding each product."""
    return neighbours.average(held.astype(np.float64))


def issuance_popularity(ref: Reference, month: date, months: int = 6) -> FloatArray:
    """Cards issued per product in the ``months`` months up to and including ``month`` (the popularity
    baseline, and the fallback for customers without history)."""
    start, end = add_months(month, -(months - 1)), add_months(month, 1)
    cards = ref.cards
    recent = cards[(cards["issued_on"] >= start) & (cards["issued_on"] < end)]
    return np.bincount(recent["product_index"], minlength=len(ref.products)).astype(np.float64)


def adoption_events(ref: Reference, month: date) -> pd.DataFrame:
    """Cards issued in ``month`` for a product the customer did not already hold at the month's start:
    columns c (customer position) and p (product position)."""
    start, end = month, add_months(month, 1)
    held = ref.holdings(start)
    cards = ref.cards
    new = cards[(cards["issued_on"] >= start) & (cards["issued_on"] < end)]
    c = ref.customer_index(new["customer_id"])
    p = new["product_index"].to_numpy()
    keep = ~held[c, p]
    return pd.DataFrame({"c": c[keep], "p": p[keep]}).drop_duplicates()


# --- similar products -------------------------------------------------------------------------------


def rule_vectors(products: tuple[CardProduct, ...], categories: tuple[str, ...], median_krw: FloatArray) -> FloatArray:
    """products × (2 × (categories + 1)): KRW earned per KRW spent in each category at the product's
    lowest tier, in money (discounts, points, cashback) and in miles kept apart — a traveller with a
    mileage card wants miles — with purchases abroad as one more "category". Fixed amounts are spread
    over the category's median ticket; the base rate counts everywhere."""
    index = {c: i for i, c in enumerate(categories)}
    width = len(categories) + 1
    abroad = len(categories)
    out = np.zeros((len(products), 2 * width))
    for j, p in enumerate(products):
        if p.base_rate:
            offset = width if p.base_kind == "mileage" else 0
            out[j, offset : offset + width] += p.base_rate * p.unit_value_krw(p.base_kind)
        for b in p.benefits:
            offset = width if b.kind == "mileage" else 0
            targets = [abroad] if b.channel == "overseas" else [index[c] for c in b.categories if c in index]
            for k in targets:
                ticket = median_krw[k] if k < abroad else float(np.median(median_krw))
                per_krw = b.rate if b.rate is not None else (b.fixed_krw or 0) / max(ticket, 1.0)
                out[j, offset + k] += per_krw * p.unit_value_krw(b.kind)
    return out


def _cosine(a: FloatArray, weight: FloatArray | None = None) -> FloatArray:
    x = a if weight is None else a * np.sqrt(weight)[None, :]
    norms = np.linalg.norm(x, axis=1)
    unit = np.divide(x, norms[:, None], out=np.zeros_like(x), where=norms[:, None] > 0)
    return np.asarray(unit @ unit.T)


@dataclass(frozen=True)
class ProductSimilarity:
    rules: FloatArray
    payout: FloatArray
    holders: FloatArray

    @property
    def overall(self) -> FloatArray:
        """Rules count half (a customer asking for "a card like my old one" means its benefits), payout
        and holders a quarter each."""
        return np.asarray(0.5 * self.rules + 0.25 * self.payout + 0.25 * self.holders)


def product_similarity(
    products: tuple[CardProduct, ...],
    categories: tuple[str, ...],
    spend_by_category: FloatArray,
    abroad_share: float,
    median_krw: FloatArray,
    yearly_benefit: FloatArray,
    yearly_spend: FloatArray,
    held: BoolArray,
    profile: FloatArray,
) -> ProductSimilarity:
    """Similarity between every two products (products × products, 1 on the diagonal).

    ``spend_by_category``: total spend per category and ``abroad_share`` the share spent abroad (weights
    of the rule cosine); ``yearly_benefit``:
    customers × products simulated benefit and ``yearly_spend`` each customer's spending over the same
    time; ``held``: customers × products; ``profile``: customers ×
    features spend patterns.
    """
    weight = spend_by_category / max(float(spend_by_category.sum()), 1.0)
    weight = np.tile(np.append(weight, abroad_share), 2)
    rules = _cosine(rule_vectors(products, categories, median_krw), weight)
    # Per customer, how each product pays relative to the others (spending level and tier luck, common
    # to every product, drop out); two products are alike when they suit the same customers.
    paid = yearly_benefit[yearly_spend > 0]
    spread = paid.std(axis=1, keepdims=True)
    relative = np.divide(paid - paid.mean(axis=1, keepdims=True), spread, out=np.zeros_like(paid), where=spread > 0)
    centred = relative - relative.mean(axis=0, keepdims=True)
    payout = np.clip(_cosine(centred.T), 0.0, 1.0)
    counts = held.sum(axis=0)
    centroids = np.divide(
        held.T.astype(np.float64) @ profile,
        counts[:, None],
        out=np.zeros((len(products), profile.shape[1])),
        where=counts[:, None] > 0,
    )
    # Holders of every product look alike next to the average customer; compare how they differ from it.
    holders = np.clip(_cosine(centroids - profile.mean(axis=0, keepdims=True)), 0.0, 1.0)
    for m in (rules, payout, holders):
        np.fill_diagonal(m, 1.0)
    return ProductSimilarity(rules=rules, payout=payout, holders=holders)


# --- which card a customer takes up next ------------------------------------------------------------

ADOPTION_FEATURES = (
    "product",
    "credit",
    "log_fee",
    "log_popularity",
    "count_affinity",
    "spend_affinity",
    "age",
    "female",
    "income_band",
    "self_employed",
    "holds_credit",
    "holds_check",
    "cards_held",
    "log_monthly_spend",
    "overseas_share",
    "fuel_share",
    "childcare_share",
    "months_observed",
)
_CHILDCARE = ("BABY", "KINDERGARTEN")
_FUEL = ("GAS_STATION", "CAR_REPAIR")


def benefit_category_mask(products: tuple[CardProduct, ...], categories: tuple[str, ...]) -> FloatArray:
    """products × categories: 1 where some benefit line of the product names the category."""
    index = {c: i for i, c in enumerate(categories)}
    mask = np.zeros((len(products), len(categories)))
    for j, p in enumerate(products):
        for code in p.categories:
            if code in index:
                mask[j, index[code]] = 1.0
    return mask


@dataclass(frozen=True)
class AdoptionInputs:
    """What the adoption features need as of one month, for every customer."""

    month: date
    held: BoolArray
    popularity: FloatArray
    count_6m: FloatArray
    """customers × categories purchases over the six months up to ``month``."""
    spend_6m: FloatArray
    overseas_share: FloatArray
    months_observed: FloatArray


def adoption_inputs(history: History, ref: Reference, as_of: int) -> AdoptionInputs:
    """The adoption features' inputs as of month position ``as_of`` (holdings at the month's end)."""
    month = history.months[as_of]
    held = ref.holdings(add_months(month, 1))
    lo = max(0, as_of - 5)
    spend_6m = history.spend[:, lo : as_of + 1].sum(axis=1).astype(np.float64)
    chan = history.channel_spend[:, lo : as_of + 1].sum(axis=1).astype(np.float64)
    total = chan.sum(axis=1)
    joined = pd.to_datetime(ref.customers["joined_on"])
    since_join = (month.year - joined.dt.year) * 12 + (month.month - joined.dt.month) + 1
    return AdoptionInputs(
        month=month,
        held=held,
        popularity=issuance_popularity(ref, month),
        count_6m=history.count[:, lo : as_of + 1].sum(axis=1).astype(np.float64),
        spend_6m=spend_6m,
        overseas_share=np.divide(chan[:, 2], total, out=np.zeros(len(total)), where=total > 0),
        months_observed=np.clip(since_join.to_numpy(dtype=np.float64), 0, as_of - lo + 1),
    )


def adoption_frame(
    ref: Reference, inputs: AdoptionInputs, customers: npt.NDArray[np.int64], products: npt.NDArray[np.int64]
) -> pd.DataFrame:
    """Rows for the given (customer, product) pairs (parallel arrays)."""
    prods = ref.products.products
    mask = benefit_category_mask(prods, ref.categories)
    cnt, spend = inputs.count_6m, inputs.spend_6m
    cnt_total = cnt.sum(axis=1)
    spend_total = spend.sum(axis=1)
    count_aff = np.divide(
        cnt @ mask.T, cnt_total[:, None], out=np.zeros((len(cnt), len(prods))), where=cnt_total[:, None] > 0
    )
    spend_aff = np.divide(
        spend @ mask.T, spend_total[:, None], out=np.zeros((len(cnt), len(prods))), where=spend_total[:, None] > 0
    )
    cats = {c: i for i, c in enumerate(ref.categories)}

    def share(codes: tuple[str, ...]) -> FloatArray:
        idx = [cats[c] for c in codes if c in cats]
        return np.divide(spend[:, idx].sum(axis=1), spend_total, out=np.zeros(len(spend)), where=spend_total > 0)

    people = ref.customers
    age = (inputs.month.year - people["birth_year"].to_numpy()).astype(np.float64)
    credit_products = np.array([p.card_type == "credit" for p in prods])
    c, p = np.asarray(customers, dtype=np.int64), np.asarray(products, dtype=np.int64)
    months_observed = np.maximum(inputs.months_observed, 1.0)
    return pd.DataFrame(
        {
            "product": p.astype(np.float64),
            "credit": credit_products[p].astype(np.float64),
            "log_fee": np.log1p(np.array([q.annual_fee_krw for q in prods], dtype=np.float64))[p],
            "log_popularity": np.log1p(inputs.popularity)[p],
            "count_affinity": count_aff[c, p],
            "spend_affinity": spend_aff[c, p],
            "age": age[c],
            "female": (people["gender"].to_numpy() == "F").astype(np.float64)[c],
            "income_band": people["income_band"].to_numpy(dtype=np.float64)[c],
            "self_employed": (people["occupation"].to_numpy() == "self_employed").astype(np.float64)[c],
            "holds_credit": (inputs.held[:, credit_products].sum(axis=1) > 0).astype(np.float64)[c],
            "holds_check": (inputs.held[:, ~credit_products].sum(axis=1) > 0).astype(np.float64)[c],
            "cards_held": inputs.held.sum(axis=1).astype(np.float64)[c],
            "log_monthly_spend": np.log1p(spend_total / months_observed)[c],
            "overseas_share": inputs.overseas_share[c],
            "fuel_share": share(_FUEL)[c],
            "childcare_share": share(_CHILDCARE)[c],
            "months_observed": inputs.months_observed[c],
        }
    )


class AdoptionModel:
    """P(the product a customer takes up is this one | they take one up), learned from past
    issuances: one row per adoption and product on sale that the customer did not hold, labelled 1
    for the product taken (estimator contract; keeps no training rows)."""

    def __init__(self, *, max_iter: int = 80, learning_rate: float = 0.1, random_state: int = 0) -> None:
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.random_state = random_state

    def fit(self, rows: pd.DataFrame, taken: npt.NDArray[np.bool_]) -> AdoptionModel:
        from sklearn.ensemble import HistGradientBoostingClassifier

        y = np.asarray(taken, dtype=np.int64)
        if len(y) != len(rows) or y.min(initial=0) == y.max(initial=0):
            raise ValueError("adoption rows need both taken and not-taken products")
        model = HistGradientBoostingClassifier(
            max_iter=self.max_iter,
            learning_rate=self.learning_rate,
            max_leaf_nodes=15,
            min_samples_leaf=40,
            l2_regularization=1.0,
            categorical_features=[0],
            early_stopping=False,
            random_state=self.random_state,
        )
        model.fit(rows[list(ADOPTION_FEATURES)].to_numpy(dtype=np.float64), y)
        self.model_ = model
        self.features_ = ADOPTION_FEATURES
        self.trained_rows_ = len(y)
        self.adoptions_ = int(y.sum())
        return self

    def predict(self, rows: pd.DataFrame) -> FloatArray:
        if not hasattr(self, "model_"):
            raise RuntimeError("AdoptionModel is not fitted")
        return np.asarray(self.model_.predict_proba(rows[list(self.features_)].to_numpy(dtype=np.float64))[:, 1])


def adoption_training_rows(
    ref: Reference, events: pd.DataFrame, inputs: AdoptionInputs, allowed: BoolArray
) -> tuple[pd.DataFrame, npt.NDArray[np.bool_]]:
    """Candidate rows for the adoption events of the month after ``inputs.month`` (one per event
    customer and allowed product not held), with the taken flag."""
    customers = np.unique(events["c"].to_numpy())
    cand = allowed[None, :] & ~inputs.held[customers]
    ci, pi = np.nonzero(cand)
    c, p = customers[ci], pi
    taken_keys = set(zip(events["c"].tolist(), events["p"].tolist(), strict=True))
    taken = np.array([(int(a), int(b)) in taken_keys for a, b in zip(c, p, strict=True)], dtype=bool)
    return adoption_frame(ref, inputs, c, p), taken


def fit_adoption_model(rows: pd.DataFrame, taken: npt.NDArray[np.bool_], random_state: int = 0) -> AdoptionModel:
    return AdoptionModel(random_state=random_state).fit(rows, taken)
