"""Demo data of the registries: one person's last checks, so the card's section is not empty under
`make run` (PDND is not configured in the demo: "Verifica ora" stays hidden)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.db import utcnow
from app.registries.models import SOURCES, RegistryCheck


def seed_registries_demo(session: Session, skip_cfs: tuple[str, ...]) -> None:
    """Idempotent: nothing when a check exists. The person is the first one (by id) with a residence, other
    than the fixed demo people the tests use."""
    from app.taxpayers.models import Taxpayer, TaxpayerAddress

    if session.scalar(sa.select(RegistryCheck.id).limit(1)) is not None:
        return
    people = sa.select(Taxpayer.id).where(Taxpayer.kind == "PF", Taxpayer.codice_fiscale.not_in(skip_cfs))
    address = session.scalars(
        sa.select(TaxpayerAddress)
        .where(
            TaxpayerAddress.taxpayer_id.in_(people),
            TaxpayerAddress.kind == "residenza",
            TaxpayerAddress.valid_to_dt.is_(None),
        )
        .order_by(TaxpayerAddress.taxpayer_id)
        .limit(1)
    ).first()
    if address is None:
        return
    taxpayer_id = address.taxpayer_id
    when = utcnow() - dt.timedelta(days=3)
    session.add_all(
        [
            RegistryCheck(
                taxpayer_id=taxpayer_id,
                registry="anpr",
                checked_dt=when,
                outcome="confermato",
                summary=f"Residenza confermata: {address.one_line}.",
                source=SOURCES["anpr"],
                reference="1000001",
                detail={"residenza": address.one_line},
                actor_label="sistema",
            ),
            RegistryCheck(
                taxpayer_id=taxpayer_id,
                registry="inad",
                checked_dt=when,
                outcome="non_trovato",
                summary="Nessun domicilio digitale in INAD.",
                source=SOURCES["inad"],
                detail={},
                actor_label="sistema",
            ),
        ]
    )
