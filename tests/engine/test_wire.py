"""The JSON contract of formats.md §4, through the pure wire functions."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from app.engine.params import EngineParams
from app.engine.wire import WireError, deadlines_request, installment_plan_request, quote_request
from tests.engine.formats_examples import FORMATS_REQUEST, FORMATS_SEGMENTS

from .support import params_on, rate_tables

PARAMS = params_on(date(2025, 6, 30))
TABLES = rate_tables()
HOLIDAYS = frozenset({date(2026, 6, 2)})


def components(*rows: tuple[str, str, str, str]) -> list[dict[str, str]]:
    return [{"kind": k, "original": o, "paid": p, "due": d} for k, o, p, d in rows]


def request(**changes: Any) -> dict[str, Any]:
    body = copy.deepcopy(FORMATS_REQUEST)
    body.update(changes)
    return body


def test_the_formats_example_exactly() -> None:
    assert quote_request(FORMATS_REQUEST, TABLES, PARAMS) == {
        "as_of": "2025-06-30",
        "interest": {"amount": "60.05", "segments": FORMATS_SEGMENTS},
        "charges": {"oneri_riscossione": "0.00"},
        "components": components(
            ("capitale", "1000.00", "0.00", "1000.00"),
            ("sanzioni", "300.00", "0.00", "300.00"),
            ("interessi", "0.00", "0.00", "0.00"),
            ("spese", "5.88", "0.00", "5.88"),
        ),
        # 1000.00 + 300.00 + 0.00 + 5.88 + 60.05 = 1365.93
        "total_due": "1365.93",
    }


@pytest.mark.parametrize(
    ("esecutivo_since", "oneri", "total"),
    [
        # 2025-05-01 → 2025-06-30 is day 60: 3% of 1365.93 = 40.9779 → 40.98; total 1365.93 + 40.98 = 1406.91
        pytest.param("2025-05-01", "40.98", "1406.91", id="day-60"),
        # 2025-04-30 → day 61: 6% of 1365.93 = 81.9558 → 81.96; total 1447.89
        pytest.param("2025-04-30", "81.96", "1447.89", id="day-61"),
    ],
)
def test_quote_with_oneri(esecutivo_since: str, oneri: str, total: str) -> None:
    body = request(charges={"rule": "oneri_l160", "esecutivo_since": esecutivo_since})
    response = quote_request(body, TABLES, PARAMS)
    assert response["charges"] == {"oneri_riscossione": oneri}
    assert response["total_due"] == total


def test_quote_with_a_payment_in_the_middle() -> None:
    # 705.88 on 2024-03-15 → spese 5.88, interessi 0, sanzioni 300.00, capitale 400.00; capital base 600 from
    # 2024-03-16: 25.068493 + 5.136986 + 11.958904 + 5.950685 = 48.115068 → 48.12 (see test_interest);
    # total 600.00 + 48.12 = 648.12
    body = request(payments=[{"date": "2024-03-15", "amount": "705.88"}])
    assert quote_request(body, TABLES, PARAMS) == {
        "as_of": "2025-06-30",
        "interest": {
            "amount": "48.12",
            "segments": [
                {
                    "from": "2023-07-02",
                    "to": "2023-12-31",
                    "days": 183,
                    "rate": "5.00",
                    "base": "1000.00",
                    "amount": "25.07",
                },
                {
                    "from": "2024-01-01",
                    "to": "2024-03-15",
                    "days": 75,
                    "rate": "2.50",
                    "base": "1000.00",
                    "amount": "5.14",
                },
                {
                    "from": "2024-03-16",
                    "to": "2024-12-31",
                    "days": 291,
                    "rate": "2.50",
                    "base": "600.00",
                    "amount": "11.96",
                },
                {
                    "from": "2025-01-01",
                    "to": "2025-06-30",
                    "days": 181,
                    "rate": "2.00",
                    "base": "600.00",
                    "amount": "5.95",
                },
            ],
        },
        "charges": {"oneri_riscossione": "0.00"},
        "components": components(
            ("capitale", "1000.00", "400.00", "600.00"),
            ("sanzioni", "300.00", "300.00", "0.00"),
            ("interessi", "0.00", "0.00", "0.00"),
            ("spese", "5.88", "5.88", "0.00"),
        ),
        "total_due": "648.12",
        "credit": "0.00",
    }


def test_quote_without_interest_and_with_an_overpayment() -> None:
    body = {
        "as_of": "2025-06-30",
        "components": {"capitale": "100.00"},
        "payments": [{"date": "2025-01-10", "amount": "150,00"}],
    }
    response = quote_request(body, TABLES, PARAMS)
    assert response["interest"] == {"amount": "0.00", "segments": []}
    assert response["components"][0] == {
        "kind": "capitale",
        "original": "100.00",
        "paid": "100.00",
        "due": "0.00",
    }
    assert response["total_due"] == "0.00"
    assert response["credit"] == "50.00"


def test_surcharge_points_and_act_act() -> None:
    # (5 + 2)% on 1000 for 183 days of 2023: 1000 x 7 x 183/36500 = 35.095890 → 35.10
    body = request(as_of="2023-12-31")
    body["interest"].update(surcharge_points="2", day_count="ACT/ACT")
    response = quote_request(body, TABLES, PARAMS)
    assert response["interest"]["segments"][0]["rate"] == "7.00"
    assert response["interest"]["amount"] == "35.10"


def test_rates_with_more_than_two_decimals_are_not_truncated() -> None:
    # mora art. 30 from 2019-07-01: 2.68%; 2.6800 shows as "2.68". 1000 x 2.68 x 30/36500 = 2.202740 → 2.20
    body = request(as_of="2019-07-31")
    body["interest"].update({"from": "2019-07-01", "rate_table": "mora_dpr602_art30"})
    response = quote_request(body, TABLES, PARAMS)
    assert response["interest"]["segments"][0]["rate"] == "2.68"
    assert response["interest"]["amount"] == "2.20"
    body["interest"].update({"from": "2010-01-01"})
    body["as_of"] = "2010-01-31"  # 6.8358%: shown with all its decimals
    assert quote_request(body, TABLES, PARAMS)["interest"]["segments"][0]["rate"] == "6.8358"


def _error(call: Any) -> WireError:
    with pytest.raises(WireError) as error:
        call()
    return error.value


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param([], "Richiesta non valida: atteso un oggetto JSON", id="not-a-dict"),
        pytest.param(
            request(as_of="30/06/2025"), "Campo 'as_of': data non valida, atteso AAAA-MM-GG", id="date"
        ),
        pytest.param(
            request(as_of="2025-02-30"), "Campo 'as_of': data non valida, atteso AAAA-MM-GG", id="feb-30"
        ),
        pytest.param(
            request(as_of="20250630"), "Campo 'as_of': data non valida, atteso AAAA-MM-GG", id="basic-iso"
        ),
        pytest.param(
            request(foo=1),
            "Campo 'foo' non previsto; campi ammessi: as_of, components, interest, charges, payments",
            id="unknown-key",
        ),
        pytest.param(
            request(components={"bollo": "1.00"}),
            "Campo 'components.bollo' non previsto; campi ammessi: capitale, sanzioni, interessi, spese",
            id="unknown-component",
        ),
        pytest.param(
            request(components={"capitale": 1000.5}),
            "Campo 'components.capitale': importo non valido, atteso una stringa come \"1234.56\"",
            id="float-amount",
        ),
        pytest.param(
            request(components={"capitale": "12.345"}),
            "Campo 'components.capitale': importo non valido, atteso una stringa come \"1234.56\"",
            id="three-decimals",
        ),
        pytest.param({"components": {}}, "Campo 'as_of' obbligatorio", id="missing-as-of"),
        pytest.param(
            request(interest="legale"), "Campo 'interest': atteso un oggetto JSON", id="interest-type"
        ),
        pytest.param(
            request(payments={"date": "2025-01-01"}),
            "Campo 'payments': attesa una lista JSON",
            id="payments-type",
        ),
        pytest.param(
            request(payments=[{"date": "2025-01-01"}]),
            "Campo 'payments[0].amount' obbligatorio",
            id="payment-amount-missing",
        ),
    ],
)
def test_malformed_quotes_are_400(payload: Any, message: str) -> None:
    error = _error(lambda: quote_request(payload, TABLES, PARAMS))
    assert error.status == 400
    assert error.message_it == message
    assert error.body() == {"error": message, "details": error.details}


def _interest(**changes: Any) -> dict[str, Any]:
    body = request()
    body["interest"].update(changes)
    return body


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        pytest.param(
            request(components={"capitale": "-1.00"}),
            "Campo 'components.capitale': l'importo non può essere negativo",
            id="negative",
        ),
        pytest.param(
            _interest(rate_table="euribor"),
            "Campo 'interest.rate_table': tabella dei tassi 'euribor' sconosciuta",
            id="unknown-table",
        ),
        pytest.param(
            request(as_of="2023-06-30"),
            "Campo 'as_of': la data è precedente all'inizio degli interessi ('interest.from')",
            id="as-of-before-from",
        ),
        pytest.param(
            _interest(day_count="30/360"),
            "Campo 'interest.day_count': convenzione '30/360' sconosciuta",
            id="day-count",
        ),
        pytest.param(
            _interest(surcharge_points="2.5"),
            "Campo 'interest.surcharge_points': maggiorazione oltre il "
            "massimo di 2.00 punti (L. 160/2019, art. 1, c. 802)",
            id="surcharge-over-c802",
        ),
        pytest.param(
            _interest(base=["bollo"]),
            "Campo 'interest.base[0]': componente 'bollo' sconosciuta",
            id="unknown-base",
        ),
        pytest.param(
            _interest(**{"from": "1900-01-01"}),
            "Tabella dei tassi 'legale': nessun tasso in vigore il 02/01/1900",
            id="rate-missing",
        ),
        pytest.param(
            request(payments=[{"date": "2025-07-01", "amount": "1.00"}]),
            "Campo 'payments[0].date': il pagamento è successivo alla data 'as_of'",
            id="future-payment",
        ),
        pytest.param(
            request(payments=[{"date": "2025-01-01", "amount": "0"}]),
            "Campo 'payments[0].amount': l'importo del pagamento deve essere positivo",
            id="zero-payment",
        ),
        pytest.param(
            request(charges={"rule": "aggio", "esecutivo_since": "2025-01-01"}),
            "Campo 'charges.rule': regola 'aggio' sconosciuta",
            id="unknown-rule",
        ),
    ],
)
def test_invalid_quotes_are_422(payload: Any, message: str) -> None:
    error = _error(lambda: quote_request(payload, TABLES, PARAMS))
    assert error.status == 422
    assert error.message_it == message


def test_unknown_rate_table_details_list_the_known_tables() -> None:
    error = _error(lambda: quote_request(_interest(rate_table="euribor"), TABLES, PARAMS))
    assert error.details == {
        "field": "interest.rate_table",
        "known": ["dilazione_dpr602_art21", "legale", "mora_dpr602_art30"],
    }


PLAN_EXAMPLE = {
    "amount": "2500.00",
    "installments": 12,
    "first_due": "2027-01-31",
    "regime": "l160",
    "annual_rate": "0",
}


def test_the_installment_plan_example() -> None:
    response = installment_plan_request(PLAN_EXAMPLE, PARAMS)
    assert response["installments"][0] == {
        "n": 1,
        "due": "2027-01-31",
        "capital": "208.37",
        "interest": "0.00",
        "amount": "208.37",
    }
    assert response["installments"][1] == {
        "n": 2,
        "due": "2027-02-28",
        "capital": "208.33",
        "interest": "0.00",
        "amount": "208.33",
    }
    assert response["installments"][11] == {
        "n": 12,
        "due": "2027-12-31",
        "capital": "208.33",
        "interest": "0.00",
        "amount": "208.33",
    }
    assert len(response["installments"]) == 12
    # 208.37 + 11 x 208.33 = 2500.00
    assert (response["total_capital"], response["total_interest"], response["total"]) == (
        "2500.00",
        "0.00",
        "2500.00",
    )
    assert (
        installment_plan_request({k: v for k, v in PLAN_EXAMPLE.items() if k != "annual_rate"}, PARAMS)
        == response
    )


@pytest.mark.parametrize(
    ("amount", "installments", "allowed"),
    [
        pytest.param("2500.00", 24, {"min": 5, "max": 12}, id="too-many"),
        pytest.param("2500.00", 4, {"min": 5, "max": 12}, id="too-few"),
        pytest.param("100.00", 2, None, id="no-plan"),
        pytest.param("0.00", 2, None, id="zero"),
    ],
)
def test_a_plan_outside_the_regime_is_422_with_allowed(amount: str, installments: int, allowed: Any) -> None:
    payload = {**PLAN_EXAMPLE, "amount": amount, "installments": installments}
    error = _error(lambda: installment_plan_request(payload, PARAMS))
    assert error.status == 422
    body = error.body()
    assert body["allowed"] == allowed
    assert body["error"].startswith("Regime 'l160': per l'importo di")
    assert set(body) == {"error", "details", "allowed"}


@pytest.mark.parametrize(
    ("payload", "status", "message"),
    [
        pytest.param(
            {**PLAN_EXAMPLE, "installments": "12"},
            400,
            "Campo 'installments': atteso un numero intero",
            id="installments-string",
        ),
        pytest.param(
            {**PLAN_EXAMPLE, "installments": True},
            400,
            "Campo 'installments': atteso un numero intero",
            id="installments-bool",
        ),
        pytest.param(
            {**PLAN_EXAMPLE, "first_due": "31/01/2027"},
            400,
            "Campo 'first_due': data non valida, atteso AAAA-MM-GG",
            id="first-due",
        ),
        pytest.param(
            {**PLAN_EXAMPLE, "annual_rate": 2.5},
            400,
            "Campo 'annual_rate': numero non valido, atteso una stringa come \"2.5\"",
            id="float-rate",
        ),
        pytest.param(
            {**PLAN_EXAMPLE, "regime": "comunale"},
            422,
            "Campo 'regime': regime 'comunale' sconosciuto o non in vigore",
            id="unknown-regime",
        ),
        pytest.param(
            {**PLAN_EXAMPLE, "annual_rate": "-1"},
            422,
            "Campo 'annual_rate': il valore non può essere negativo",
            id="negative-rate",
        ),
        pytest.param(
            {**PLAN_EXAMPLE, "amount": "-5.00"},
            422,
            "Campo 'amount': l'importo non può essere negativo",
            id="negative-amount",
        ),
    ],
)
def test_plan_request_errors(payload: dict[str, Any], status: int, message: str) -> None:
    error = _error(lambda: installment_plan_request(payload, PARAMS))
    assert (error.status, error.message_it) == (status, message)


def test_the_deadlines_example() -> None:
    response = deadlines_request(
        {"regime": "tassa_auto", "due_date": "2021-01-31", "interruptions": ["2023-05-10"]}, PARAMS, HOLIDAYS
    )
    assert response == {
        "prescription_date": "2026-05-11",
        "term": "3 anni",
        "from": "2023-05-10",
        "source": PARAMS.prescription_regimes["tassa_auto"].source,
    }
    assert "D.L. 953/1982 art. 5 c. 51" in response["source"]


def test_deadlines_without_interruptions_and_errors() -> None:
    response = deadlines_request({"regime": "5y", "due_date": "2021-06-02"}, PARAMS, HOLIDAYS)
    assert (response["prescription_date"], response["term"], response["from"]) == (
        "2026-06-03",
        "5 anni",
        "2021-06-02",
    )
    bad_date = _error(
        lambda: deadlines_request(
            {"regime": "5y", "due_date": "2021-06-02", "interruptions": ["ieri"]}, PARAMS, HOLIDAYS
        )
    )
    assert (bad_date.status, bad_date.message_it) == (
        400,
        "Campo 'interruptions[0]': data non valida, atteso AAAA-MM-GG",
    )
    unknown = _error(lambda: deadlines_request({"regime": "7y", "due_date": "2021-06-02"}, PARAMS, HOLIDAYS))
    assert unknown.status == 422
    assert unknown.details == {"field": "regime", "known": ["10y", "5y", "tassa_auto"]}


def test_wire_error_body_merges_extra() -> None:
    error = WireError(422, "x", {"field": "installments"}, {"allowed": {"min": 5, "max": 12}})
    assert error.body() == {
        "error": "x",
        "details": {"field": "installments"},
        "allowed": {"min": 5, "max": 12},
    }
    assert WireError(400, "y").body() == {"error": "y", "details": {}}


def test_a_parameter_missing_at_the_date_is_422() -> None:
    bare = EngineParams(on=date(2019, 1, 1))
    payload = request(charges={"rule": "oneri_l160", "esecutivo_since": "2025-01-01"})
    error = _error(lambda: quote_request(payload, TABLES, bare))
    assert error.status == 422
    assert error.message_it == "Parametro 'oneri_l160' non disponibile alla data del 01/01/2019"
    paying = request(payments=[{"date": "2025-01-01", "amount": "1.00"}])
    assert _error(lambda: quote_request(paying, TABLES, bare)).details == {"parameter": "allocation_order"}
