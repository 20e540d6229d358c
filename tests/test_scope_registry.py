"""The scoping registry (issue 10, point 11): every model that holds taxpayer data declares its scope where it
lives, `scoped()` reads only those declarations, an undeclared model is refused, and core imports no slice.

The models are discovered from the mappers, not listed by hand: a new slice's model with a `taxpayer_id`,
`position_id` or `ente_id` column, a foreign key to taxpayers/positions/enti, or a relationship to `Taxpayer`
fails here until it declares its scope.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import aliased

from app.core.access import Principal, registered_scopes, scoped, scoped_join
from app.core.db import Base
from app.demo.seed import MARIO_ROSSI_CF

ROOT = Path(__file__).resolve().parent.parent
SUBJECT_TABLES = {"taxpayers", "positions", "enti"}
SUBJECT_COLUMNS = {"taxpayer_id", "position_id", "ente_id"}
TAXPAYER_MODELS = {"Taxpayer", "TaxpayerAddress", "TaxpayerContact", "TaxpayerEnte"}


def _holds_taxpayer_data(mapper: Any) -> bool:
    if mapper.local_table.name in {"taxpayers", "positions"}:
        return True
    for column in mapper.columns:
        if column.key in SUBJECT_COLUMNS or column.name in SUBJECT_COLUMNS:
            return True
        if any(fk.column.table.name in SUBJECT_TABLES for fk in column.foreign_keys):
            return True
    return any(rel.mapper.local_table.name == "taxpayers" for rel in mapper.relationships)


def models_with_taxpayer_data() -> list[type]:
    return sorted(
        (m.class_ for m in Base.registry.mappers if _holds_taxpayer_data(m)), key=lambda c: c.__name__
    )


def test_discovery_finds_the_models_it_should(app) -> None:
    """Guard against a vacuous registry test: the discovery sees the slices' models (and the app's)."""
    names = {c.__name__ for c in models_with_taxpayer_data()}
    expected = {"Taxpayer", "TaxpayerAddress", "Position", "Movement", "Payment", "Refund", "Allocation",
                "ReviewItem", "Carico", "BatchJob", "Event", "AccessLog", "User", "ApiToken", "NoticeNumber"}
    assert expected <= names, expected - names
    assert "RateTable" not in names and "ImportLayout" not in names


def test_every_model_with_taxpayer_data_declares_its_scope(app) -> None:
    missing = [c.__name__ for c in models_with_taxpayer_data() if c not in registered_scopes()]
    assert missing == [], (
        f"{missing} hold taxpayer data but declare no scope: call app.core.access.register_scope() next to "
        "the model"
    )


def test_every_declared_scope_is_valid_sql_and_keeps_the_other_entes_rows_out(session) -> None:
    from app.enti.models import Ente

    ids = dict(session.execute(sa.select(Ente.code, Ente.id)).tuples().all())
    r2 = Principal("regione", frozenset({ids["R02"]}))
    both = Principal("admin", frozenset(ids.values()))
    nobody = Principal("regione", frozenset())
    mario = Principal("contribuente", frozenset(), taxpayer_id=_mario_id(session))

    def count(model: type, principal: Principal, *where: Any) -> int:
        stmt = sa.select(sa.func.count()).select_from(model).where(*where)
        return session.scalar(scoped(stmt, model, principal))

    for model, rule in registered_scopes().items():
        if model.__name__ not in ("Parameter", "DocumentType"):  # national rows (no ente) are everyone's
            assert count(model, nobody) == 0, model
        assert count(model, r2) <= count(model, both), model
        if isinstance(rule.ente, sa.orm.InstrumentedAttribute):  # a column: no row of another ente
            assert count(model, r2, rule.ente != ids["R02"]) == 0, model
        if rule.taxpayer is not None:
            assert count(model, mario) <= count(model, both), model
        else:
            with pytest.raises(LookupError):  # taxpayer accounts are refused, not shown everything
                count(model, mario)


def _mario_id(session: Any) -> int:
    from app.taxpayers.models import Taxpayer

    return session.scalars(sa.select(Taxpayer.id).where(Taxpayer.codice_fiscale == MARIO_ROSSI_CF)).one()


def test_the_taxpayer_models_see_what_their_enti_see(session) -> None:
    from app.enti.models import Ente
    from app.taxpayers.models import Taxpayer, TaxpayerAddress

    ids = dict(session.execute(sa.select(Ente.code, Ente.id)).tuples().all())
    r2 = Principal("regione", frozenset({ids["R02"]}))
    mario = _mario_id(session)
    for model, key in ((Taxpayer, Taxpayer.id), (TaxpayerAddress, TaxpayerAddress.taxpayer_id)):
        assert session.scalars(scoped(sa.select(key).where(key == mario), model, r2)).all() == []
        r1 = Principal("regione", frozenset({ids["R01"]}))
        assert session.scalars(scoped(sa.select(key).where(key == mario), model, r1)).all() != []


def test_a_model_with_no_declared_scope_is_refused() -> None:
    from app.enti.models import RateTable
    from app.positions.models import Position

    staff = Principal("admin", frozenset({1}))
    with pytest.raises(LookupError, match="no scoping rule"):
        scoped(sa.select(RateTable), RateTable, staff)
    with pytest.raises(LookupError):  # an alias is not the declared class: refused, never left unscoped
        scoped(sa.select(aliased(Position)), aliased(Position), staff)


def test_declaring_a_scope_twice_or_with_nonsense_is_an_error() -> None:
    from app.core.access import register_scope
    from app.positions.models import Position

    with pytest.raises(ValueError, match="twice"):
        register_scope(Position, ente=Position.ente_id)
    with pytest.raises(TypeError):
        register_scope(type("Nothing", (), {}), ente="ente_id")


def test_scoped_join_keeps_the_row_and_drops_the_other_entes_taxpayer(session) -> None:
    from app.enti.models import Ente
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    ids = dict(session.execute(sa.select(Ente.code, Ente.id)).tuples().all())
    r2 = Principal("regione", frozenset({ids["R02"]}))
    mario = _mario_id(session)
    # a statement over R01's positions of Mario (as if a row of R02 pointed at him): the join yields NULLs
    stmt = sa.select(Position.id, Taxpayer.surname).where(Position.taxpayer_id == mario)
    rows = session.execute(scoped_join(stmt, Taxpayer, Taxpayer.id == Position.taxpayer_id, r2, isouter=True))
    rows = rows.all()
    assert rows and all(surname is None for _, surname in rows)
    inner = session.execute(scoped_join(stmt, Taxpayer, Taxpayer.id == Position.taxpayer_id, r2)).all()
    assert inner == []


def test_the_scoping_helper_imports_no_slice() -> None:
    """core defines the protocol, the slices declare their rules (style.md Part C)."""
    tree = ast.parse((ROOT / "app" / "core" / "access.py").read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
        elif isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
    own = ("app.core", "app.extensions")
    assert {m for m in imported if m.startswith("app.") and not m.startswith(own)} == set()


JOIN_METHODS = {"join", "outerjoin", "join_from", "outerjoin_from"}


def test_joins_to_a_taxpayer_go_through_scoped_join() -> None:
    """A plain `.join(Taxpayer, ...)` would bring along a taxpayer the user may not see (the refunds leak):
    joins to the taxpayer models are written with `app.core.access.scoped_join`."""
    offenders = []
    for path in sorted((ROOT / "app").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in JOIN_METHODS
                and any(isinstance(a, ast.Name) and a.id in TAXPAYER_MODELS for a in node.args[:2])
            ):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_of_ente_matches_within_one_ente_also_correlated_to_the_enclosing_statement(session) -> None:
    """What reconciliation uses to find a payer: rows tied to one ente, given as an id or as a column of the
    statement (the ente a payment was made to), through columns, links and foreign keys alike."""
    from app.core.access import of_ente
    from app.enti.models import Ente
    from app.positions.models import Movement, Position
    from app.taxpayers.models import Taxpayer, TaxpayerAddress

    ids = dict(session.execute(sa.select(Ente.code, Ente.id)).tuples().all())
    mario = _mario_id(session)
    marios_positions = sa.select(Position.id).where(Position.taxpayer_id == mario)
    cases = (
        (Taxpayer, Taxpayer.id == mario),  # a link table
        (TaxpayerAddress, TaxpayerAddress.taxpayer_id == mario),  # a foreign key to a linked row
        (Movement, Movement.position_id.in_(marios_positions)),  # a foreign key to a row with ente_id
    )
    for model, marios in cases:
        for code, expected in (("R01", True), ("R02", False)):
            stmt = sa.select(sa.func.count()).select_from(model).where(marios, of_ente(model, ids[code]))
            found = session.scalar(stmt)
            assert bool(found) == expected, (model, code)
        # correlated: pair every ente with Mario's rows tied to it; only R01 comes out
        paired = session.scalars(
            sa.select(Ente.code)
            .distinct()
            .join_from(Ente, model, sa.true())
            .where(marios, of_ente(model, Ente.id))
        ).all()
        assert paired == ["R01"], model
