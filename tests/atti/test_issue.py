"""Acts rendered and issued: every type for a person and a company, amounts, codice avviso, CF, the pagoPA QR
read back from the PDF, archive copy, protocol, event; template versions and compile errors."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from app.atti import catalog
from app.atti.models import Act, ActTemplate
from app.atti.rendering import TemplateError
from app.atti.services import (
    act_type_by_code,
    issue_act,
    save_template_version,
    template_in_force,
)
from app.core.audit import Actor, Event
from app.demo.seed import COMPANY_CF, MARIO_ROSSI_CF
from app.engine.notice import grouped
from app.positions.amounts import today_rome
from app.positions.services import positions_report
from app.reports.formatting import format_eur
from tests.atti.conftest import open_position, pdf_qr_codes, pdf_text

ACTOR = Actor.system("test")


@pytest.mark.parametrize("codice_fiscale", [MARIO_ROSSI_CF, COMPANY_CF], ids=["persona", "societa"])
def test_every_act_type_renders_amount_notice_cf_and_the_pagopa_qr(session, store, codice_fiscale) -> None:
    today = today_rome()
    position = open_position(session, codice_fiscale)
    report = {r["id_posizione"]: r for r in positions_report(session, codice_fiscale, as_of=today)}
    total_due = report[position.external_id]["total_due"]
    for code in catalog.TYPE_CODES:
        act_type = act_type_by_code(session, code)
        issued = issue_act(session, position, act_type, today, ACTOR, file_store=str(store))
        act = issued.act
        if code == "sollecito":  # sent by post a month ago: the preavvisi below may follow it (c. 795)
            act.status, act.sent_date = "inviato", today - dt.timedelta(days=40)
        text = pdf_text(issued.pdf)
        assert codice_fiscale in text, code
        assert act_type.name in text
        assert act.protocol in text
        assert f"{act.amount_due_cents / 100:.2f}" == total_due  # the same figure as `esattoria posizioni`
        assert format_eur(act.amount_due_cents) in text.replace("\u00a0", " ")
        assert "Firma autografa sostituita a mezzo stampa" in text
        if not act_type.with_payment:
            assert act.notice_number is None and pdf_qr_codes(issued.pdf) == []
            continue
        assert act.notice_number == report[position.external_id]["notice_numbers"][0]
        assert grouped(act.notice_number) in text
        cents = act.amount_due_cents
        expected = f"PAGOPA|002|{act.notice_number}|{position.ente.codice_fiscale}|{cents}"
        assert pdf_qr_codes(issued.pdf) == [expected]


def test_an_issued_act_is_an_archive_document_linked_to_taxpayer_and_position(session, store) -> None:
    from app.archive.models import Document

    position = open_position(session, MARIO_ROSSI_CF)
    issued = issue_act(
        session,
        position,
        act_type_by_code(session, "ingiunzione"),
        today_rome(),
        ACTOR,
        file_store=str(store),
    )
    document = session.get(Document, issued.act.document_id)
    assert document.protocol == issued.act.protocol and document.channel == "uscita"
    assert document.doc_type.code == "atto_emesso" and document.mime_type == "application/pdf"
    assert {(link.kind, link.target_id, link.state) for link in document.links} == {
        ("taxpayer", position.taxpayer_id, "confirmed"),
        ("position", position.id, "confirmed"),
    }
    assert (store / document.file_path).read_bytes() == issued.pdf
    event = session.scalars(
        sa.select(Event).where(Event.kind == "act.issued", Event.position_id == position.id)
    ).one()
    assert event.payload["act"] == issued.act.id and event.taxpayer_id == position.taxpayer_id
    lines = issued.act.breakdown["lines"]
    assert sum(line["cents"] for line in lines) == issued.act.amount_due_cents


def test_protocols_are_consecutive_in_the_archive_register(session, store) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    act_type = act_type_by_code(session, "sollecito")
    first = issue_act(session, position, act_type, today_rome(), ACTOR, file_store=str(store)).act
    second = issue_act(session, position, act_type, today_rome(), ACTOR, file_store=str(store)).act
    a, b = int(first.protocol.rsplit("-", 1)[1]), int(second.protocol.rsplit("-", 1)[1])
    assert b == a + 1


def test_editing_a_template_makes_a_new_version_and_leaves_issued_acts_unchanged(session, store) -> None:
    from app.archive.models import Document

    position = open_position(session, MARIO_ROSSI_CF)
    act_type = act_type_by_code(session, "sollecito")
    today = today_rome()
    old = issue_act(session, position, act_type, today, ACTOR, file_store=str(store))
    old_sha = session.get(Document, old.act.document_id).sha256
    current = template_in_force(
        session, ente_id=position.ente_id, entrata_id=position.entrata_id, act_type_id=act_type.id, on=today
    )
    new = save_template_version(
        session,
        ente_id=position.ente_id,
        entrata_id=None,
        act_type=act_type,
        source=current.source + "\nTesto aggiunto nella versione nuova.\n",
        valid_from=today,
        actor=ACTOR,
    )
    assert new.version == current.version + 1
    assert session.get(ActTemplate, current.id).source == current.source  # the old version is kept as it was
    again = issue_act(session, position, act_type, today, ACTOR, file_store=str(store))
    assert again.act.template_id == new.id and "Testo aggiunto nella versione nuova." in pdf_text(again.pdf)
    assert old.act.template_id == current.id
    assert session.get(Document, old.act.document_id).sha256 == old_sha == old.act.sha256
    assert (store / session.get(Document, old.act.document_id).file_path).read_bytes() == old.pdf


def test_an_entratas_own_template_wins_over_the_entes_generic_one(session, store) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    act_type = act_type_by_code(session, "intimazione")
    own = save_template_version(
        session,
        ente_id=position.ente_id,
        entrata_id=position.entrata_id,
        act_type=act_type,
        source="#intestazione()\n#destinatario()\n#oggetto()\n"
        "Testo proprio dell'entrata.\n#importi()\n#firma()\n",
        valid_from=dt.date(2020, 1, 1),
        actor=ACTOR,
    )
    issued = issue_act(session, position, act_type, today_rome(), ACTOR, file_store=str(store))
    assert issued.act.template_id == own.id and "Testo proprio dell'entrata." in pdf_text(issued.pdf)


def test_a_template_that_does_not_compile_is_refused_with_typsts_message_and_line(session) -> None:
    act_type = act_type_by_code(session, "sollecito")
    ente_id = session.scalar(sa.select(Act.ente_id).limit(1)) or 1
    before = session.scalar(sa.select(sa.func.count(ActTemplate.id)))
    with pytest.raises(TemplateError) as refused:
        save_template_version(
            session,
            ente_id=ente_id,
            entrata_id=None,
            act_type=act_type,
            source="#intestazione()\n\nTesto.\n#importi(\n",
            valid_from=dt.date(2026, 1, 1),
            actor=ACTOR,
        )
    assert refused.value.line == 4
    assert "riga 4" in refused.value.message_it and "delimiter" in refused.value.message_it
    with pytest.raises(TemplateError) as unknown:
        save_template_version(
            session,
            ente_id=ente_id,
            entrata_id=None,
            act_type=act_type,
            source="Testo\n#variabile_sconosciuta\n",
            valid_from=dt.date(2026, 1, 1),
            actor=ACTOR,
        )
    assert unknown.value.line == 2 and "variabile_sconosciuta" in unknown.value.message
    assert session.scalar(sa.select(sa.func.count(ActTemplate.id))) == before


def test_the_poste_data_matrix_is_printed_when_the_ente_has_a_postal_account(session, store) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    position.ente.postal_account = "001234567890"
    session.flush()
    issued = issue_act(
        session,
        position,
        act_type_by_code(session, "ingiunzione"),
        today_rome(),
        ACTOR,
        file_store=str(store),
    )
    codes = pdf_qr_codes(issued.pdf)
    matrix = next(c for c in codes if c.startswith("codfase=NBPA;"))
    assert matrix[15:33] == issued.act.notice_number  # io-app's decoder: notice [15,33)
    assert matrix[49:59] == str(issued.act.amount_due_cents).zfill(10)  # amount [49,59)
    assert matrix[66:77] == position.ente.codice_fiscale  # CF ente [66,77)
