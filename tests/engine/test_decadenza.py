"""Decadenza (L. 160/2019 c. 800; DPR 602/1973 art. 19 c. 3). A 12-installment plan of 100.00 a month from
2027-01-31: dues 01-31, 02-28, 03-31, 04-30, 05-31, 06-30, 07-31, 08-31, 09-30, 10-31, 11-30, 12-31."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.engine.installments import InstallmentStatus, check_decadenza, monthly_due_dates

from .support import params_on

D = Decimal
RULES = params_on(date(2027, 1, 1)).decadenza_rules
L160 = RULES["l160"]
ART19 = RULES["dpr602_art19"]
DUES = monthly_due_dates(date(2027, 1, 31), 12)
END = date(2027, 12, 31)


def plan(unpaid: set[int], late: dict[int, date] | None = None) -> list[InstallmentStatus]:
    """Installments paid on their due date, except `unpaid` (never paid) and `late` (paid on that day)."""
    late = late or {}
    rows = []
    for n, due in enumerate(DUES, 1):
        paid_on = None if n in unpaid else late.get(n, due)
        rows.append(InstallmentStatus(n=n, due=due, amount=D("100.00"), paid_on=paid_on))
    return rows


def test_two_unpaid_within_six_months_after_a_sollecito() -> None:
    result = check_decadenza(plan({1, 2}), END, L160, sollecito_on=date(2027, 2, 10))
    assert result is not None
    assert result.date == date(2027, 2, 28)  # the due date of the second unpaid installment
    assert result.unpaid == (1, 2)
    # not paid by 2027-02-28: installments 1 and 2, and 3..12 (not yet due) → 12 x 100.00
    assert result.remaining_due == D("1200.00")
    assert result.reason.startswith("Decadenza dal piano rateale (L. 160/2019, art. 1 c. 800")
    assert (
        "2 rate non pagate (n. 1, 2) nell'arco di 6 mesi, dopo il sollecito del 10/02/2027" in result.reason
    )


def test_only_one_unpaid_installment_is_not_decadenza() -> None:
    assert check_decadenza(plan({3}), END, L160, sollecito_on=date(2027, 4, 10)) is None


def test_two_unpaid_more_than_six_months_apart_are_not_decadenza() -> None:
    # 2027-01-31 + 6 months = 2027-07-31 < 2027-08-31 (installment 8)
    assert check_decadenza(plan({1, 8}), END, L160, sollecito_on=date(2027, 2, 10)) is None


def test_two_unpaid_exactly_six_months_apart_are_within() -> None:
    # 2027-01-31 + 6 months = 2027-07-31 = due of installment 7 → within
    result = check_decadenza(plan({1, 7}), END, L160, sollecito_on=date(2027, 2, 10))
    assert result is not None and result.date == date(2027, 7, 31) and result.unpaid == (1, 7)
    # remaining: 1, 7 and 8..12 not yet paid on 2027-07-31 → 7 x 100.00
    assert result.remaining_due == D("700.00")


def test_no_sollecito_no_decadenza_under_l160() -> None:
    assert check_decadenza(plan({1, 2}), END, L160, sollecito_on=None) is None
    assert check_decadenza(plan({1, 2}), date(2027, 3, 1), L160, sollecito_on=date(2027, 3, 2)) is None


def test_a_sollecito_after_the_second_miss_dates_the_decadenza() -> None:
    result = check_decadenza(plan({1, 2}), END, L160, sollecito_on=date(2027, 3, 15))
    assert result is not None and result.date == date(2027, 3, 15)


def test_a_late_payment_before_the_second_miss_cures_the_first() -> None:
    # installment 1 paid late on 2027-02-15, installment 2 never paid: at 2027-02-28 only one is unpaid
    rows = plan({2}, late={1: date(2027, 2, 15)})
    assert check_decadenza(rows, END, L160, sollecito_on=date(2027, 2, 10)) is None


def test_as_of_before_the_second_due_date() -> None:
    assert check_decadenza(plan({1, 2}), date(2027, 2, 27), L160, sollecito_on=date(2027, 2, 10)) is None


def test_dpr602_art19_eight_unpaid_even_non_consecutive() -> None:
    unpaid = {1, 3, 4, 5, 6, 8, 9, 11}
    result = check_decadenza(plan(unpaid), END, ART19)
    assert result is not None
    assert result.date == date(2027, 11, 30)  # due date of the eighth unpaid (n. 11)
    assert result.unpaid == (1, 3, 4, 5, 6, 8, 9, 11)
    # not paid by 2027-11-30: the eight plus installment 12 → 9 x 100.00
    assert result.remaining_due == D("900.00")
    assert "sollecito" not in result.reason


def test_dpr602_art19_seven_unpaid_is_not_decadenza() -> None:
    assert check_decadenza(plan({1, 3, 4, 5, 6, 8, 9}), END, ART19) is None


def test_decadenza_waits_for_the_sollecito_term() -> None:
    """A rule giving the taxpayer N days after the sollecito: decadenza on the sollecito + N, not before
    (with the national rule's term of 0 days, a mutation ignoring the term would pass every other test)."""
    from dataclasses import replace

    rule = replace(L160, sollecito_term_days=30)
    sollecito = date(2027, 3, 15)
    assert check_decadenza(plan({1, 2}), date(2027, 4, 13), rule, sollecito_on=sollecito) is None
    result = check_decadenza(plan({1, 2}), date(2027, 4, 14), rule, sollecito_on=sollecito)
    assert result is not None and result.date == date(2027, 4, 14) and result.unpaid == (1, 2)
    # a payment of both within the term cures them: no decadenza
    cured = plan(set(), late={1: date(2027, 4, 1), 2: date(2027, 4, 1)})
    assert check_decadenza(cured, END, rule, sollecito_on=sollecito) is None
    # the term counts from the sollecito even when the second miss comes later
    late_miss = check_decadenza(plan({3, 4}), END, rule, sollecito_on=date(2027, 3, 1))
    assert late_miss is not None and late_miss.date == date(2027, 4, 30)
