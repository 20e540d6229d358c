"""A second administrator (four eyes on the legal numbers: the proposer of a new period cannot approve it)."""

from __future__ import annotations

from typing import Any

import pytest


def make_second_admin(app: Any, username: str = "admin2") -> int:
    from app.auth.models import User
    from app.auth.services import hash_password
    from app.extensions import db
    from tests.conftest import user_by_name

    with app.app_context():
        admin = user_by_name("admin")
        user = User(
            username=username,
            display_name="Seconda Amministratrice",
            role="admin",
            password_hash=hash_password("demo-esattoria-2"),
            totp_enrolled=False,
        )
        user.enti = list(admin.enti)
        db.session.add(user)
        db.session.commit()
        return user.id


@pytest.fixture
def second_admin(app: Any) -> int:
    return make_second_admin(app)
