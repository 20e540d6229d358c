"""Act use cases: defaults (types, terms, templates), template versions, and THE issue service used by the
command line and campaigns alike (`issue_act`). Never commit here.

Issuing an act: refusals first (position paid, suspended, abated or closed; no template for the entrata;
amount under the minimum of DL 16/2012 art. 3 c. 10, a parameter row); then the amount due at the issue date
(`app.positions.amounts.amounts_due`, the same figure as `esattoria posizioni` that day), the position's
notice number (app/payments/notices.py), a protocol number from the ente's gap-free register of the archive
(the act's PDF is filed as an archive document of type `atto_emesso`, channel `uscita`, so the one register
numbers both what comes in and what goes out), the PDF rendered by Typst, linked to the taxpayer and the
position, an `Act` row and the event `act.issued`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.atti import catalog, rendering
from app.atti.events import issued_event_row
from app.atti.models import Act, ActTemplate, ActType
from app.atti.prerequisites import AFTER_SOLLECITO, sollecito_missing
from app.core.audit import Actor, Event
from app.core.errors import DomainError
from app.engine.deadlines import below_minimum
from app.engine.notice import grouped
from app.enti.models import Ente, Entrata, Parameter
from app.enti.queries import amount_in_force, in_force, parameter_rows
from app.positions.models import COMPONENT_LABELS, Position
from app.reports.formatting import format_date_it, format_eur
from app.taxpayers.models import Taxpayer

ROME = ZoneInfo("Europe/Rome")
DOCUMENT_TYPE = "atto_emesso"
DOCUMENT_CHANNEL = "uscita"
MINIMUM_PARAMETER = "soglia_minima_tributi_regionali"
SIGNATORY_PARAMETER = "atti_firmatario"  # an ente's row: {"name": "...", "role": "..."}
REFUSED_STATES = {
    "pagata": "La posizione risulta pagata: nessun atto da emettere.",
    "sospesa": "La posizione è sospesa: nessun atto può essere emesso finché la sospensione è in corso.",
    "sgravata": "La posizione è stata sgravata: nessun atto da emettere.",
    "prescritta": "La posizione è prescritta: nessun atto da emettere.",
    "inesigibile": "La posizione è stata dichiarata inesigibile: nessun atto da emettere.",
}


# `d.plan` of the acts of a plan (app/plans/lifecycle.py `issue_plan_act`): its number, how many installments
# the act carries, the date of the proroga and the numbers of the installments it replaced (Italian formats)
PLAN_FIELDS = ("id", "installments", "proroga_date", "replaced")


class ActRefused(DomainError):
    """The act cannot be issued; `message` says why, in Italian."""


# --- defaults --------------------------------------------------------------------------------------------


def ensure_act_types(session: Session) -> int:
    """Insert the national act types that are missing (left as they are otherwise). Returns how many."""
    known = set(session.scalars(sa.select(ActType.code)))
    added = 0
    for order, spec in enumerate(catalog.ACT_TYPES):
        if spec["code"] in known:
            continue
        session.add(ActType(sort_order=order, **spec))
        added += 1
    if added:
        session.flush()
    return added


def ensure_term_parameters(session: Session) -> int:
    """The payment terms of the act types as national parameter rows (missing ones only)."""
    existing = set(
        session.execute(
            sa.select(Parameter.code, Parameter.valid_from).where(
                Parameter.ente_id.is_(None), Parameter.entrata_id.is_(None)
            )
        ).tuples()
    )
    added = 0
    for row in catalog.TERM_PARAMETERS:
        start = dt.date.fromisoformat(row["valid_from"])
        if (row["code"], start) in existing:
            continue
        session.add(
            Parameter(
                code=row["code"],
                valid_from=start,
                valid_to=None,
                value=row["value"],
                source=row["source"],
                note=row["note"],
            )
        )
        added += 1
    if added:
        session.flush()
    return added


def ensure_document_type(session: Session) -> None:
    from app.archive.services import ensure_document_type as ensure_type

    ensure_type(
        session,
        DOCUMENT_TYPE,
        label="Atto emesso",
        source="art. 2220 c.c.; D.P.R. 445/2000, art. 53 (registro di protocollo)",
    )


def ensure_default_templates(
    session: Session, ente: Ente, *, on: dt.date | None = None, new_types: frozenset[str] = frozenset()
) -> int:
    """The default template of every act type for the ente (all entrate), once: only when the ente has no
    template at all (an ente that removed a type's template is refused that type: no template, no act).
    `new_types`: codes of types the catalog has just added (`ensure_act_types`), whose default template an
    ente that has templates already receives too (none can have removed a type that did not exist)."""
    query = sa.select(ActType).order_by(ActType.sort_order)
    if session.scalar(sa.select(ActTemplate.id).where(ActTemplate.ente_id == ente.id).limit(1)) is not None:
        if not new_types:
            return 0
        query = query.where(
            ActType.code.in_(sorted(new_types)),
            ~sa.exists().where(ActTemplate.ente_id == ente.id, ActTemplate.act_type_id == ActType.id),
        )
    added = 0
    for act_type in session.scalars(query):
        session.add(
            ActTemplate(
                ente_id=ente.id,
                entrata_id=None,
                act_type_id=act_type.id,
                version=1,
                source=catalog.DEFAULT_TEXTS[act_type.code],
                valid_from=on or dt.date(2020, 1, 1),
                author_label="modello predefinito",
            )
        )
        added += 1
    if added:
        session.flush()
    return added


def ensure_defaults(session: Session) -> None:
    """Act types, terms, the archive's document type and every ente's default templates (idempotent); a type
    new to the catalog gets its default template at every ente that has templates already."""
    known = frozenset(session.scalars(sa.select(ActType.code)))
    ensure_act_types(session)
    new_types = frozenset(catalog.TYPE_CODES) - known if known else frozenset()
    ensure_term_parameters(session)
    ensure_document_type(session)
    for ente in session.scalars(sa.select(Ente).order_by(Ente.id)):
        ensure_default_templates(session, ente, new_types=new_types)


# --- templates -------------------------------------------------------------------------------------------


def act_type_by_code(session: Session, code: str) -> ActType:
    act_type = session.scalar(sa.select(ActType).where(ActType.code == code))
    if act_type is None:
        raise ActRefused(f"Tipo di atto sconosciuto: {code}. Tipi: {', '.join(catalog.TYPE_CODES)}.")
    return act_type


def template_in_force(
    session: Session, *, ente_id: int, entrata_id: int, act_type_id: int, on: dt.date
) -> ActTemplate | None:
    """The entrata's own template in force on `on`, else the ente's generic one (latest valid_from, then the
    highest version)."""
    return session.scalars(
        sa.select(ActTemplate)
        .where(
            ActTemplate.ente_id == ente_id,
            ActTemplate.act_type_id == act_type_id,
            sa.or_(ActTemplate.entrata_id == entrata_id, ActTemplate.entrata_id.is_(None)),
            ActTemplate.valid_from <= on,
            sa.or_(ActTemplate.valid_to.is_(None), ActTemplate.valid_to >= on),
        )
        .order_by(ActTemplate.entrata_id.is_(None), ActTemplate.valid_from.desc(), ActTemplate.version.desc())
    ).first()


def save_template_version(
    session: Session,
    *,
    ente_id: int,
    entrata_id: int | None,
    act_type: ActType,
    source: str,
    valid_from: dt.date,
    actor: Actor,
    note: str | None = None,
    sample: dict[str, Any] | None = None,
) -> ActTemplate:
    """A NEW version of the template (the previous ones stay: issued acts keep their PDF and their version).
    Refused with Typst's message and line when the text does not compile on the sample data."""
    rendering.check(source, sample or sample_data(act_type))
    last = session.scalar(
        sa.select(sa.func.max(ActTemplate.version)).where(
            ActTemplate.ente_id == ente_id,
            ActTemplate.act_type_id == act_type.id,
            ActTemplate.entrata_id.is_(None) if entrata_id is None else ActTemplate.entrata_id == entrata_id,
        )
    )
    row = ActTemplate(
        ente_id=ente_id,
        entrata_id=entrata_id,
        act_type_id=act_type.id,
        version=(last or 0) + 1,
        source=source,
        valid_from=valid_from,
        author_id=actor.user_id,
        author_label=actor.label,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


# --- the act's data ----------------------------------------------------------------------------------------


def _parameter_value(session: Session, code: str, on: dt.date, *, ente_id: int, entrata_id: int) -> Any:
    row = in_force(parameter_rows(session, ente_id=ente_id, entrata_id=entrata_id), code, on)
    return row if row is not None else None


def term_days(
    session: Session, act_type: ActType, on: dt.date, *, ente_id: int, entrata_id: int
) -> int | None:
    if not act_type.term_parameter:
        return None
    row = _parameter_value(session, act_type.term_parameter, on, ente_id=ente_id, entrata_id=entrata_id)
    return int(row["value"]["days"]) if row else None


def minimum_cents(session: Session, on: dt.date, *, ente_id: int, entrata_id: int) -> tuple[int, str] | None:
    rows = parameter_rows(session, ente_id=ente_id, entrata_id=entrata_id)
    return amount_in_force(rows, MINIMUM_PARAMETER, on)


def debtor_address(taxpayer: Taxpayer) -> list[str]:
    """The address an act is sent to: the current domicilio, else residence / registered office."""
    current = [a for a in taxpayer.addresses if a.valid_to_dt is None]
    order = {"domicilio": 0, "sede_legale": 1, "residenza": 2}
    current.sort(key=lambda a: order.get(a.kind, 9))
    if not current:
        return []
    a = current[0]
    place = " ".join(p for p in (a.cap, a.comune) if p) + (f" ({a.provincia})" if a.provincia else "")
    return [a.street, place]


def amount_lines(due: Any) -> list[dict[str, str]]:
    """The breakdown of the amount due as the act prints it: each component still due, the interest accrued
    (with the rule's legal source), the oneri; the lines add up to the total."""
    lines: list[dict[str, Any]] = []
    quoted = {c["kind"]: c for c in (due.quote or {}).get("components", [])}
    for kind in ("capitale", "sanzioni", "interessi", "spese"):
        cents = due.component(kind).due_cents if not quoted else _cents(quoted.get(kind, {}).get("due", "0"))
        if cents:
            source = "lista di carico" if kind != "interessi" else "interessi già contabilizzati"
            lines.append({"kind": kind, "label": COMPONENT_LABELS[kind], "cents": cents, "source": source})
    if due.interest_cents:
        since = f" dal {format_date_it(due.interest_from)}" if due.interest_from else ""
        rates = "; ".join(sorted({s.get("source", "") for s in due.segments if s.get("source")}))
        source = "; ".join(p for p in (due.rule.source, rates) if p)
        lines.append(
            {
                "kind": "interessi_maturati",
                "label": f"Interessi maturati{since}",
                "cents": due.interest_cents,
                "source": source,
            }
        )
    rest = due.total_cents - sum(line["cents"] for line in lines)
    if rest:
        from app.positions.amounts import CHARGE_RULES

        lines.append(
            {
                "kind": "oneri",
                "label": COMPONENT_LABELS["oneri"],
                "cents": rest,
                "source": CHARGE_RULES.get(due.rule.oneri or "", "movimenti della posizione"),
            }
        )
    return lines


def _cents(text: str) -> int:
    from app.positions.amounts import cents_of

    return cents_of(text)


def signatory(session: Session, ente: Ente, on: dt.date) -> dict[str, str]:
    row = in_force(parameter_rows(session, ente_id=ente.id), SIGNATORY_PARAMETER, on)
    value = row["value"] if row else {}
    return {
        "name": str(value.get("name", "")),
        "role": str(value.get("role", "Il Funzionario responsabile")),
        "note": catalog.FIRMA_NOTE,
    }


def act_data(
    *,
    ente: Ente,
    entrata: Entrata,
    position: Position,
    taxpayer: Taxpayer,
    act_type: ActType,
    protocol: str,
    on: dt.date,
    notice_number: str | None,
    lines: list[dict[str, Any]],
    total_cents: int,
    term: int | None,
    signature: dict[str, str],
    installments: list[dict[str, Any]] | None = None,
    plan: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON the Typst template reads (`d`). `installments` (a plan's acts: number, cents, due, label):
    one notice each instead of the position's one; `plan` (a plan's acts, `PLAN_FIELDS`): the plan's facts the
    text may quote (`d.plan`, empty strings for an act of no plan)."""
    due_text = f"entro {term} giorni dalla notifica" if term else ""
    notices = []
    description = f"{act_type.name} · {entrata.name} {position.year} · posizione {position.external_id}"

    def notice_of(number: str, cents: int, due: str, what: str) -> dict[str, Any]:
        notice = {
            "number": number,
            "grouped": grouped(number),
            "amount": format_eur(cents),
            "cents": cents,
            "due": due,
            "cbill": "",
            "description": what,
            "qr_payload": rendering.pagopa_qr(number, ente.codice_fiscale, cents),
            "datamatrix": "",
        }
        if ente.postal_account:
            notice["datamatrix"] = rendering.poste_datamatrix(
                number,
                ente.postal_account,
                cents,
                ente.codice_fiscale,
                taxpayer.codice_fiscale,
                taxpayer.display_name,
                f"{act_type.name} {position.external_id}",
            )
        return notice

    if act_type.with_payment and installments:
        # a plan's act: one pagoPA notice per installment (its own codice avviso, amount and due date)
        for item in installments:
            notices.append(
                notice_of(item["number"], item["cents"], item["due"], f"{description} · {item['label']}")
            )
    elif act_type.with_payment and notice_number:
        notices.append(notice_of(notice_number, total_cents, due_text, description))
    return {
        "ente": {"name": ente.name, "cf": ente.codice_fiscale, "postal_account": ente.postal_account or ""},
        "act": {
            "code": act_type.code,
            "type_name": act_type.name,
            "protocol": protocol,
            "protocol_date": format_date_it(on),
            "issue_date": format_date_it(on),
            "legal_basis": act_type.legal_basis,
            "term_days": str(term or ""),
            "attachments": list(act_type.attachments or []),
        },
        "debtor": {
            "name": taxpayer.display_name,
            "cf": taxpayer.codice_fiscale,
            "kind": taxpayer.kind,
            "address": debtor_address(taxpayer),
        },
        "position": {
            "id_posizione": position.external_id,
            "entrata": entrata.name,
            "year": str(position.year),
            "description": position.description or "",
            "reference": position.reference or "",
            "due_date": format_date_it(position.due_date),
        },
        "notice": {
            "number": notice_number or "",
            "grouped": grouped(notice_number) if notice_number else "—",
        },
        "amounts": {
            "lines": [
                {"label": x["label"], "amount": format_eur(x["cents"]), "source": x["source"]} for x in lines
            ],
            "total": format_eur(total_cents),
            "as_of": format_date_it(on),
            "note": "" if act_type.with_payment else "Nulla è dovuto per la posizione.",
        },
        "notices": notices,
        "signature": signature,
        "plan": {key: str((plan or {}).get(key) or "") for key in PLAN_FIELDS},
    }


def sample_data(act_type: ActType) -> dict[str, Any]:
    """Data of a fictitious position, to check and preview a template without one."""
    from types import SimpleNamespace

    ente = SimpleNamespace(name="Regione Demo", codice_fiscale="80000000010", postal_account=None)
    entrata = SimpleNamespace(name="Tassa automobilistica")
    position = SimpleNamespace(
        external_id="ESEMPIO-1",
        year=2023,
        description="Tassa automobilistica 2023",
        reference="AB123CD",
        due_date=dt.date(2023, 1, 31),
    )
    taxpayer = SimpleNamespace(
        display_name="ROSSI MARIO", codice_fiscale="RSSMRA80A01H501U", kind="PF", addresses=[]
    )
    lines = [
        {"label": "Capitale", "cents": 25000, "source": "lista di carico"},
        {"label": "Interessi maturati", "cents": 1234, "source": "art. 1284 c.c."},
    ]
    return act_data(
        ente=ente,
        entrata=entrata,
        position=position,
        taxpayer=taxpayer,  # type: ignore[arg-type]
        act_type=act_type,
        protocol="R01-2026-0000000",
        on=dt.date(2026, 12, 1),
        notice_number="301000000000000123",
        lines=lines,
        total_cents=26234,
        term=60,
        signature={"name": "", "role": "Il Funzionario responsabile", "note": catalog.FIRMA_NOTE},
        plan={"id": "12", "installments": "8", "proroga_date": "15/11/2026", "replaced": "4, 5, 6"},
    )


# --- issue ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Prepared:
    """What an act of a position would be on a date: everything but the protocol and the PDF."""

    act_type: ActType
    template: ActTemplate
    position: Position
    amount_cents: int
    lines: list[dict[str, Any]]
    term: int | None
    due: Any = None  # the amount due it was computed from (the act fixes its interest and oneri)


def _memo(cache: dict[Any, Any] | None, key: Any, compute: Any) -> Any:
    if cache is None:
        return compute()
    if key not in cache:
        cache[key] = compute()
    return cache[key]


def check_position(
    session: Session,
    position: Position,
    act_type: ActType,
    on: dt.date,
    *,
    due: Any | None = None,
    cache: dict[Any, Any] | None = None,
) -> Prepared:
    """The pre-checks of an act (ActRefused with the Italian reason) and its amount and template."""
    from app.positions.amounts import amounts_due

    if position.state in REFUSED_STATES and not (act_type.code == "sgravio" and position.state == "sgravata"):
        raise ActRefused(REFUSED_STATES[position.state], state=position.state)
    template = _memo(
        cache,
        ("modello", position.entrata_id, act_type.id, on),
        lambda: template_in_force(
            session, ente_id=position.ente_id, entrata_id=position.entrata_id, act_type_id=act_type.id, on=on
        ),
    )
    if template is None:
        raise ActRefused(
            f"Nessun modello di «{act_type.name}» per l'entrata {position.entrata.code} "
            f"dell'ente {position.ente.code} valido al {format_date_it(on)}."
        )
    if due is None:
        end_of_day = dt.datetime.combine(on, dt.time.max, tzinfo=ROME)  # what `esattoria posizioni` reads
        due = amounts_due(session, [position], on, booked_by=end_of_day)[position.id]
    total = max(due.total_cents, 0)
    if act_type.with_payment:
        minimum = _memo(
            cache,
            ("soglia", position.entrata_id, on),
            lambda: minimum_cents(session, on, ente_id=position.ente_id, entrata_id=position.entrata_id),
        )
        if total <= 0:
            raise ActRefused("Nulla è dovuto per la posizione a quella data: nessun atto con pagamento.")
        if minimum is not None and below_minimum(Decimal(total).scaleb(-2), Decimal(minimum[0]).scaleb(-2)):
            raise ActRefused(
                f"Importo dovuto {format_eur(total)} non superiore alla soglia minima di "
                f"riscossione di {format_eur(minimum[0])} ({minimum[1]}).",
                amount=total,
                minimum=minimum[0],
            )
    if act_type.code in AFTER_SOLLECITO:
        missing = sollecito_missing(session, position, on, total, cache)
        if missing:
            raise ActRefused(missing, amount=total)
    term = _memo(
        cache,
        ("termine", position.entrata_id, act_type.id, on),
        lambda: term_days(session, act_type, on, ente_id=position.ente_id, entrata_id=position.entrata_id),
    )
    return Prepared(act_type, template, position, total, amount_lines(due), term, due)


def existing_notice_number(session: Session, position: Position) -> str | None:
    """The position's own codice avviso, if it has one (previews assign nothing)."""
    from app.payments.models import NoticeNumber

    return session.scalar(
        sa.select(NoticeNumber.notice_number).where(
            NoticeNumber.position_id == position.id,
            NoticeNumber.item_kind == "posizione",
            NoticeNumber.item_ref == "",
        )
    )


def position_notice_number(session: Session, position: Position, on: dt.date) -> str:
    """The position's own codice avviso (given at load time; assigned now if it has none)."""
    from app.payments.models import NoticeNumber
    from app.payments.notices import assign_notice_numbers

    stmt = sa.select(NoticeNumber.notice_number).where(
        NoticeNumber.position_id == position.id,
        NoticeNumber.item_kind == "posizione",
        NoticeNumber.item_ref == "",
    )
    number = session.scalar(stmt)
    if number is None:
        assign_notice_numbers(session, [position.id], issued_on=on)
        number = session.scalar(stmt)
    assert number is not None
    return number


@dataclass(slots=True)
class Issued:
    act: Act
    pdf: bytes


def issue_act(
    session: Session,
    position: Position,
    act_type: ActType,
    on: dt.date,
    actor: Actor,
    *,
    file_store: str,
    campaign_id: int | None = None,
    prepared: Prepared | None = None,
    protocol: str | None = None,
    cache: dict[Any, Any] | None = None,
    installments: list[dict[str, Any]] | None = None,
    plan: dict[str, str] | None = None,
) -> Issued:
    """Issue one act (see the module's docstring). ActRefused when a pre-check fails (nothing kept).
    `protocol`: a number already taken from the register (campaigns); `cache`: per-batch memo of the
    parameters read (terms, minimum, signatory); `installments`: a plan's notices, one page each (app/plans),
    the first one's number recorded as the act's; `plan`: the plan's facts its text may quote (`act_data`)."""
    prepared = prepared or check_position(session, position, act_type, on, cache=cache)
    ente: Ente = position.ente
    taxpayer: Taxpayer = position.taxpayer
    if installments:
        notice_number: str | None = installments[0]["number"]
    else:
        notice_number = (
            _memo(cache, ("avviso", position.id), lambda: position_notice_number(session, position, on))
            if act_type.with_payment
            else None
        )
    from app.archive.outgoing import file_outgoing_pdf
    from app.archive.services import next_protocol

    protocol = protocol or next_protocol(session, ente, on.year)
    data = act_data(
        ente=ente,
        entrata=position.entrata,
        position=position,
        taxpayer=taxpayer,
        act_type=act_type,
        protocol=protocol,
        on=on,
        notice_number=notice_number,
        lines=prepared.lines,
        total_cents=prepared.amount_cents,
        term=prepared.term,
        signature=_memo(cache, ("firma", ente.id, on), lambda: signatory(session, ente, on)),
        installments=installments,
        plan=plan,
    )
    try:
        rendered = rendering.render(prepared.template.source, data)
    except rendering.TemplateError as exc:
        raise ActRefused(exc.message_it) from None
    document = file_outgoing_pdf(
        session,
        rendered.pdf,
        rendered.pages,
        ente=ente,
        type_code=DOCUMENT_TYPE,
        channel=DOCUMENT_CHANNEL,
        protocol=protocol,
        on=on,
        subject=f"{act_type.name} · posizione {position.external_id}",
        text=searchable_text(data),
        taxpayer_id=taxpayer.id,
        position_id=position.id,
        actor=actor,
        file_store=file_store,
    )
    act = Act(
        ente_id=ente.id,
        entrata_id=position.entrata_id,
        position_id=position.id,
        taxpayer_id=taxpayer.id,
        act_type_id=act_type.id,
        template_id=prepared.template.id,
        campaign_id=campaign_id,
        issue_date=on,
        protocol=protocol,
        protocol_date=on,
        notice_number=notice_number,
        amount_due_cents=prepared.amount_cents,
        breakdown={
            "as_of": on.isoformat(),
            "total_cents": prepared.amount_cents,
            "lines": [{k: v for k, v in line.items()} for line in prepared.lines],
            "term_days": prepared.term,
        },
        document_id=document.id,
        pages=rendered.pages,
        sha256=document.sha256,
        status="emesso",
        created_by_id=actor.user_id,
        created_by_label=actor.label,
    )
    session.add(act)
    session.flush()
    from app.dynamics.fixing import fix_amounts_for_act

    fix_amounts_for_act(session, act, actor, due=prepared.due)  # its figures become movements (issue 14)
    session.add(
        Event(
            **issued_event_row(
                actor,
                act_type,
                position,
                act_id=act.id,
                protocol=protocol,
                document_id=document.id,
                notice_number=notice_number,
                prepared=prepared,
                campaign_id=campaign_id,
            )
        )
    )
    return Issued(act, rendered.pdf)


def searchable_text(data: dict[str, Any]) -> str:
    """What the archive indexes of an act (its PDF is not read back: we know what we wrote)."""
    parts = [
        data["act"]["type_name"],
        data["act"]["protocol"],
        data["ente"]["name"],
        data["debtor"]["name"],
        data["debtor"]["cf"],
        data["position"]["id_posizione"],
        data["position"]["description"],
        data["notice"]["number"],
        data["notice"]["grouped"],
        data["amounts"]["total"],
    ]
    return "\n".join(p for p in parts if p)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
