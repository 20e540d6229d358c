"""The probe's world: a database of its own (seeded, plus for each ente a carico with hostile names, a
payment flow with a reconciled payment, an overpayment (a refund), an unmatched one (an anomaly, then a
review item), a riversamento and an API token), and personas confined to one ente.

The world is committed once per session on its own database (like the browser suite's), so each probe
request runs on the real thing; every probe asserts that the database is unchanged afterwards.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from tests.conftest import Personas, _create_database, _drop_database, build_app, migrate_and_seed

HOSTILE = {
    "script": "<script>alert(1)</script>",
    "img": '"><img src=x onerror=alert(1)>',
    "template": "{{7*7}}",
    "formula": "=cmd|' /C calc'!A0",
}
ENTI = ("R01", "R02")
# one-ente personas besides the demo's regione (R01) and regione2 (R02): an operator and an administrator
CONFINED_USERS = (
    ("backoffice_r01", "backoffice", "R01"),
    ("backoffice_r02", "backoffice", "R02"),
    ("admin_r01", "admin", "R01"),
)


@dataclass
class EnteData:
    """Ids of one ente's rows, one per kind of id a URL carries."""

    code: str
    ids: dict[str, int] = field(default_factory=dict)
    token: str = ""  # the clear API token of this ente (every scope)


@dataclass
class World:
    app: Flask
    enti: dict[str, EnteData]
    hostile_taxpayer_ids: dict[str, int]  # hostile key -> a taxpayer (R01) whose surname is that string
    hostile_position_ids: dict[str, int]
    mario_taxpayer_id: int
    other_taxpayer_ids: dict[str, int]  # ids of a taxpayer other than the contribuente's, R01 data

    def personas(self) -> Personas:
        return Personas(self.app)


def _probe_slot(sportello: Any) -> dt.datetime:
    """The first slot of the sportello a week from now or later (the probe books it)."""
    from app.crm.contacts.queries import slots_of_day

    day = dt.date.today() + dt.timedelta(days=7)
    while not slots_of_day(sportello, day):
        day += dt.timedelta(days=1)
    return slots_of_day(sportello, day)[0].start_dt


def _hostile_rows(ente: str) -> list[dict[str, str]]:
    from tests.carichi.support import row

    rows = []
    for n, (key, text) in enumerate(HOSTILE.items(), start=1):
        rows.append(
            row(
                9000 + n + (100 if ente == "R02" else 0),
                id_posizione=f"SONDA-{ente}-{key}",
                cognome=text,
                nome=text,
                descrizione=f"Avviso {text}",
                riferimento=f"RIF-{n}",
                indirizzo=f"Via {text} 1",
            )
        )
    return rows


def _build(app: Flask, store: Path) -> World:
    from app.auth.models import User
    from app.auth.services import hash_password, issue_api_token
    from app.core.access import API_SCOPES, principal_of
    from app.demo.seed import DEMO_PASSWORD, MARIO_ROSSI_CF
    from app.enti.models import Ente
    from app.extensions import db
    from app.jobs.models import BatchJob
    from app.payments.models import Anomaly, Payment, Refund
    from app.payments.queries import today_rome
    from app.payments.riversamento import produce_riversamento
    from app.payments.services import import_flow, open_review
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer, TaxpayerEnte
    from tests.carichi.support import csv_bytes, run_file
    from tests.payments.support import ACTOR, csv_file, euro, open_positions

    app.config["FILE_STORE"] = str(store)
    enti: dict[str, EnteData] = {}
    with app.app_context():
        ente_rows = {e.code: e for e in db.session.scalars(sa.select(Ente))}
        for username, role, code in CONFINED_USERS:
            user = User(
                username=username,
                display_name=f"Sonda {username}",
                role=role,
                password_hash=hash_password(DEMO_PASSWORD),
            )
            user.enti = [ente_rows[code]]
            db.session.add(user)
        db.session.commit()
        admin = db.session.scalars(sa.select(User).where(User.username == "admin")).one()
        for code in ENTI:
            data = EnteData(code)
            job = run_file(app, csv_bytes(_hostile_rows(code)), name=f"sonda-{code}.csv", ente=code)
            assert job.status == "done", job.result
            data.ids["job_id"] = job.id
            (paid, over) = open_positions(db.session, 2, ente=code, on=dt.date(2026, 11, 18))
            summary = import_flow(
                db.session,
                csv_file(
                    f"PAY-{code};2026-11-18;;{euro(paid.due)};{paid.notice};;;bonifico",
                    f"OVER-{code};2026-11-18;;{euro(over.due + 500)};{over.notice};;;bonifico",
                    f"LOST-{code};2026-11-18;;12,34;;;sconosciuto;bonifico",
                ),
                ACTOR,
                fmt="csv",
                ente_code=code,
            )
            db.session.commit()
            data.ids["flow_id"] = summary.flow_id
            payments = {
                p.external_id: p
                for p in db.session.scalars(sa.select(Payment).where(Payment.flow_id == summary.flow_id))
            }
            data.ids["payment_id"] = payments[f"PAY-{code}"].id
            lost = payments[f"LOST-{code}"]
            data.ids["anomaly_id"] = db.session.scalars(
                sa.select(Anomaly.id).where(Anomaly.payment_id == lost.id)
            ).first()
            data.ids["refund_id"] = db.session.scalars(
                sa.select(Refund.id).where(Refund.payment_id == payments[f"OVER-{code}"].id)
            ).one()
            review = open_review(db.session, principal_of(admin), ACTOR, lost.id)
            db.session.commit()
            data.ids["review_id"] = review.id
            today = today_rome()
            riversamento = produce_riversamento(
                db.session,
                principal_of(admin),
                ACTOR,
                ente_id=ente_rows[code].id,
                dal=today - dt.timedelta(days=30),
                al=today,
                file_store=str(store),
            )
            db.session.commit()
            data.ids["riversamento_id"] = riversamento.id
            token, clear = issue_api_token(
                db.session, name=f"Sonda {code}", ente_id=ente_rows[code].id, scopes=list(API_SCOPES),
                created_by_id=None,
            )
            db.session.commit()
            data.ids["token_id"], data.token = token.id, clear
            # a staff account of this ente only (user administration)
            data.ids["user_id"] = db.session.scalars(
                sa.select(User.id).where(User.username == f"backoffice_{code.lower()}")
            ).one()
            # a taxpayer linked to this ente only, and one of its positions
            only_here = (
                sa.select(TaxpayerEnte.taxpayer_id)
                .group_by(TaxpayerEnte.taxpayer_id)
                .having(sa.func.count() == 1, sa.func.max(TaxpayerEnte.ente_id) == ente_rows[code].id)
            )
            data.ids["taxpayer_id"] = db.session.scalars(
                sa.select(Taxpayer.id).where(Taxpayer.id.in_(only_here)).order_by(Taxpayer.id)
            ).first()
            data.ids["position_id"] = db.session.scalars(
                sa.select(Position.id).where(Position.ente_id == ente_rows[code].id).order_by(Position.id)
            ).first()
            # a document of this ente naming that taxpayer, with its proposed link (the archive's ids)
            from app.archive.models import DocumentLink
            from app.archive.services import IncomingFile, file_documents

            letter = store / f"lettera-{code}.txt"
            cf = db.session.get(Taxpayer, data.ids["taxpayer_id"]).codice_fiscale
            letter.write_text(f"Lettera del contribuente {cf} all'ente {code}.", encoding="utf-8")
            (filed,) = file_documents(
                db.session, [IncomingFile(letter.name, letter)], ente_rows[code], "posta", None, ACTOR,
                file_store=str(store), mode="sync",
            )
            db.session.commit()
            data.ids["document_id"] = filed.document
            data.ids["document_link_id"] = db.session.scalars(
                sa.select(DocumentLink.id).where(DocumentLink.document_id == filed.document)
            ).first()
            # the contact log's ids: this ente's sportello and an appointment of that taxpayer there
            from app.crm.contacts import services as crm
            from app.crm.contacts.models import Sportello

            sportello = db.session.scalars(
                sa.select(Sportello).where(Sportello.ente_id == ente_rows[code].id).order_by(Sportello.id)
            ).first()
            data.ids["sportello_id"] = sportello.id
            data.ids["appointment_id"] = crm.book_appointment(
                db.session, principal_of(admin), ACTOR, sportello_id=sportello.id,
                taxpayer_id=data.ids["taxpayer_id"], start_dt=_probe_slot(sportello),
            ).id
            db.session.commit()
            # messages: the ente's templates, a send rule and a message to that taxpayer (refused: no consent)
            from app.crm.messages.services import ensure_default_templates, queue_message, save_rule

            ensure_default_templates(db.session, ente_rows[code].id)
            message = queue_message(
                db.session, taxpayer=db.session.get(Taxpayer, data.ids["taxpayer_id"]), ente=ente_rows[code],
                purpose="risposta_richiesta", channel="sms", context={"richiesta": {"risposta": "Sonda."}},
                actor=ACTOR,
            )
            rule = save_rule(db.session, ente_id=ente_rows[code].id, entrata_id=None,
                             purpose="promemoria_rata", channels=["email"], days_before=7)
            db.session.commit()
            data.ids["message_id"], data.ids["message_rule_id"] = message.id, rule.id
            data.ids["message_template_id"] = message.template_id
            # a taxpayer's rateazione request (self-service) of this ente
            from tests.selfservice.support import plan_request_of_someone

            data.ids["plan_request_id"] = plan_request_of_someone(db.session, ente_id=ente_rows[code].id).id
            from tests.plans.support import plan_of_ente

            data.ids["plan_id"] = plan_of_ente(db.session, ente_rows[code].id).id  # a stored plan (app/plans)
            db.session.commit()
            # a help-desk ticket naming that taxpayer and a knowledge-base article of this ente
            import datetime as _dt

            from app.crm.knowledge.models import Article
            from app.helpdesk.services import NewTicket, open_ticket

            ticket = open_ticket(db.session, NewTicket(
                ente_id=ente_rows[code].id, channel="telefono", urgency="media", category="altro",
                subject=f"Sonda {code}", description="Sonda di sicurezza.", requester_kind="contribuente",
                requester_name="Sonda", taxpayer_id=data.ids["taxpayer_id"]), ACTOR,
                now=_dt.datetime.now(_dt.UTC))
            article = Article(ente_id=ente_rows[code].id, kind="notizia", title=f"Sonda {code}",
                              body="Sonda.", valid_from=_dt.date(2026, 1, 1), author_label="sonda",
                              office_hours={})
            db.session.add(article)
            db.session.commit()
            data.ids["ticket_id"], data.ids["article_id"] = ticket.id, article.id
            # an act of this ente, a campaign and an act template (app/atti)
            from app.atti import campaigns as atti_campaigns
            from app.atti.models import ActTemplate
            from app.atti.services import ActRefused, act_type_by_code, issue_act

            sollecito = act_type_by_code(db.session, "sollecito")
            for candidate in db.session.scalars(
                sa.select(Position).where(Position.ente_id == ente_rows[code].id).order_by(Position.id)
            ):
                try:
                    with db.session.begin_nested():
                        act = issue_act(
                            db.session, candidate, sollecito, today, ACTOR, file_store=str(store)
                        ).act
                except ActRefused:
                    continue
                data.ids["act_id"] = act.id
                break
            campaign = atti_campaigns.create_campaign(
                db.session, principal_of(admin), ACTOR, ente=ente_rows[code], act_code="sollecito",
                name=f"Sonda {code}", criteria=atti_campaigns.Criteria(), issue_date=today,
            )
            data.ids["campaign_id"] = campaign.id
            data.ids["act_template_id"] = db.session.scalars(
                sa.select(ActTemplate.id).where(ActTemplate.ente_id == ente_rows[code].id)
            ).first()
            from tests.procedures.support import probe_procedure

            data.ids["procedure_id"] = probe_procedure(db.session, ente_rows[code].id)
            from app.escalation.models import EscalationRule
            from app.escalation.rules import create_default_rule

            rule = db.session.scalars(
                sa.select(EscalationRule).where(EscalationRule.ente_id == ente_rows[code].id)
            ).first() or create_default_rule(db.session, ente_rows[code].entrate[0], ACTOR)
            data.ids["escalation_rule_id"], data.ids["escalation_step_id"] = rule.id, rule.steps[0].id
            db.session.commit()
            _delivery_ids(db.session, data, ente_rows[code], store)
            # a saved ad-hoc query of this ente's back office, shared with nobody (app/analytics)
            from app.analytics.models import SavedQuery

            owner = db.session.scalars(
                sa.select(User).where(User.username == f"backoffice_{code.lower()}")
            ).one()
            saved = SavedQuery(name=f"Sonda {code}", owner_id=owner.id, dataset="posizioni",
                               spec={"dataset": "posizioni", "group": ["ente"], "measures": ["count"]})
            db.session.add(saved)
            db.session.commit()
            data.ids["saved_query_id"] = saved.id
            assert all(data.ids.values()), data.ids
            assert db.session.get(BatchJob, job.id).ente_id == ente_rows[code].id
            enti[code] = data
        mario = db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()
        hostile_taxpayers, hostile_positions = {}, {}
        for key in HOSTILE:
            position = db.session.scalars(
                sa.select(Position).where(Position.external_id == f"SONDA-R01-{key}")
            ).one()
            hostile_positions[key] = position.id
            hostile_taxpayers[key] = position.taxpayer_id
        r01 = enti["R01"].ids
        other = dict(r01)
        other["taxpayer_id"] = hostile_taxpayers["script"]  # an R01 taxpayer, not Mario Rossi
        other["position_id"] = hostile_positions["script"]
        other["plan_request_id"] = plan_request_of_someone(
            db.session, ente_id=ente_rows["R01"].id, not_taxpayer=mario.id
        ).id
        db.session.commit()
        assert other["taxpayer_id"] != mario.id
        from app.crm.contacts import services as crm
        from app.crm.contacts.models import Sportello

        sportello = db.session.get(Sportello, r01["sportello_id"])
        other["appointment_id"] = crm.book_appointment(
            db.session, principal_of(admin), ACTOR, sportello_id=sportello.id,
            taxpayer_id=other["taxpayer_id"], start_dt=_probe_slot(sportello),
        ).id
        # a ticket of that other taxpayer (the R01 one above may name Mario Rossi himself)
        from app.helpdesk.services import NewTicket, open_ticket

        other["ticket_id"] = open_ticket(db.session, NewTicket(
            ente_id=ente_rows["R01"].id, channel="telefono", urgency="media", category="altro",
            subject="Sonda", description="Sonda.", requester_kind="contribuente", requester_name="Sonda",
            taxpayer_id=other["taxpayer_id"]), ACTOR, now=_dt.datetime.now(_dt.UTC)).id
        db.session.commit()
        return World(
            app=app,
            enti=enti,
            hostile_taxpayer_ids=hostile_taxpayers,
            hostile_position_ids=hostile_positions,
            mario_taxpayer_id=mario.id,
            other_taxpayer_ids=other,
        )


def _delivery_ids(session: Any, data: EnteData, ente: Any, store: Path) -> None:
    """An act of the ente (atti's issue service), its print batch and a failed outcome (app/atti/delivery)."""
    from app.atti.delivery import services as delivery
    from app.atti.services import ActRefused, act_type_by_code, issue_act
    from app.core.db import utcnow
    from app.payments.queries import today_rome
    from app.positions.models import Position
    from tests.payments.support import ACTOR

    today = today_rome()
    act_type = act_type_by_code(session, "ingiunzione")
    candidates = session.scalars(
        sa.select(Position)
        .where(Position.ente_id == ente.id, Position.state == "caricata")
        .order_by(Position.id)
    ).all()
    for position in candidates:
        try:
            act = issue_act(session, position, act_type, today, ACTOR, file_store=str(store)).act
        except ActRefused:
            continue
        if delivery.print_precheck(session, [act]).items:
            break
        session.rollback()
    batch = delivery.create_print_batch(session, ente, [act], ACTOR, file_store=str(store), today=today,
                                        now=utcnow())
    outcome = delivery.apply_outcome(
        session, act, ACTOR, outcome="irreperibile", event_date=today, source="manuale"
    )
    session.commit()
    data.ids.setdefault("act_id", act.id)
    data.ids["print_batch_id"], data.ids["act_outcome_id"] = batch.id, outcome.id


@pytest.fixture(scope="session")
def world(
    pg_server: str, redis_settings: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    url = _create_database(pg_server, "esattoria_security")
    app = build_app(url, **redis_settings)
    migrate_and_seed(app)
    try:
        yield _build(app, tmp_path_factory.mktemp("security-store"))
    finally:
        from app.extensions import db

        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        _drop_database(url)


# Tables whose content a refused request must leave as it was (access_log and users are left out: a refused
# read may be logged, and a request refreshes nothing of users but the login does).
WATCHED_TABLES = (
    "taxpayers", "taxpayer_enti", "taxpayer_addresses", "taxpayer_contacts", "positions", "movements",
    "carichi", "batch_jobs", "batch_job_errors", "import_layouts", "payment_flows", "payments",
    "payment_allocations", "payment_reviews", "payment_anomalies", "payment_refunds", "bank_credits",
    "riversamenti", "notice_numbers", "events", "row_versions", "parameters",
    "documents", "document_links", "document_pages", "document_outbox",
    "messages", "message_attachments", "message_templates", "message_rules", "consents",
    "plan_requests", "plan_request_positions",
    "acts", "act_print_batches", "act_deliveries", "act_outcomes",
)


def database_fingerprint(app: Flask) -> dict[str, str]:
    """An md5 of every row of the watched tables (and of api_tokens but their last use): any insert, update
    or delete shows."""
    from app.extensions import db

    parts = [
        f"(SELECT count(*) || ':' || coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
        f"FROM {table} t) AS {table}"
        for table in WATCHED_TABLES
    ]
    parts.append(
        "(SELECT coalesce(md5(string_agg(id || ',' || coalesce(revoked_dt::text, ''), '|' ORDER BY id)), '')"
        " FROM api_tokens) AS api_tokens"
    )
    with app.app_context():
        row = db.session.execute(sa.text("SELECT " + ", ".join(parts))).mappings().one()
        db.session.remove()
    return dict(row)
