"""L. 160/2019, art. 1, c. 795: for a debt up to 10.000 euro (parameter row `sollecito_obbligatorio_fino_a`) a
cautelare or esecutiva action is preceded by a sollecito sent to the debtor, whose term (`termine_sollecito`)
has passed. The preavvisi of fermo and ipoteca and the pignoramento refuse otherwise, naming the rule."""

from __future__ import annotations

import datetime as dt

import pytest

from app.atti.services import ActRefused, act_type_by_code, check_position
from app.core.audit import Actor
from app.demo.seed import MARIO_ROSSI_CF
from app.positions.amounts import today_rome
from tests.atti.conftest import open_position
from tests.procedures.support import send_sollecito

ACTOR = Actor.system("test")


@pytest.mark.parametrize("code", ["preavviso_fermo", "preavviso_ipoteca"])
def test_a_preavviso_up_to_the_threshold_needs_a_sollecito_sent_and_its_term_over(
    session, store, code
) -> None:
    today = today_rome()
    position = open_position(session, MARIO_ROSSI_CF)
    act_type = act_type_by_code(session, code)
    with pytest.raises(ActRefused) as refused:
        check_position(session, position, act_type, today)
    assert "nessun sollecito risulta inviato" in refused.value.message
    assert "L. 160/2019, art. 1, c. 795" in refused.value.message and "10.000,00 €" in refused.value.message

    send_sollecito(session, position, today, sent=False)  # issued, not sent yet: it does not count
    with pytest.raises(ActRefused, match="nessun sollecito risulta inviato"):
        check_position(session, position, act_type, today)

    send_sollecito(session, position, today)  # sent today: its 30 days are still running
    later = today + dt.timedelta(days=10)
    with pytest.raises(ActRefused) as early:
        check_position(session, position, act_type, later)
    when = (today + dt.timedelta(days=30)).strftime("%d/%m/%Y")
    assert "concede 30 giorni" in early.value.message and f"possibile dal {when}" in early.value.message

    assert check_position(session, position, act_type, today + dt.timedelta(days=30)).amount_cents > 0


def test_above_the_threshold_no_sollecito_is_needed(session, store) -> None:
    from app.enti.models import Parameter

    today = today_rome()
    position = open_position(session, MARIO_ROSSI_CF)
    due = check_position(session, position, act_type_by_code(session, "intimazione"), today).amount_cents
    session.add(  # the ente lowers the threshold under this debt: the rule no longer asks for a sollecito
        Parameter(code="sollecito_obbligatorio_fino_a", ente_id=position.ente_id, valid_from=today,
                  value={"amount": f"{(due - 1) / 100:.2f}"}, source="delibera di prova")
    )
    session.flush()
    assert check_position(session, position, act_type_by_code(session, "preavviso_fermo"), today)


def test_a_pignoramento_under_the_threshold_is_refused_without_a_sollecito(session, store) -> None:
    from app.core.access import Principal
    from app.procedures import pignoramento
    from app.procedures.machine import ProcedureRefused

    position = open_position(session, MARIO_ROSSI_CF)
    position.state = "scaduta"
    principal = Principal(role="admin", ente_ids=frozenset({position.ente_id}))
    with pytest.raises(ProcedureRefused, match=r"sollecito.*c\. 795"):
        pignoramento.start(session, principal, ACTOR, position.id, third_party_kind="banca",
                           third_party_name="Banca di prova", wage_cents=None, amount_cents=100,
                           on=today_rome())
