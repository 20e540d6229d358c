"""Helpers of the contact log's tests."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def ids(cf: str, ente: str = "R01") -> tuple[int, int]:
    """(taxpayer id, ente id) of a demo taxpayer (inside an app context)."""
    from app.enti.models import Ente
    from app.extensions import db
    from app.taxpayers.models import Taxpayer

    taxpayer_id = db.session.scalars(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == cf)).one()
    ente_id = db.session.scalars(sa.select(Ente.id).where(Ente.code == ente)).one()
    return taxpayer_id, ente_id


def topic_id(ente_id: int, code: str) -> int:
    from app.crm.contacts.models import ContactTopic
    from app.extensions import db

    return db.session.scalars(
        sa.select(ContactTopic.id).where(ContactTopic.ente_id == ente_id, ContactTopic.code == code)
    ).one()


def csrf_of(client: Any, path: str) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, path)
