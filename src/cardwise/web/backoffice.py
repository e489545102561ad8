"""Back-office pages (/backoffice/..., S8): cluster analysis and its e-mails, the anomaly score distribution
with the alerted customers and their alerts, the safety service's users and declines, lost/stolen reports
and their handling, the payment log, family documents to verify, the model registry and job runs.

Reads go through ``safety/backoffice.py`` and ``safety/reports.py`` (keyset pages, report files), writes
through the domain services with one commit per request. Card numbers never appear: last four digits only.
"""

from __future__ import annotations

import itertools
from datetime import date
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import urlencode

import plotly.graph_objects as go
from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from cardwise.core.errors import DomainError, Invalid
from cardwise.db.models import Card
from cardwise.db.types import utcnow
from cardwise.deps import SessionDep, SettingsDep
from cardwise.family import service as family
from cardwise.family.views import policy_for
from cardwise.notify.models import OutboxMessage
from cardwise.reference.categories import load_categories
from cardwise.reference.regions import load_regions
from cardwise.safety import backoffice as bo
from cardwise.safety import reports
from cardwise.safety import service as safety
from cardwise.security.principal import Principal
from cardwise.web.deps import PageForm, page_permission
from cardwise.web.i18n import N_, current_lang, gettext
from cardwise.web.templating import chart_json, render

router = APIRouter(prefix="/backoffice", include_in_schema=False)

Reader = Annotated[Principal, page_permission("backoffice.read")]
Writer = Annotated[Principal, page_permission("backoffice.write")]
ModelReader = Annotated[Principal, page_permission("models.read")]
Id = Annotated[int | None, Query(ge=1, le=2**63 - 1)]

SECTIONS = [
    ("/backoffice/clusters", N_("Cluster analysis"), N_("PCA and elbow charts, profiles, runs compared, e-mails")),
    ("/backoffice/anomaly", N_("Anomaly service"), N_("Score distribution, alerted customers and their alerts")),
    ("/backoffice/safety", N_("Safety service"), N_("Cards with customer rules and declined payments")),
    ("/backoffice/lost-reports", N_("Lost and stolen reports"), N_("Open reports; close as found or reissue")),
    ("/backoffice/payments", N_("Payment log"), N_("Every payment with filters, page by page")),
    ("/backoffice/family-documents", N_("Family documents"), N_("Proofs of relation to verify")),
    ("/backoffice/models", N_("Models and jobs"), N_("Model registry, promotion decisions and job runs")),
]


@lru_cache(maxsize=1)
def _category_names() -> dict[str, tuple[str, str]]:
    return {c.code: (c.name_ko, c.name_en) for c in load_categories().categories}


@lru_cache(maxsize=1)
def _region_names() -> dict[str, tuple[str, str]]:
    return {r.code: (r.name_ko, r.name_en) for r in load_regions().regions}


def category_name(code: str | None) -> str:
    if not code:
        return "-"
    ko, en = _category_names().get(code, (code, code))
    return ko if current_lang() == "ko" else en


def region_name(code: str | None) -> str:
    if not code:
        return "-"
    ko, en = _region_names().get(code, (code, code))
    return ko if current_lang() == "ko" else en


def _page(request: Request, template: str, principal: Principal, title: str, **context: Any) -> Response:
    return render(
        request,
        template,
        principal=principal,
        title=title,
        category_name=category_name,
        region_name=region_name,
        sections=SECTIONS,
        **context,
    )


@router.get("")
def overview(request: Request, principal: Reader, session: SessionDep) -> Response:
    open_reports = len(safety.list_reports(session, status="open", limit=500, offset=0))
    return _page(
        request,
        "backoffice/index.html",
        principal,
        N_("Back office"),
        counts=bo.safety_counts(session),
        open_reports=open_reports,
    )


# --- clusters ---------------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _cluster_charts(data_dir: str, run_id: str, other_id: str | None, lang: str) -> tuple[str, str, str | None]:
    from pathlib import Path

    reports_dir = Path(data_dir) / "reports"
    run = reports.load_run(reports_dir, run_id)
    ev = run.explained_variance
    cumulative = [sum(ev[: i + 1]) for i in range(len(ev))]
    pcs = [f"PC{i + 1}" for i in range(len(ev))]
    pca = go.Figure()
    pca.add_bar(x=pcs, y=ev, name=gettext("Explained variance"), marker_color="#0b3d91")
    pca.add_scatter(x=pcs, y=cumulative, name=gettext("Cumulative"), mode="lines+markers", line={"color": "#a4161a"})
    pca.add_vline(x=run.n_components - 1 + 0.5, line_dash="dash", line_color="#111")
    pca.update_layout(
        title=gettext("PCA explained variance (chosen at the elbow: %(n)s components)") % {"n": run.n_components},
        yaxis={"tickformat": ".0%"},
        legend={"orientation": "h"},
    )
    ks = sorted(run.inertia_by_k)
    elbow = go.Figure()
    elbow.add_scatter(x=ks, y=[run.inertia_by_k[k] for k in ks], name=gettext("Inertia"), mode="lines+markers")
    elbow.add_scatter(
        x=ks, y=[run.silhouette_by_k[k] for k in ks], name=gettext("Silhouette"), mode="lines+markers", yaxis="y2"
    )
    elbow.add_vline(x=run.k, line_dash="dash", line_color="#111")
    elbow.update_layout(
        title=gettext("Elbow and silhouette by k (chosen k = %(k)s)") % {"k": run.k},
        xaxis={"title": "k", "dtick": 1},
        yaxis={"title": gettext("Inertia")},
        yaxis2={"title": gettext("Silhouette"), "overlaying": "y", "side": "right"},
        legend={"orientation": "h"},
    )
    compare = None
    if other_id:
        other = reports.load_run(reports_dir, other_id)
        fig = go.Figure()
        for r, label in ((run, run_id), (other, other_id)):
            kk = sorted(r.silhouette_by_k)
            fig.add_scatter(x=kk, y=[r.silhouette_by_k[k] for k in kk], name=label, mode="lines+markers")
        fig.update_layout(
            title=gettext("Silhouette by k, two runs"), xaxis={"title": "k", "dtick": 1}, legend={"orientation": "h"}
        )
        compare = chart_json(fig)
    return chart_json(pca), chart_json(elbow), compare


@router.get("/clusters")
def clusters(
    request: Request,
    principal: Reader,
    settings: SettingsDep,
    run: Annotated[str | None, Query(max_length=40)] = None,
    compare: Annotated[str | None, Query(max_length=40)] = None,
    queued: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    reports_dir = settings.data_dir / "reports"
    runs = reports.cluster_runs(reports_dir)
    if not runs:
        return _page(request, "backoffice/clusters.html", principal, N_("Cluster analysis"), runs=[], current=None)
    ids = [r.run_id for r in runs]
    run_id = run if run in ids else ids[0]
    other_id = compare if compare in ids and compare != run_id else next((i for i in ids if i != run_id), None)
    current = reports.load_run(reports_dir, run_id)
    other = reports.load_run(reports_dir, other_id) if other_id else None
    pca, elbow, compare_chart = _cluster_charts(str(settings.data_dir), run_id, other_id, current_lang())
    return _page(
        request,
        "backoffice/clusters.html",
        principal,
        N_("Cluster analysis"),
        runs=runs,
        run_id=run_id,
        other_id=other_id,
        current=current,
        other=other,
        pca_chart=pca,
        elbow_chart=elbow,
        compare_chart=compare_chart,
        queued=queued,
    )


@router.post("/clusters/mail")
def cluster_mail(principal: Writer, session: SessionDep, settings: SettingsDep, form: PageForm) -> Response:
    """Queue the run's recommendation e-mails (one per opted-in member; a second press sends nothing new)."""
    from cardwise.safety.clusters import recommendation_mails

    run_id = str(form.get("run_id") or "")[:40]
    try:
        run = reports.load_run(settings.data_dir / "reports", run_id)
    except ValueError as exc:
        raise Invalid(str(exc)) from None

    # recommendation_mails counts every member it hands to the outbox; the outbox drops the ones this run
    # already mailed (same dedupe key), so the page reports the rows that are really new.
    def mails() -> int:
        kind = OutboxMessage.kind == "cluster_recommendation"
        return int(session.scalar(select(func.count()).select_from(OutboxMessage).where(kind)) or 0)

    before = mails()
    recommendation_mails(session, run, run_id)
    queued = mails() - before
    session.commit()
    return RedirectResponse(f"/backoffice/clusters?run={run_id}&queued={queued}", status_code=303)


# --- anomaly service ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _distribution_chart(computed_at: str, lang: str, data_dir: str) -> str:
    from pathlib import Path

    d = reports.read_distribution(Path(data_dir) / "reports")
    assert d is not None
    edges = d["edges"]
    mids = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
    fig = go.Figure()
    fig.add_bar(x=mids, y=d["normal"], name=gettext("Ordinary"), marker_color="#0b3d91")
    fig.add_bar(x=mids, y=d["fraud"], name=gettext("Fraud (ground truth)"), marker_color="#a4161a")
    fig.add_vline(x=d["threshold"], line_dash="dash", line_color="#111", annotation_text=gettext("Alert threshold"))
    fig.update_layout(
        title=gettext("Anomaly scores, %(month)s (held out)") % {"month": d["month"]},
        barmode="overlay",
        xaxis={"title": gettext("Score (higher is more unusual)")},
        yaxis={"title": gettext("Payments"), "type": "log"},
        legend={"orientation": "h"},
    )
    return chart_json(fig)


@router.get("/anomaly")
def anomaly(
    request: Request,
    principal: Reader,
    session: SessionDep,
    settings: SettingsDep,
    customer: Id = None,
    before: Id = None,
) -> Response:
    dist = reports.read_distribution(settings.data_dir / "reports")
    chart = _distribution_chart(dist["computed_at"], current_lang(), str(settings.data_dir)) if dist else None
    alerts, next_before = bo.anomaly_alerts(session, customer_id=customer, before_id=before)
    return _page(
        request,
        "backoffice/anomaly.html",
        principal,
        N_("Anomaly service"),
        dist=dist,
        chart=chart,
        customers=bo.alerted_customers(session, limit=20),
        alerts=alerts,
        next_before=next_before,
        customer=customer,
    )


@router.post("/anomaly/refresh")
def anomaly_refresh(principal: Writer, settings: SettingsDep) -> Response:
    """Rescore the newest month (a few seconds to half a minute on seed002)."""
    try:
        reports.refresh_from_settings(settings)
    except (ValueError, FileNotFoundError) as exc:
        raise Invalid(str(exc)) from None
    return RedirectResponse("/backoffice/anomaly", status_code=303)


# --- safety service ---------------------------------------------------------------------------------------------


@router.get("/safety")
def safety_service(
    request: Request,
    principal: Reader,
    session: SessionDep,
    customer: Id = None,
    after: Id = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    users, next_after = bo.safety_users(session, customer_id=customer, after_card=after, limit=25)
    declined = bo.declines(session, bo.PaymentFilter(customer_id=customer, page_size=25), cursor=cursor)
    return _page(
        request,
        "backoffice/safety.html",
        principal,
        N_("Safety service"),
        users=users,
        next_after=next_after,
        declined=declined,
        customer=customer,
    )


# --- lost and stolen reports -----------------------------------------------------------------------------------


def _lost_page(request: Request, principal: Principal, session: Any, status: str | None, **extra: Any) -> Response:
    rows = safety.list_reports(session, status=status, limit=100, offset=0)
    cards = {
        c.card_id: c for c in session.execute(select(Card).where(Card.card_id.in_({r.card_id for r in rows}))).scalars()
    }
    return _page(
        request,
        "backoffice/lost_reports.html",
        principal,
        N_("Lost and stolen reports"),
        reports=rows,
        cards=cards,
        status=status,
        **extra,
    )


@router.get("/lost-reports")
def lost_reports(
    request: Request,
    principal: Reader,
    session: SessionDep,
    status: Annotated[str | None, Query(pattern="^(open|closed|all)$")] = "open",
    done: Id = None,
) -> Response:
    return _lost_page(request, principal, session, None if status == "all" else status, done=done)


@router.post("/lost-reports/{report_id}/close")
def close_lost_report(
    request: Request, report_id: int, principal: Writer, session: SessionDep, settings: SettingsDep, form: PageForm
) -> Response:
    how = form.get("resolution")
    if how not in ("found", "reissue"):
        return _lost_page(request, principal, session, "open", error=N_("Choose found or reissue."), status_code=422)
    try:
        safety.close_report(
            session, report_id=report_id, reissue=how == "reissue", pan_key=settings.pan_hmac_key, today=date.today()
        )
    except DomainError as exc:
        session.rollback()
        return _lost_page(request, principal, session, "open", error=exc.message, status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/backoffice/lost-reports?done={report_id}", status_code=303)


# --- payment log ------------------------------------------------------------------------------------------------


def _opt_int(value: str | None, label: str) -> int | None:
    if value is None or value.strip() == "":
        return None
    text = value.replace(",", "").strip()
    if not text.isdigit() or len(text) > 15:
        raise Invalid(f"{label}: {gettext('a whole number')}")
    return int(text)


def _opt_day(value: str | None, label: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.replace(".", "-"))
    except ValueError:
        raise Invalid(f"{label}: {gettext('a day like 2023.10.31')}") from None


@router.get("/payments")
def payments(request: Request, principal: Reader, session: SessionDep, settings: SettingsDep) -> Response:
    q = request.query_params
    form = {k: q.get(k, "") for k in ("source", "start", "end", "card", "customer", "merchant", "category",
                                      "decision", "min", "max")}  # fmt: skip
    error = None
    page = None
    try:
        source = form["source"] or "live"
        decision = form["decision"] or None
        if source not in ("live", "lake") or decision not in (None, "approved", "declined"):
            raise Invalid(gettext("Unknown choice."))
        category = form["category"] or None
        if category and category not in _category_names():
            raise Invalid(gettext("Unknown category."))
        f = bo.PaymentFilter(
            source=source,  # type: ignore[arg-type]
            start=_opt_day(form["start"], gettext("From")),
            end=_opt_day(form["end"], gettext("To")),
            card=form["card"].strip().lower() or None,
            customer_id=_opt_int(form["customer"], gettext("Customer")),
            merchant=form["merchant"].strip()[:100] or None,
            category=category,
            decision=decision,  # type: ignore[arg-type]
            min_amount=_opt_int(form["min"], gettext("Minimum amount")),
            max_amount=_opt_int(form["max"], gettext("Maximum amount")),
        )
        page = bo.payment_log(session, f, cursor=q.get("cursor") or None, lake=settings.lake_dir)
    except DomainError as exc:
        error = exc.message
    params = {k: v for k, v in form.items() if v}
    first_link = "/backoffice/payments?" + urlencode(params) if q.get("cursor") else None
    next_link = None
    if page is not None and page.next_cursor:
        next_link = "/backoffice/payments?" + urlencode({**params, "cursor": page.next_cursor})
    categories = sorted(_category_names().items(), key=lambda kv: kv[1][0 if current_lang() == "ko" else 1])
    return _page(
        request,
        "backoffice/payments.html",
        principal,
        N_("Payment log"),
        form=form,
        page=page,
        error=error,
        next_link=next_link,
        first_link=first_link,
        categories=categories,
        status_code=422 if error else 200,
    )


# --- family documents ---------------------------------------------------------------------------------------------


def _documents_page(request: Request, principal: Principal, session: Any, **extra: Any) -> Response:
    rows = family.list_documents(session, status="pending", limit=100, offset=0)
    return _page(
        request, "backoffice/family_documents.html", principal, N_("Family documents"), documents=rows, **extra
    )


@router.get("/family-documents")
def family_documents(request: Request, principal: Reader, session: SessionDep, done: Id = None) -> Response:
    return _documents_page(request, principal, session, done=done)


@router.post("/family-documents/{document_id}/review")
def review_family_document(
    request: Request, document_id: int, principal: Writer, session: SessionDep, settings: SettingsDep, form: PageForm
) -> Response:
    decision = form.get("decision")
    note = str(form.get("note") or "").strip()[:200] or None
    if decision not in ("verified", "rejected"):
        return _documents_page(request, principal, session, error=N_("Choose verify or reject."), status_code=422)
    try:
        family.review_document(
            session,
            policy_for(request, settings),
            document_id=document_id,
            decision=str(decision),
            note=note,
            reviewer=principal.audit_name,
            now=utcnow(),
        )
    except DomainError as exc:
        session.rollback()
        return _documents_page(request, principal, session, error=exc.message, status_code=exc.status_code)
    session.commit()
    return RedirectResponse(f"/backoffice/family-documents?done={document_id}", status_code=303)


# --- models and jobs ------------------------------------------------------------------------------------------------


@router.get("/models")
def models(request: Request, principal: ModelReader, session: SessionDep, settings: SettingsDep) -> Response:
    from cardwise.mlops import views as mlops_views

    try:
        registry = mlops_views.models(settings, request)
    except Exception:  # an unreachable registry must not take the page down; the job runs still show
        registry = None
    runs = mlops_views.jobs(session, None, 30)
    return _page(request, "backoffice/models.html", principal, N_("Models and jobs"), models=registry, runs=runs)
