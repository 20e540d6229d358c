"""Demo data of the contact log (idempotent): each ente's topics, one sportello per ente with its hours, and
a few contacts with the demo taxpayers."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import principal_of
from app.core.audit import Actor
from app.crm.contacts import services
from app.crm.contacts.models import Contact

SPORTELLI = {
    "R01": ("ROMA1", "Sportello di Roma – Via Cristoforo Colombo", "Via Cristoforo Colombo 212, 00147 Roma"),
    "R02": (
        "MILANO1",
        "Sportello di Milano – Piazza Città di Lombardia",
        "Piazza Città di Lombardia 1, 20124 Milano",
    ),
}
MORNINGS = tuple((day, dt.time(9), dt.time(12, 30), 30, 2) for day in range(5))  # Monday to Friday, 2 desks
AFTERNOON = ((1, dt.time(14, 30), dt.time(16, 30), 30, 1), (3, dt.time(14, 30), dt.time(16, 30), 30, 1))
DEMO_CONTACTS = (
    # (cf, ente, channel, direction, topic, outcome, minutes, days ago, notes)
    (
        "RSSMRA80A01H501U",
        "R01",
        "telefono",
        "in",
        "rateazione",
        "da_richiamare",
        6,
        12,
        "Chiede di rateizzare la tassa automobilistica 2021; richiamare dopo la verifica del reddito.",
    ),
    (
        "RSSMRA80A01H501U",
        "R01",
        "sportello",
        "in",
        "pagamento",
        "risolto",
        15,
        5,
        "Pagamento allo sportello dell'avviso; consegnata la quietanza.",
    ),
    (
        "RSSMRA80A01H501U",
        "R01",
        "email",
        "out",
        "informazioni_debito",
        "informazioni_fornite",
        0,
        2,
        "Inviato il riepilogo delle posizioni aperte all'indirizzo PEC.",
    ),
    (
        "VRDGPP75C15F205S",
        "R02",
        "telefono",
        "in",
        "ricorso_sgravio",
        "inoltrato_backoffice",
        9,
        3,
        "Contesta la sanzione: dice di aver venduto il veicolo prima della violazione.",
    ),
)


def seed_crm_demo(session: Session, enti: dict[str, object], operator_username: str = "callcenter") -> int:
    """Topics, sportelli and the demo contacts; returns how many contacts it added (0 on a re-run)."""
    from app.auth.models import User
    from app.taxpayers.models import Taxpayer

    for code, ente in enti.items():
        ente_id = ente.id  # type: ignore[attr-defined]
        services.ensure_topics(session, ente_id)
        if code in SPORTELLI:
            sportello_code, name, address = SPORTELLI[code]
            services.ensure_sportello(
                session, ente_id, code=sportello_code, name=name, address=address, hours=MORNINGS + AFTERNOON
            )
    operator = session.scalars(sa.select(User).where(User.username == operator_username)).first()
    if operator is None or session.scalar(sa.select(Contact.id).limit(1)) is not None:
        return 0
    principal = principal_of(operator)
    actor = Actor(user_id=operator.id, label=operator.display_name)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    added = 0
    for cf, ente_code, channel, direction, topic, outcome, minutes, days_ago, notes in DEMO_CONTACTS:
        taxpayer_id = session.scalar(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf))
        ente = enti.get(ente_code)
        if taxpayer_id is None or ente is None:
            continue
        topics = services.ensure_topics(session, ente.id)  # type: ignore[attr-defined]
        services.record_contact(
            session,
            principal,
            actor,
            services.ContactInput(
                taxpayer_id=taxpayer_id,
                ente_id=ente.id,  # type: ignore[attr-defined]
                channel=channel,
                direction=direction,
                topic_id=topics[topic].id,
                outcome=outcome,
                started_dt=now - dt.timedelta(days=days_ago, hours=2),
                duration_seconds=minutes * 60,
                notes=notes,
            ),
        )
        added += 1
    return added
