"""`esattoria atti emetti` (formats.md §7): the JSON printed, the PDF written, exit 0; each refusal exit 1
with an Italian "error" and nothing kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from app.atti.models import Act, ActTemplate, ActType
from app.demo.seed import MARIO_ROSSI_CF
from app.engine.notice import grouped
from app.enti.models import Parameter
from app.positions.amounts import today_rome
from tests.atti.conftest import open_position, pdf_qr_codes, pdf_text

KEYS = {"act", "protocol", "type", "id_posizione", "notice_number", "amount_due", "pdf"}


@pytest.fixture
def emetti(app, store) -> Any:
    runner = app.test_cli_runner()

    def run(*args: str) -> tuple[int, dict[str, Any]]:
        result = runner.invoke(args=["atti", "emetti", *args], catch_exceptions=False)
        return result.exit_code, json.loads(result.stdout.strip().splitlines()[-1])

    return run


def _acts(session) -> int:
    return session.scalar(sa.select(sa.func.count(Act.id)))


def test_emetti_issues_the_act_prints_the_contract_and_writes_the_pdf(app, session, emetti, tmp_path) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    ente = position.ente
    pdf = tmp_path / "atto.pdf"
    code, out = emetti(
        "--ente",
        ente.code,
        "--tipo",
        "ingiunzione",
        "--id-posizione",
        position.external_id,
        "--data",
        today_rome().isoformat(),
        "--pdf",
        str(pdf),
    )
    assert code == 0, out
    assert set(out) == KEYS
    assert out["type"] == "ingiunzione" and out["id_posizione"] == position.external_id
    assert out["pdf"] == str(pdf) and len(out["notice_number"]) == 18 and out["notice_number"].isdigit()
    report = app.test_cli_runner().invoke(args=["posizioni", "--cf", MARIO_ROSSI_CF])
    row = next(r for r in json.loads(report.output) if r["id_posizione"] == position.external_id)
    assert out["amount_due"] == row["total_due"]
    assert out["notice_number"] in row["notice_numbers"]
    body = pdf.read_bytes()
    text = pdf_text(body)
    assert MARIO_ROSSI_CF in text and grouped(out["notice_number"]) in text and out["protocol"] in text
    cents = int(out["amount_due"].replace(".", ""))
    assert f"PAGOPA|002|{out['notice_number']}|{ente.codice_fiscale}|{cents}" in pdf_qr_codes(body)
    act = session.get(Act, out["act"])
    assert act.protocol == out["protocol"] and act.amount_due_cents == cents


def _refused(session, emetti, tmp_path: Path, *args: str) -> dict[str, Any]:
    before = _acts(session)
    pdf = tmp_path / "rifiutato.pdf"
    code, out = emetti(*args, "--pdf", str(pdf))
    assert code == 1, out
    assert out["error"] and not pdf.exists()
    assert _acts(session) == before
    return out


def _set_state(session, position, state: str) -> None:
    position.state = state
    session.commit()


@pytest.mark.parametrize(
    ("state", "word"), [("pagata", "pagata"), ("sospesa", "sospesa"), ("sgravata", "sgravata")]
)
def test_emetti_refuses_a_paid_suspended_or_abated_position(session, emetti, tmp_path, state, word) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    _set_state(session, position, state)
    out = _refused(
        session,
        emetti,
        tmp_path,
        "--ente",
        position.ente.code,
        "--tipo",
        "ingiunzione",
        "--id-posizione",
        position.external_id,
    )
    assert word in out["error"]


def test_emetti_refuses_an_amount_under_the_minimum(session, emetti, tmp_path) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    session.add(
        Parameter(
            code="soglia_minima_tributi_regionali",
            ente_id=position.ente_id,
            entrata_id=position.entrata_id,
            valid_from=position.due_date.replace(year=2000),
            value={"amount": "100000.00"},
            source="D.L. 16/2012 art. 3 c. 10",
        )
    )
    session.commit()
    out = _refused(
        session,
        emetti,
        tmp_path,
        "--ente",
        position.ente.code,
        "--tipo",
        "sollecito",
        "--id-posizione",
        position.external_id,
    )
    assert "soglia minima" in out["error"] and "D.L. 16/2012" in out["error"]


def test_emetti_refuses_a_type_with_no_template_for_the_entrata(session, emetti, tmp_path) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    act_type = session.scalars(sa.select(ActType).where(ActType.code == "preavviso_ipoteca")).one()
    session.execute(
        sa.delete(ActTemplate).where(
            ActTemplate.ente_id == position.ente_id, ActTemplate.act_type_id == act_type.id
        )
    )
    session.commit()
    out = _refused(
        session,
        emetti,
        tmp_path,
        "--ente",
        position.ente.code,
        "--tipo",
        "preavviso_ipoteca",
        "--id-posizione",
        position.external_id,
    )
    assert "Nessun modello" in out["error"] and position.entrata.code in out["error"]


def test_emetti_refuses_unknown_type_position_ente_and_date(session, emetti, tmp_path) -> None:
    position = open_position(session, MARIO_ROSSI_CF)
    ente = position.ente.code
    out = _refused(
        session,
        emetti,
        tmp_path,
        "--ente",
        ente,
        "--tipo",
        "cartella",
        "--id-posizione",
        position.external_id,
    )
    assert "Tipo di atto sconosciuto" in out["error"]
    assert (
        "Nessuna posizione"
        in _refused(
            session, emetti, tmp_path, "--ente", ente, "--tipo", "sollecito", "--id-posizione", "NON-ESISTE"
        )["error"]
    )
    assert (
        "Ente sconosciuto"
        in _refused(
            session,
            emetti,
            tmp_path,
            "--ente",
            "ZZ9",
            "--tipo",
            "sollecito",
            "--id-posizione",
            position.external_id,
        )["error"]
    )
    out = _refused(
        session,
        emetti,
        tmp_path,
        "--ente",
        ente,
        "--tipo",
        "sollecito",
        "--id-posizione",
        position.external_id,
        "--data",
        "2026-13-40",
    )
    assert "Data non valida" in out["error"]


def test_modelli_predefiniti_brings_a_type_new_to_the_catalog_to_an_installed_database(app, session) -> None:
    """An installation upgraded to a version whose catalog has a new act type (the proroga's) gets it, with
    each ente's default template, from `esattoria atti modelli-predefiniti`; a rerun changes nothing."""
    gone = session.scalars(sa.select(ActType).where(ActType.code == "accoglimento_proroga")).one()
    session.execute(sa.delete(ActTemplate).where(ActTemplate.act_type_id == gone.id))
    session.delete(gone)
    session.flush()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["atti", "modelli-predefiniti"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "accoglimento_proroga" in json.loads(result.stdout.strip().splitlines()[-1])["tipi"]
    back = session.scalars(sa.select(ActType).where(ActType.code == "accoglimento_proroga")).one()
    templates = session.scalar(sa.select(sa.func.count()).where(ActTemplate.act_type_id == back.id))
    assert templates >= 1
    again = runner.invoke(args=["atti", "modelli-predefiniti"], catch_exceptions=False)
    assert again.exit_code == 0
    assert session.scalar(sa.select(sa.func.count()).where(ActTemplate.act_type_id == back.id)) == templates
