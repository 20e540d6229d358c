"""Small jobs of the batch machinery itself."""

from __future__ import annotations

import sqlalchemy as sa


def healthcheck() -> dict[str, int]:
    """A job that reads the database: proves the worker runs jobs with the app and its database."""
    from app.extensions import db
    from app.positions.models import Position

    return {"positions": int(db.session.scalar(sa.select(sa.func.count()).select_from(Position)) or 0)}
