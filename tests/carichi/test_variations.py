"""Variation flows from the Regione (R-A10): anagrafica updates and ordered sgravi / sospensioni."""

from __future__ import annotations

import sqlalchemy as sa

from app.carichi.models import ImportLayout
from app.core.audit import Event
from app.core.history import versions_of
from app.demo.seed import COMPANY_CF, MARIO_ROSSI_CF, SECOND_ENTE_CF
from app.extensions import db
from app.positions.models import Movement, Position
from app.positions.queries import balances
from app.taxpayers.models import Taxpayer, TaxpayerAddress, TaxpayerContact
from tests.carichi.support import csv_bytes, errors_of, make_cf, row, run_file

ANAGRAFICA = ["codice_fiscale", "indirizzo", "cap", "comune", "provincia", "pec", "data_decesso"]
VARIAZIONI = ["codice_entrata", "id_posizione", "operazione", "componente", "importo", "data", "motivo"]


def _tolerant(name: str) -> None:
    """Accept any share of rejected rows (each test shows its own rejections)."""
    from app.carichi.services import get_layout

    get_layout(db.session, name).max_error_rate = 100
    db.session.commit()


def _taxpayer(cf: str) -> Taxpayer:
    return db.session.scalars(sa.select(Taxpayer).where(Taxpayer.codice_fiscale == cf)).one()


def test_anagrafica_updates_go_through_the_taxpayer_services(ctx) -> None:
    _tolerant("variazioni-anagrafiche")
    rows = [
        {
            "codice_fiscale": MARIO_ROSSI_CF,
            "indirizzo": "Via Nazionale 100",
            "cap": "00184",
            "comune": "Roma",
            "provincia": "RM",
        },
        {"codice_fiscale": COMPANY_CF, "pec": "nuova@pec.trasportidemo.it"},
        {"codice_fiscale": MARIO_ROSSI_CF, "data_decesso": "15/03/2026"},
        {"codice_fiscale": make_cf(777)},
        {"codice_fiscale": SECOND_ENTE_CF, "pec": "x@pec.it"},
        {"codice_fiscale": make_cf(778), "pec": "y@pec.it"},
        {"codice_fiscale": COMPANY_CF, "data_decesso": "2026-01-01"},
    ]
    job = run_file(
        ctx,
        csv_bytes(rows, header=ANAGRAFICA),
        entrata=None,
        layout="variazioni-anagrafiche",
        name="anagrafica.csv",
    )
    assert job.status == "done", job.error_message
    assert {k: job.result[k] for k in ("accepted", "rejected", "status")} == {
        "accepted": 3,
        "rejected": 4,
        "status": "applicato",
    }
    assert [(e[0], e[1], e[2]) for e in errors_of(job.id)] == [
        (5, "codice_fiscale", "nessuna variazione indicata (indirizzo, PEC o data di decesso)"),
        (6, "codice_fiscale", "contribuente non presente tra quelli dell'ente"),
        (7, "codice_fiscale", "contribuente non presente tra quelli dell'ente"),
        (8, "data_decesso", "data di decesso ammessa solo per le persone fisiche"),
    ]
    source = f"variazioni n. {job.id}"
    mario = _taxpayer(MARIO_ROSSI_CF)
    addresses = db.session.scalars(
        sa.select(TaxpayerAddress).where(TaxpayerAddress.taxpayer_id == mario.id).order_by(TaxpayerAddress.id)
    ).all()
    assert [(a.street, a.valid_to_dt is None) for a in addresses] == [
        ("Via del Corso 12", False),
        ("Via Nazionale 100", True),
    ]
    assert addresses[-1].source == source
    assert mario.deceased_date.isoformat() == "2026-03-15"
    assert [v.changed for v in versions_of(db.session, mario)] == [["deceased_date"]]
    events = db.session.scalars(
        sa.select(Event.kind).where(
            Event.taxpayer_id == mario.id, Event.payload["source"].as_string() == source
        )
    ).all()
    assert sorted(events) == ["address.changed", "taxpayer.updated"]
    company = _taxpayer(COMPANY_CF)
    pec = db.session.scalars(
        sa.select(TaxpayerContact).where(
            TaxpayerContact.taxpayer_id == company.id,
            TaxpayerContact.kind == "pec",
            TaxpayerContact.valid_to_dt.is_(None),
        )
    ).one()
    assert (pec.value, pec.source) == ("nuova@pec.trasportidemo.it", source)


def _load_positions(app, n: int = 4) -> list[Position]:
    job = run_file(app, csv_bytes([row(i) for i in range(1, n + 1)]), name="base.csv")
    return list(
        db.session.scalars(
            sa.select(Position)
            .where(Position.carico_id == job.result["carico"])
            .order_by(Position.external_id)
        )
    )


def _variazione(
    external_id: str,
    operation: str,
    component: str = "",
    amount: str = "",
    day: str = "2026-06-30",
    reason: str = "provvedimento n. 12/2026",
) -> dict[str, str]:
    return {
        "codice_entrata": "TASSA_AUTO",
        "id_posizione": external_id,
        "operazione": operation,
        "componente": component,
        "importo": amount,
        "data": day,
        "motivo": reason,
    }


def test_sgravi_write_negative_movements_never_beyond_what_is_due(ctx) -> None:
    _tolerant("variazioni-posizioni")
    p1, p2, p3, _ = _load_positions(ctx)
    rows = [
        _variazione(p1.external_id, "sgravio", "sanzioni", "30,00"),
        _variazione(p1.external_id, "sgravio", "capitale", "150,00"),
        _variazione(p2.external_id, "sgravio", "capitale", "100"),
        _variazione(p2.external_id, "sgravio", "sanzioni", "30"),
        _variazione(p2.external_id, "sgravio", "spese", "5,88"),
        _variazione(p3.external_id, "sgravio", "interessi", "1,00"),
        _variazione("NON-ESISTE", "sgravio", "capitale", "1"),
    ]
    job = run_file(ctx, csv_bytes(rows, header=VARIAZIONI), layout="variazioni-posizioni", name="sgravi.csv")
    assert job.status == "done", job.error_message
    assert (job.result["accepted"], job.result["rejected"]) == (4, 3)
    # the refusals of the one sgravio service (app/dynamics) name the rule and its source after the reason
    assert [(e[0], e[1], e[2].split(": ")[0]) for e in errors_of(job.id)] == [
        (3, "importo", "sgravio di 150,00 € superiore al dovuto della componente Capitale (100,00 €)"),
        (7, "importo", "sgravio di 1,00 € superiore al dovuto della componente Interessi (0,00 €)"),
        (8, "id_posizione", "posizione inesistente per l'ente e l'entrata"),
    ]
    assert "(L. 212/2000, art. 10-quater" in errors_of(job.id)[0][2]
    db.session.expire_all()
    first = balances(db.session, [p1.id])[p1.id]
    assert (first.component("sanzioni").due_cents, first.component("capitale").due_cents) == (0, 10000)
    assert db.session.get(Position, p1.id).state == "caricata"  # something is still due
    assert db.session.get(Position, p2.id).state == "sgravata"  # nothing left
    assert balances(db.session, [p2.id])[p2.id].due_cents == 0
    sgravi = db.session.scalars(
        sa.select(Movement).where(Movement.position_id == p1.id, Movement.kind == "sgravio")
    ).all()
    assert [(m.component, m.amount_cents, m.value_date.isoformat()) for m in sgravi] == [
        ("sanzioni", -3000, "2026-06-30")
    ]
    assert sgravi[0].source == f"variazioni n. {job.id}: provvedimento n. 12/2026"
    abated = db.session.scalars(
        sa.select(Event).where(Event.position_id == p2.id, Event.kind == "position.abated")
    ).all()
    assert len(abated) == 3 and abated[-1].summary.endswith("; posizione sgravata")


def test_sospensione_and_revoca_move_the_state_through_the_engine(ctx) -> None:
    _tolerant("variazioni-posizioni")
    p1, p2, p3, p4 = _load_positions(ctx)
    db.session.get(Position, p1.id).state = "notificata"
    db.session.commit()
    rows = [
        _variazione(p1.external_id, "sospensione"),
        _variazione(p1.external_id, "revoca_sospensione"),
        _variazione(p2.external_id, "sospensione"),
        _variazione(p2.external_id, "revoca_sospensione"),
        _variazione(p3.external_id, "revoca_sospensione"),
        _variazione(p4.external_id, "sospensione", "capitale", "1"),
    ]
    job = run_file(ctx, csv_bytes(rows, header=VARIAZIONI), layout="variazioni-posizioni", name="sosp.csv")
    assert job.status == "done", job.error_message
    assert (job.result["accepted"], job.result["rejected"]) == (4, 2)
    assert [(e[0], e[1], e[2].split(": si revoca")[0]) for e in errors_of(job.id)] == [
        (6, "operazione", "revoca non applicabile: la posizione non è sospesa (stato «Caricata»)"),
        (7, "componente", "da lasciare vuoto per l'operazione sospensione"),
        (7, "importo", "da lasciare vuoto per l'operazione sospensione"),
    ]
    db.session.expire_all()
    assert db.session.get(Position, p1.id).state == "notificata"  # suspended, then resumed where it was
    # suspended while still "caricata" (before the notice), and resumed there: not stuck in "sospesa"
    assert db.session.get(Position, p2.id).state == "caricata"
    kinds = db.session.scalars(
        sa.select(Event.kind).where(Event.position_id == p1.id, Event.kind.like("position.suspen%"))
    ).all()
    assert sorted(kinds) == ["position.suspended", "position.suspension_revoked"]


def test_variation_rows_are_validated_before_anything_is_applied(ctx) -> None:
    _tolerant("variazioni-posizioni")
    rows = [
        _variazione("X", "annullamento"),
        _variazione("X", "sgravio", "bollo", "1"),
        _variazione("X", "sgravio", "capitale", "0"),
        {**_variazione("X", "sospensione"), "motivo": ""},
        {**_variazione("X", "sospensione"), "data": "2099-01-01"},
        {**_variazione("X", "sospensione"), "codice_entrata": "CANONI"},
    ]
    job = run_file(
        ctx,
        csv_bytes(rows, header=VARIAZIONI),
        layout="variazioni-posizioni",
        name="errate.csv",
        entrata=None,
    )
    assert [(e[0], e[1], e[2]) for e in errors_of(job.id)] == [
        (2, "operazione", "operazione non ammessa: sgravio, sospensione o revoca_sospensione"),
        (3, "componente", "componente non ammessa: capitale, sanzioni, interessi, spese, oneri"),
        (4, "importo", "lo sgravio deve essere maggiore di zero"),
        (5, "motivo", "campo obbligatorio mancante"),
        (6, "data", "data nel futuro"),
        (7, "id_posizione", "posizione inesistente per l'ente e l'entrata"),
    ]


def test_a_variation_file_above_the_error_rate_applies_nothing(ctx) -> None:
    p1, *_ = _load_positions(ctx, 2)
    rows = [_variazione(p1.external_id, "sgravio", "sanzioni", "30")] + [
        _variazione(f"NO-{i}", "sgravio", "capitale", "1") for i in range(3)
    ]
    job = run_file(ctx, csv_bytes(rows, header=VARIAZIONI), layout="variazioni-posizioni", name="troppi.csv")
    assert job.status == "failed" and job.result["status"] == "rifiutato"
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Movement)
            .where(Movement.position_id == p1.id, Movement.kind == "sgravio")
        )
        == 0
    )
    assert len(errors_of(job.id)) == 3  # the report is kept
    assert (
        db.session.get(
            ImportLayout,
            db.session.scalars(
                sa.select(ImportLayout.id).where(ImportLayout.name == "variazioni-posizioni")
            ).one(),
        ).max_error_rate
        == 5
    )
