"""Checks of a taxpayer on the public registries (ANPR C001, INAD) and the pre-notification check of a batch.
Never commit here (the route, CLI or task does).

- `check_taxpayer`: for each registry whose last check is older than the refresh period (`force`: always),
  ask the registry; every answer is fetched BEFORE anything is written, and everything is then written in one
  savepoint: a registry error (4xx, 5xx, timeout: `RegistryError`, Italian message) leaves no partial write.
  ANPR: the residence becomes a new valid-time address version with its source, the death sets
  `Taxpayer.deceased_date` (event `registry.deceased`); INAD: the domicilio digitale, source "INAD". Each
  answered check is a `RegistryCheck` row and a `registry.checked` event on the card's timeline.
- `prenotification_check(session, taxpayer_ids)`: what app/atti campaigns call before selecting; behind the
  setting REGISTRIES_ENABLED (off by default, and off without PDND credentials: the campaign then uses the
  stored data only); one taxpayer's error does not stop the others.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.audit import Actor, record_event
from app.core.db import utcnow
from app.registries import anpr, inad
from app.registries.models import REGISTRIES, SOURCES, RegistryCheck
from app.registries.pdnd import NOT_CONFIGURED, EService, PdndSettings, RegistryError
from app.taxpayers.models import Taxpayer

DEFAULT_REFRESH_DAYS = 30


@dataclass(frozen=True, slots=True)
class RegistryConfig:
    enabled: bool
    refresh_days: int
    pdnd: PdndSettings | None
    anpr: EService | None
    inad: EService | None

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RegistryConfig:
        def service(prefix: str, name: str, **modi: bool) -> EService | None:
            url, purpose = config.get(f"{prefix}_URL"), config.get(f"{prefix}_PURPOSE_ID")
            if not (url and purpose):
                return None
            return EService(
                name, str(url), str(purpose), str(config.get(f"{prefix}_AUDIENCE") or url), **modi
            )

        return cls(
            enabled=bool(config.get("REGISTRIES_ENABLED")),
            refresh_days=int(config.get("REGISTRY_REFRESH_DAYS") or DEFAULT_REFRESH_DAYS),
            pdnd=PdndSettings.from_config(config),
            anpr=service("ANPR_C001", anpr.NAME, integrity=True, audit=True),
            inad=service("INAD", inad.NAME),
        )

    @property
    def configured(self) -> bool:
        return self.pdnd is not None and (self.anpr is not None or self.inad is not None)

    def service(self, registry: str) -> EService | None:
        return self.anpr if registry == "anpr" else self.inad


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    registry: str
    check: RegistryCheck
    cached: bool


@dataclass(slots=True)
class PrecheckReport:
    active: bool  # False: registries off or not configured, the stored data are used as they are
    checked: int = 0
    cached: int = 0
    errors: dict[int, str] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "attivo": self.active,
            "verificati": self.checked,
            "in_cache": self.cached,
            "errori": {str(k): v for k, v in self.errors.items()},
        }


def applicable(taxpayer: Taxpayer) -> tuple[str, ...]:
    """ANPR knows persons only; INAD both persons and enti/companies."""
    return ("anpr", "inad") if taxpayer.kind == "PF" else ("inad",)


def last_checks(session: Session, taxpayer_id: int) -> dict[str, RegistryCheck]:
    """The last check per registry (the card's section); one indexed query per registry, on any database."""
    found = {}
    for registry in REGISTRIES:
        check = session.scalars(
            sa.select(RegistryCheck)
            .where(RegistryCheck.taxpayer_id == taxpayer_id, RegistryCheck.registry == registry)
            .order_by(RegistryCheck.checked_dt.desc(), RegistryCheck.id.desc())
            .limit(1)
        ).first()
        if check is not None:
            found[registry] = check
    return found


def is_fresh(check: RegistryCheck | None, now: dt.datetime, refresh_days: int) -> bool:
    return check is not None and check.checked_dt > now - dt.timedelta(days=refresh_days)


def _reference(taxpayer: Taxpayer) -> str:
    return f"ESATTORIA-RISCOSSIONE-{taxpayer.id}"


def _user_id(actor: Actor) -> str:
    return f"utente-{actor.user_id}" if actor.user_id else (actor.label or "sistema")


def _fetch(
    client: httpx.Client,
    config: RegistryConfig,
    registry: str,
    taxpayer: Taxpayer,
    actor: Actor,
    now: dt.datetime,
) -> Any:
    service = config.service(registry)
    if config.pdnd is None or service is None:
        raise RegistryError(NOT_CONFIGURED)
    kwargs = {"reference": _reference(taxpayer), "user_id": _user_id(actor)}
    if registry == "anpr":
        return anpr.fetch(client, config.pdnd, service, taxpayer.codice_fiscale, on=now.date(), **kwargs)
    return inad.fetch(client, config.pdnd, service, taxpayer.codice_fiscale, now=now, **kwargs)


def _apply_anpr(
    session: Session, actor: Actor, taxpayer: Taxpayer, answer: anpr.AnprAnswer, now: dt.datetime
) -> tuple[str, str, dict[str, Any]]:
    from app.taxpayers.services import AddressData, set_address

    if not answer.found:
        return "non_trovato", "Codice fiscale non presente in ANPR.", {}
    outcome, parts, detail = "confermato", [], {"anomalie": answer.anomalies}
    if answer.deceased_date is not None:
        outcome = "deceduto"
        parts.append(f"deceduto il {answer.deceased_date:%d/%m/%Y}")
        detail["data_decesso"] = answer.deceased_date.isoformat()
        if taxpayer.deceased_date != answer.deceased_date:
            previous = taxpayer.deceased_date
            taxpayer.deceased_date = answer.deceased_date
            record_event(
                session,
                actor,
                "registry.deceased",
                f"Decesso il {answer.deceased_date:%d/%m/%Y} (fonte: {SOURCES['anpr']})",
                taxpayer_id=taxpayer.id,
                payload={
                    "source": SOURCES["anpr"],
                    "deceased_date": answer.deceased_date.isoformat(),
                    "previous": previous.isoformat() if previous else None,
                    "operation": answer.operation_id,
                },
                occurred_dt=now,
            )
    if answer.residence is not None:
        residence = answer.residence
        since = f", residenza dal {residence.since:%d/%m/%Y}" if residence.since else ""
        created = set_address(
            session,
            actor,
            taxpayer,
            AddressData(
                kind="residenza",
                street=residence.street,
                cap=residence.cap,
                comune=residence.comune,
                provincia=residence.provincia,
            ),
            source=f"{SOURCES['anpr']}{since}"[:200],
            now=now,
        )
        detail["residenza"] = residence.one_line
        if created is not None:
            outcome = "aggiornato" if outcome == "confermato" else outcome
            parts.append(f"nuova residenza: {residence.one_line}")
        else:
            parts.append(f"residenza confermata: {residence.one_line}")
    elif answer.abroad:
        detail["residenza_estera"] = answer.abroad
        parts.append(f"residenza all'estero (da registrare a mano): {answer.abroad}")
    else:
        parts.append("nessuna residenza indicata")
    text = "; ".join(parts)
    return outcome, text[:1].upper() + text[1:] + ".", detail


def _apply_inad(
    session: Session, actor: Actor, taxpayer: Taxpayer, answer: inad.InadAnswer, now: dt.datetime
) -> tuple[str, str, dict[str, Any]]:
    from app.taxpayers.services import set_domicilio_digitale

    if not answer.found or not answer.address:
        closed = _close_inad_domicilio(session, actor, taxpayer, now)
        if closed:
            return (
                "aggiornato",
                f"Domicilio digitale {closed} non più presente in INAD: chiuso.",
                {"chiuso": closed},
            )
        return "non_trovato", "Nessun domicilio digitale in INAD.", {}
    created = set_domicilio_digitale(session, actor, taxpayer, answer.address, source="INAD", now=now)
    detail = {"domicilio_digitale": answer.address, "professione": answer.profession}
    if created is not None:
        return "aggiornato", f"Domicilio digitale registrato: {answer.address}.", detail
    return "confermato", f"Domicilio digitale confermato: {answer.address}.", detail


def _close_inad_domicilio(session: Session, actor: Actor, taxpayer: Taxpayer, now: dt.datetime) -> str | None:
    """A domicilio digitale taken from INAD that INAD no longer lists has ceased (CESSAZIONE_UFFICIO or
    VOLONTARIA): its version is closed, so no act goes to it. One declared by the operator or the taxpayer
    stays (INAD is not its source)."""
    from app.taxpayers.models import TaxpayerContact
    from app.taxpayers.services import DOMICILIO_KIND

    current = session.scalars(
        sa.select(TaxpayerContact).where(
            TaxpayerContact.taxpayer_id == taxpayer.id,
            TaxpayerContact.kind == DOMICILIO_KIND,
            TaxpayerContact.valid_to_dt.is_(None),
        )
    ).first()
    if current is None or current.source != "INAD":
        return None
    current.valid_to_dt = now
    record_event(
        session,
        actor,
        "domicilio_digitale.changed",
        f"Domicilio digitale {current.value} cessato: non più presente in INAD",
        taxpayer_id=taxpayer.id,
        payload={"source": "INAD", "address": None, "previous": current.value},
        occurred_dt=now,
    )
    return current.value


def check_taxpayer(
    session: Session,
    actor: Actor,
    taxpayer: Taxpayer,
    config: RegistryConfig,
    *,
    registries: Iterable[str] | None = None,
    force: bool = False,
    client: httpx.Client | None = None,
    now: dt.datetime | None = None,
) -> list[CheckOutcome]:
    """Check `taxpayer` on the registries (default: those that apply); fresh checks are reused unless
    `force`. Raises RegistryError (nothing written) when a registry fails."""
    now = now or utcnow()
    if registries is None:  # the registries that apply and are configured (e.g. ANPR only)
        registries = [r for r in applicable(taxpayer) if config.service(r) is not None] or applicable(
            taxpayer
        )
    wanted = [r for r in registries if r in applicable(taxpayer)]
    if not wanted:
        raise RegistryError("Nessun registro applicabile: ANPR riguarda solo le persone fisiche.")
    last = last_checks(session, taxpayer.id)
    outcomes: list[CheckOutcome] = []
    due = []
    for registry in wanted:
        if not force and is_fresh(last.get(registry), now, config.refresh_days):
            outcomes.append(CheckOutcome(registry, last[registry], cached=True))
        else:
            due.append(registry)
    if not due:
        return outcomes
    if not config.configured:
        raise RegistryError(NOT_CONFIGURED)
    own = client is None
    client = client or httpx.Client()
    try:
        answers = {registry: _fetch(client, config, registry, taxpayer, actor, now) for registry in due}
    finally:
        if own:
            client.close()
    with session.begin_nested():
        for registry, answer in answers.items():
            apply = _apply_anpr if registry == "anpr" else _apply_inad
            outcome, summary, detail = apply(session, actor, taxpayer, answer, now)
            reference = getattr(answer, "operation_id", None) or getattr(answer, "since", None)
            check = RegistryCheck(
                taxpayer_id=taxpayer.id,
                registry=registry,
                checked_dt=now,
                outcome=outcome,
                summary=summary[:500],
                source=SOURCES[registry],
                reference=str(reference)[:80] if reference else None,
                detail=detail,
                actor_label=actor.label[:120],
                actor_user_id=actor.user_id,
            )
            session.add(check)
            record_event(
                session,
                actor,
                "registry.checked",
                f"{REGISTRIES[registry].split(' ')[0]}: {check.outcome_label}. {summary}"[:500],
                taxpayer_id=taxpayer.id,
                payload={
                    "registry": registry,
                    "outcome": outcome,
                    "source": SOURCES[registry],
                    "reference": check.reference,
                },
                occurred_dt=now,
            )
            outcomes.append(CheckOutcome(registry, check, cached=False))
        session.flush()
    return outcomes


def prenotification_check(
    session: Session,
    taxpayer_ids: Iterable[int],
    *,
    config: RegistryConfig | None = None,
    actor: Actor | None = None,
    now: dt.datetime | None = None,
) -> PrecheckReport:
    """Refresh the stale checks of the taxpayers about to receive an act (campaign pre-checks, the periodic
    job). Off (REGISTRIES_ENABLED false or no PDND credentials): nothing is asked, the stored data are
    used."""
    if config is None:
        from flask import current_app

        config = RegistryConfig.from_config(current_app.config)
    report = PrecheckReport(active=config.enabled and config.configured)
    if not report.active:
        return report
    actor = actor or Actor.system("verifiche anagrafiche")
    now = now or utcnow()
    ids = sorted(set(taxpayer_ids))
    with httpx.Client() as client:
        for taxpayer_id in ids:
            taxpayer = session.get(Taxpayer, taxpayer_id)
            if taxpayer is None:
                continue
            try:
                outcomes = check_taxpayer(session, actor, taxpayer, config, client=client, now=now)
            except RegistryError as exc:
                report.errors[taxpayer_id] = exc.message
                continue
            report.checked += sum(1 for o in outcomes if not o.cached)
            report.cached += sum(1 for o in outcomes if o.cached)
            if any(not o.cached for o in outcomes):
                session.expire(taxpayer, ["addresses", "contacts", "deceased_date"])
    return report


def stale_taxpayers_to_notify(
    session: Session, config: RegistryConfig, now: dt.datetime, limit: int
) -> list[int]:
    """Taxpayers about to be notified (an item to issue in an open campaign, or an act issued and not yet
    sent) whose last check on some registry is older than the refresh period."""
    from app.atti.models import Act, Campaign, CampaignItem
    from app.positions.models import Position

    open_campaigns = ("bozza", "da_approvare", "approvata", "in_corso", "sospesa")
    to_issue = (
        sa.select(Position.taxpayer_id)
        .join(CampaignItem, CampaignItem.position_id == Position.id)
        .join(Campaign, Campaign.id == CampaignItem.campaign_id)
        .where(CampaignItem.status == "da_emettere", Campaign.status.in_(open_campaigns))
    )
    issued = sa.select(Act.taxpayer_id).where(Act.status == "emesso")
    candidates = sa.union(to_issue, issued).subquery()
    threshold = now - dt.timedelta(days=config.refresh_days)
    fresh = sa.select(RegistryCheck.taxpayer_id).where(
        RegistryCheck.registry == "inad", RegistryCheck.checked_dt > threshold
    )
    fresh_anpr = sa.select(RegistryCheck.taxpayer_id).where(
        RegistryCheck.registry == "anpr", RegistryCheck.checked_dt > threshold
    )
    stmt = (
        sa.select(Taxpayer.id)
        .where(Taxpayer.id.in_(sa.select(candidates.c[0])))
        .where(
            sa.or_(
                Taxpayer.id.not_in(fresh),
                sa.and_(Taxpayer.kind == "PF", Taxpayer.id.not_in(fresh_anpr)),
            )
        )
        .order_by(Taxpayer.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))
