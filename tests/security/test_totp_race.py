"""Two logins racing with the same TOTP code, each on its own PostgreSQL connection (on the probe's own,
committed database: a rolled-back test transaction would hide the race): exactly one is accepted."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pyotp
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from tests.security.conftest import World


def test_the_same_code_sent_twice_at_once_is_accepted_once(world: World) -> None:
    from app.auth.models import User
    from app.auth.services import LoginRefused, verify_totp

    engine = sa.create_engine(world.app.config["SQLALCHEMY_DATABASE_URI"])
    secret = pyotp.random_base32()
    now = dt.datetime.now(dt.UTC)
    code = pyotp.TOTP(secret).at(now)
    with Session(engine) as setup:
        user = setup.scalars(sa.select(User).where(User.username == "backoffice_r02")).one()
        user.totp_secret, user.totp_last_step = secret, None
        setup.commit()
        user_id = user.id
    first, second = Session(engine), Session(engine)
    outcome: dict[str, object] = {}
    try:
        verify_totp(first, first.get(User, user_id), code, now=now)  # claims the step, row locked
        racer = second.get(User, user_id)  # read before the first commits: no step recorded yet
        assert racer.totp_last_step is None

        def race() -> None:
            try:
                verify_totp(second, racer, code, now=now)
                outcome["second"] = "accepted"
            except LoginRefused as exc:
                outcome["second"] = exc.message

        thread = threading.Thread(target=race)
        thread.start()
        deadline = time.monotonic() + 10
        with engine.connect() as probe:  # wait until the second login waits for the first one's row lock
            while time.monotonic() < deadline and not probe.execute(
                sa.text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
            ).scalar():
                time.sleep(0.05)
        first.commit()
        thread.join(timeout=10)
        assert not thread.is_alive()
        second.commit()
    finally:
        first.close()
        second.close()
        engine.dispose()
    assert outcome["second"] != "accepted", "the same code was accepted twice"
    assert "già usato" in str(outcome["second"])


@pytest.fixture(autouse=True)
def _forget_the_secret(world: World):
    yield
    from app.auth.models import User
    from app.extensions import db

    with world.app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == "backoffice_r02")).one()
        user.totp_secret, user.totp_last_step = None, None
        db.session.commit()
