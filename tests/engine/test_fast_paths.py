"""The integer fast paths give exactly what the plain Decimal/Fraction computations give (hypothesis).

- money and rounding: `eur`, `cents`, `from_cents`, `format_amount`, `round_*_cent` and `format_rate` against
  the Fraction formulations they replaced (copied below as `_old_*`);
- `RateIndex` against `RateTable.period_on` / `changes_between`, on tables with gaps;
- `interest_terms` (integer segments) and `accrual_factor` (memoized linear factors) against
  `compute_interest`, including where it raises;
- `quote_request` and `quote_total_due` (integer fast path with fallback) against `reference_quote_request`
  on generated requests, errors included (same status, message, details).
No example database is written (database=None).
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal, localcontext
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine.errors import EngineError, InvalidAmount
from app.engine.interest import (
    BaseReduction,
    DayCount,
    accrual_factor,
    add_ratio,
    compute_interest,
    interest_terms,
    terms_total,
)
from app.engine.money import cents, eur, format_amount, format_cents, from_cents
from app.engine.rates import RatePeriod, RateTable, rate_index
from app.engine.rounding import half_up_div, round_down_cent, round_half_up_cent
from app.engine.wire import (
    COMPONENTS,
    WireError,
    format_rate,
    quote_request,
    quote_total_due,
    reference_quote_request,
)

from .support import params_on, rate_tables

CHECK = settings(database=None, deadline=None, max_examples=300)
TABLES = rate_tables()
PARAMS = params_on(date(2026, 3, 1))


# ---------------------------------------------------------------------------------------------------------
# Money and rounding: the formulations replaced by integer arithmetic


def _old_from_cents(n: int) -> Decimal:
    return Decimal((1 if n < 0 else 0, tuple(int(c) for c in str(abs(n))), -2))


def _old_cents(amount: Decimal) -> int:
    exact = Fraction(amount) * 100
    if exact.denominator != 1:
        raise InvalidAmount(amount, "non è un numero intero di centesimi")
    return int(exact)


def _old_round_half_up(x: Fraction) -> Decimal:
    scaled = abs(Fraction(x)) * 100
    whole = math.floor(scaled)
    if (scaled - whole) * 2 >= 1:
        whole += 1
    return _old_from_cents(-whole if x < 0 else whole)


def _old_round_down(x: Fraction) -> Decimal:
    whole = math.floor(abs(Fraction(x)) * 100)
    return _old_from_cents(-whole if x < 0 else whole)


def _old_format_rate(rate: Decimal) -> str:
    scaled = Fraction(rate) * 100
    if scaled.denominator == 1:
        return f"{_old_from_cents(int(scaled)):f}"
    return f"{rate:f}"


big_ints = st.integers(min_value=-(10**40), max_value=10**40)
decimals = st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**15), max_value=10**15, places=6)


@CHECK
@given(big_ints)
def test_from_cents_and_format_cents(n: int) -> None:
    value = from_cents(n)
    assert value == _old_from_cents(n) and value.as_tuple() == _old_from_cents(n).as_tuple()
    assert format_cents(n) == f"{_old_from_cents(n):f}" == format_amount(value)
    assert cents(value) == n


@CHECK
@given(st.one_of(decimals, st.decimals(allow_nan=False, allow_infinity=False)))
def test_cents_and_eur_accept_and_refuse_what_fractions_did(value: Decimal) -> None:
    try:
        expected = _old_cents(value)
    except InvalidAmount:
        with pytest.raises(InvalidAmount):
            cents(value)
        with pytest.raises(InvalidAmount):
            eur(value)
        return
    assert cents(value) == expected
    assert eur(value).as_tuple() == _old_from_cents(expected).as_tuple()
    assert format_amount(value) == f"{_old_from_cents(expected):f}"


@CHECK
@given(big_ints, st.integers(min_value=1, max_value=10**30))
def test_rounding_of_exact_ratios(numerator: int, denominator: int) -> None:
    x = Fraction(numerator, denominator)
    assert round_half_up_cent(x).as_tuple() == _old_round_half_up(x).as_tuple()
    assert round_down_cent(x).as_tuple() == _old_round_down(x).as_tuple()
    # half_up_div on a ratio in cents is round_half_up_cent on the same ratio in euro
    assert from_cents(half_up_div(numerator, denominator)) == round_half_up_cent(x / 100)


@CHECK
@given(big_ints, st.integers(min_value=1, max_value=10**20))
def test_ties_go_away_from_zero(k: int, m: int) -> None:
    # (2k + 1) / 2 cents, written over any denominator 2m: exactly half a cent
    assert half_up_div((2 * k + 1) * m, 2 * m) == (k + 1 if k >= 0 else k)
    x = Fraction(2 * k + 1, 200)
    assert round_half_up_cent(x).as_tuple() == _old_round_half_up(x).as_tuple()


@CHECK
@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-100, max_value=100, places=8))
def test_format_rate(rate: Decimal) -> None:
    assert format_rate(rate) == _old_format_rate(rate)


@pytest.mark.parametrize("n", [0, 1, 5, -5, 99, 100, -100, 123456, -123456, 10**30, -(10**30)])
def test_format_cents_cases(n: int) -> None:
    assert format_cents(n) == f"{_old_from_cents(n):f}"


# ---------------------------------------------------------------------------------------------------------
# Rate tables with gaps, and the index that answers for them

days = st.dates(min_value=date(1995, 1, 1), max_value=date(2030, 12, 31))
rates = st.decimals(allow_nan=False, allow_infinity=False, min_value=0, max_value=15, places=4)


@st.composite
def tables(draw: st.DrawFn) -> RateTable:
    """A table of 1-8 periods from 1995 on, with gaps between some periods; the last may be open-ended."""
    periods, start = [], draw(st.dates(min_value=date(1990, 1, 1), max_value=date(2005, 12, 31)))
    for i in range(draw(st.integers(min_value=1, max_value=8))):
        length = draw(st.integers(min_value=0, max_value=2500))
        end = start + timedelta(days=length)
        periods.append(RatePeriod(start, end, draw(rates), f"p{i}"))
        start = end + timedelta(days=1 + draw(st.sampled_from([0, 0, 0, 1, 30])))
    if draw(st.booleans()):
        last = periods[-1]
        periods[-1] = RatePeriod(last.valid_from, None, last.rate, last.source)
    return RateTable("t", tuple(periods))


@CHECK
@given(tables(), days, days)
def test_rate_index_answers_as_the_table(table: RateTable, a: date, b: date) -> None:
    index = rate_index(table)
    assert index is rate_index(table)
    try:
        expected = table.period_on(a)
    except EngineError:
        expected = None
    assert index.period_at(a) == expected
    assert index.changes_between(min(a, b), max(a, b)) == table.changes_between(min(a, b), max(a, b))


# ---------------------------------------------------------------------------------------------------------
# Interest: integer segments and linear factors against compute_interest

any_table = st.one_of(tables(), st.sampled_from(sorted(TABLES.values(), key=lambda t: t.code)))
points = st.sampled_from(["0", "0.5", "1", "2", "0.25", "0.125", "1.0000"]).map(Decimal)


@st.composite
def interest_cases(draw: st.DrawFn) -> dict[str, Any]:
    base = draw(st.integers(min_value=0, max_value=10**9))
    start = draw(days)
    as_of = start + timedelta(days=draw(st.integers(min_value=-3, max_value=4000)))
    reductions, left = [], base
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        amount = draw(st.integers(min_value=1, max_value=max(1, left + 50)))  # may overshoot the base
        reductions.append((start + timedelta(days=draw(st.integers(min_value=-5, max_value=4000))), amount))
        left -= amount
    return {
        "base": base,
        "start": start,
        "as_of": as_of,
        "table": draw(any_table),
        "points": draw(points),
        "day_count": draw(st.sampled_from(list(DayCount))),
        "reductions": reductions,
    }


def _reference(case: dict[str, Any]) -> Any:
    try:
        return compute_interest(
            from_cents(case["base"]),
            case["start"],
            case["as_of"],
            case["table"],
            surcharge_points=case["points"],
            day_count=case["day_count"],
            reductions=[BaseReduction(day, from_cents(amount)) for day, amount in case["reductions"]],
        )
    except EngineError:
        return None


def _by_factors(case: dict[str, Any]) -> tuple[int, int] | None:
    """The exact interest in cents as the wire's total-only path computes it: linear factors."""
    first, as_of = case["start"] + timedelta(days=1), case["as_of"]
    if as_of < case["start"]:
        return None
    if as_of < first:
        return (0, 1)
    args = (case["table"], case["points"], case["day_count"])
    factor = accrual_factor(args[0], first, as_of, *args[1:])
    if factor is None:
        return None
    total, denominator, base = case["base"] * factor[0], factor[1], case["base"]
    for paid_on, amount in case["reductions"]:
        effective = paid_on + timedelta(days=1)
        if effective <= as_of:
            base -= amount
            reduced = accrual_factor(args[0], max(effective, first), as_of, *args[1:])
            assert reduced is not None  # a sub-period of a covered period
            total, denominator = add_ratio(total, denominator, -amount * reduced[0], reduced[1])
    return None if base < 0 else (total, denominator)


@CHECK
@given(interest_cases())
def test_integer_interest_equals_compute_interest(case: dict[str, Any]) -> None:
    expected = _reference(case)
    terms = interest_terms(
        case["base"],
        case["start"],
        case["as_of"],
        case["table"],
        case["points"],
        case["day_count"],
        case["reductions"],
    )
    by_factors = _by_factors(case)
    if expected is None:
        assert terms is None and by_factors is None
        return
    assert terms is not None and by_factors is not None
    assert [(t[0], t[1], t[2], t[3], from_cents(t[4])) for t in terms] == [
        (s.from_day, s.to_day, s.days, s.rate, s.base) for s in expected.segments
    ]
    assert [str(t[3]) for t in terms] == [str(s.rate) for s in expected.segments]  # same digits shown
    assert [Fraction(t[5], t[6]) / 100 for t in terms] == [s.exact for s in expected.segments]
    assert [from_cents(half_up_div(t[5], t[6])) for t in terms] == [s.amount for s in expected.segments]
    exact = Fraction(*terms_total(terms)) / 100
    assert exact == expected.exact_total == Fraction(*by_factors) / 100
    assert from_cents(half_up_div(*terms_total(terms))) == expected.amount
    assert from_cents(half_up_div(*by_factors)) == expected.amount


def test_segment_rates_ignore_the_global_decimal_context() -> None:
    table = RateTable("t", (RatePeriod(date(2020, 1, 1), None, Decimal("2.68"), "x"),))
    with localcontext() as context:
        context.prec = 2
        context.rounding = ROUND_FLOOR
        result = compute_interest(
            Decimal("1000.00"), date(2020, 1, 1), date(2020, 12, 31), table, surcharge_points=Decimal("0.125")
        )
    assert result.segments[0].rate == Decimal("2.805")


# ---------------------------------------------------------------------------------------------------------
# Whole quotes: fast path against the reference, errors included


def _money_text(draw: st.DrawFn, cents_value: int) -> Any:
    units, rest = divmod(cents_value, 100)
    forms = [f"{units}.{rest:02d}", f"{units},{rest:02d}", f" {units}.{rest:02d} "]
    if rest == 0:
        forms += [str(units), units, f"{units}.0"]
    elif rest % 10 == 0:
        forms.append(f"{units}.{rest // 10}")
    return draw(st.sampled_from(forms))


odd_amounts = st.sampled_from(["-1.00", "1.234", "abc", 1.5, None, True, "1e3", "", "0"])


@st.composite
def quote_payloads(draw: st.DrawFn, paying: bool = False) -> dict[str, Any]:
    """Quote requests; `paying`: always interest and payments after its start (the base reductions)."""
    as_of = draw(st.dates(min_value=date(2000, 1, 1), max_value=date(2027, 12, 31)))
    components: dict[str, Any] = {}
    for name in COMPONENTS:
        if draw(st.integers(min_value=0, max_value=9)):
            components[name] = _money_text(draw, draw(st.integers(min_value=0, max_value=10**7)))
    if draw(st.integers(min_value=0, max_value=30)) == 0:
        components[draw(st.sampled_from(COMPONENTS))] = draw(odd_amounts)
    payload: dict[str, Any] = {"as_of": as_of.isoformat(), "components": components}
    if paying or draw(st.integers(min_value=0, max_value=5)):
        start = as_of - timedelta(days=draw(st.integers(min_value=-2, max_value=4000)))
        spec: dict[str, Any] = {
            "from": start.isoformat(),
            "rate_table": draw(st.sampled_from(sorted(TABLES))),
        }
        if draw(st.booleans()):
            spec["base"] = draw(st.lists(st.sampled_from(COMPONENTS), min_size=1, max_size=4))
        if draw(st.booleans()):
            spec["surcharge_points"] = draw(st.sampled_from(["0", "1", "2", "0.5", "1.25", "2.5"]))
        if draw(st.booleans()):
            spec["day_count"] = draw(st.sampled_from(["ACT/365", "ACT/ACT"]))
        payload["interest"] = spec
    if draw(st.integers(min_value=0, max_value=2)) == 0:
        since = as_of - timedelta(days=draw(st.integers(min_value=-10, max_value=200)))
        payload["charges"] = {"rule": "oneri_l160", "esecutivo_since": since.isoformat()}
    if paying or draw(st.booleans()):
        payments = []
        for _ in range(draw(st.integers(min_value=1 if paying else 0, max_value=4))):
            back = draw(st.integers(min_value=0 if paying else -1, max_value=3000))
            paid_on = as_of - timedelta(days=back)
            amount = draw(st.integers(min_value=0 if draw(st.integers(0, 20)) == 0 else 1, max_value=10**7))
            payments.append({"date": paid_on.isoformat(), "amount": _money_text(draw, amount)})
        payload["payments"] = payments
    return payload


def _answer(call: Any) -> Any:
    """The response, or what was raised: a WireError, or an engine error the reference lets through."""
    try:
        return call()
    except WireError as error:
        return ("error", error.status, error.message_it, error.details, error.extra)
    except EngineError as error:  # e.g. a sub-cent cap of the oneri, which format_amount refuses
        return ("engine-error", type(error), error.message_it)


parameter_sets = st.sampled_from(
    [
        PARAMS,
        params_on(date(2010, 1, 1)),  # no oneri, no surcharge limit
        replace(PARAMS, allocation_order=("capitale", "sanzioni")),  # components outside the order
        replace(PARAMS, allocation_order=("spese", "spese", "capitale", "interessi", "sanzioni")),
        replace(PARAMS, allocation_order=None),
        replace(
            PARAMS, oneri=replace(PARAMS.oneri, reduced_cap=Decimal("0.005"), full_percent=Decimal("0.1"))
        ),
    ]
)


@CHECK
@given(st.one_of(quote_payloads(), quote_payloads(paying=True)), parameter_sets)
def test_fast_quotes_equal_the_reference(payload: dict[str, Any], params: Any) -> None:
    expected = _answer(lambda: reference_quote_request(payload, TABLES, params))
    assert _answer(lambda: quote_request(payload, TABLES, params)) == expected
    total = _answer(lambda: quote_total_due(payload, TABLES, params))
    assert total == (expected["total_due"] if isinstance(expected, dict) else expected)


@CHECK
@given(quote_payloads())
def test_fast_quotes_ignore_the_global_decimal_context(payload: dict[str, Any]) -> None:
    # Every successful quote with these parameters is answered by the fast path (the reference answers only
    # requests that end in an error of the computation, and it does depend on the context: prec 3 breaks it).
    expected = _answer(lambda: quote_request(payload, TABLES, PARAMS))
    if not isinstance(expected, dict):
        return
    with localcontext() as context:
        context.prec = 3
        context.rounding = ROUND_FLOOR
        assert _answer(lambda: quote_request(payload, TABLES, PARAMS)) == expected


def test_the_fallback_answers_the_errors_of_the_computation() -> None:
    body = {
        "as_of": "2025-06-30",
        "components": {"capitale": "100.00", "spese": "5.00"},
        "payments": [{"date": "2025-01-10", "amount": "10.00"}],
    }
    params = replace(PARAMS, allocation_order=("capitale",))
    with pytest.raises(WireError) as error:
        quote_request(body, TABLES, params)
    assert error.value.status == 422 and "non comprende le componenti: spese" in error.value.message_it
    body = {"as_of": "2025-06-30", "components": {}}
    body["interest"] = {"from": "1900-01-01", "rate_table": "legale"}
    with pytest.raises(WireError) as error:
        quote_total_due(body, TABLES, PARAMS)
    assert error.value.message_it == "Tabella dei tassi 'legale': nessun tasso in vigore il 02/01/1900"
