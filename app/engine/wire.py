"""The JSON contract of formats.md §4, translated to and from engine values, so HTTP routes stay thin.

Each function takes the decoded JSON body and returns the response dict of a 200 answer, or raises WireError
with the status (400 malformed, 422 valid but not acceptable), an Italian message naming the field, details
and, for the installment plan, the `allowed` range. Amounts are strings with two decimals; rates strings with
at least two decimals ("5.00", "0.05", "6.8358").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Any

from app.engine.allocation import DebtPosition, PaymentIn, allocate_payments
from app.engine.charges import oneri_l160
from app.engine.deadlines import HolidayInput, prescription_date
from app.engine.errors import EngineError, InvalidAmount, ParameterMissing, PlanNotAllowed
from app.engine.installments import build_plan, check_installments
from app.engine.interest import (
    ONE_DAY,
    BaseReduction,
    DayCount,
    InterestResult,
    accrual_factor,
    add_ratio,
    compute_interest,
    interest_terms,
    terms_total,
)
from app.engine.money import ZERO, cents, dec, eur, format_amount, format_cents
from app.engine.params import EngineParams
from app.engine.rates import RateTable
from app.engine.rounding import half_up_div

COMPONENTS = ("capitale", "sanzioni", "interessi", "spese")  # the order of the response's `components`
_COMPONENT_FIELDS = tuple((name, f"components.{name}") for name in COMPONENTS)
_DAY_COUNTS = {d.value: d for d in DayCount}
_RATES_READ: dict[str, Decimal] = {}  # `_rate` of the texts seen (valid ones only), e.g. "0"
_DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}")


class WireError(Exception):
    """An API error: `status`, the Italian `message_it`, `details`, and `extra` keys merged into the body."""

    def __init__(
        self,
        status: int,
        message_it: str,
        details: Mapping[str, Any] | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(message_it)
        self.status = status
        self.message_it = message_it
        self.details = dict(details or {})
        self.extra = dict(extra or {})

    def body(self) -> dict[str, Any]:
        """The JSON body: `{"error": ..., "details": {...}}` plus the extra keys (e.g. `allowed`)."""
        return {"error": self.message_it, "details": self.details, **self.extra}


# ---------------------------------------------------------------------------------------------------------
# Input parsing


def _malformed(field: str, text: str, **details: Any) -> WireError:
    return WireError(400, f"Campo '{field}': {text}", {"field": field, **details})


def _invalid(field: str, text: str, **details: Any) -> WireError:
    return WireError(422, f"Campo '{field}': {text}", {"field": field, **details})


def _object(value: Any, field: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        if not field:
            raise WireError(400, "Richiesta non valida: atteso un oggetto JSON", {})
        raise _malformed(field, "atteso un oggetto JSON")
    prefix = f"{field}." if field else ""
    for key in value:
        if key not in allowed:
            raise WireError(
                400,
                f"Campo '{prefix}{key}' non previsto; campi ammessi: {', '.join(allowed)}",
                {"field": f"{prefix}{key}", "allowed_fields": list(allowed)},
            )
    for key in required:
        if key not in value:
            raise WireError(400, f"Campo '{prefix}{key}' obbligatorio", {"field": f"{prefix}{key}"})
    return value


def _missing(code: str, params: EngineParams) -> WireError:
    return WireError(422, ParameterMissing(code, params.on).message_it, {"parameter": code})


def _date(value: Any, field: str) -> date:
    if isinstance(value, str) and _DATE_TEXT.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _malformed(field, "data non valida, atteso AAAA-MM-GG")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value:
        raise _malformed(field, "attesa una stringa non vuota")
    return value


def _list(value: Any, field: str) -> list[Any]:
    if not isinstance(value, list):
        raise _malformed(field, "attesa una lista JSON")
    return value


def _amount(value: Any, field: str) -> Decimal:
    """An amount >= 0: a string with at most two decimals (`.` or `,`) or an integer; 400 if malformed."""
    if isinstance(value, str) and "," in value and "." not in value:
        value = value.replace(",", ".", 1)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _malformed(field, 'importo non valido, atteso una stringa come "1234.56"')
    try:
        amount = eur(value)
    except InvalidAmount:
        raise _malformed(field, 'importo non valido, atteso una stringa come "1234.56"') from None
    if amount < 0:
        raise _invalid(field, "l'importo non può essere negativo")
    return amount


def _rate(value: Any, field: str) -> Decimal:
    """A rate or a number of points >= 0, in percent: a string ("2.5") or an integer; 400 if malformed."""
    if value.__class__ is str:
        known = _RATES_READ.get(value)
        if known is not None:
            return known
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _malformed(field, 'numero non valido, atteso una stringa come "2.5"')
    try:
        number = dec(value)
    except InvalidAmount:
        raise _malformed(field, 'numero non valido, atteso una stringa come "2.5"') from None
    if number < 0:
        raise _invalid(field, "il valore non può essere negativo")
    if value.__class__ is str and len(_RATES_READ) < 256:
        _RATES_READ[value] = number  # a Decimal is immutable: the same text always reads the same
    return number


def _integer(value: Any, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _malformed(field, "atteso un numero intero")
    return value


# ---------------------------------------------------------------------------------------------------------
# Output formatting


def format_rate(rate: Decimal) -> str:
    """A rate in percent with at least two decimals: 5 → "5.00", 0.05 → "0.05", 6.8358 → "6.8358"."""
    numerator, denominator = rate.as_integer_ratio()
    hundredths, rest = divmod(numerator * 100, denominator)
    if rest == 0:
        return format_cents(hundredths)
    return f"{rate:f}"


def _interest_body(result: InterestResult | None) -> dict[str, Any]:
    if result is None:
        return {"amount": format_amount(ZERO), "segments": []}
    return {
        "amount": format_amount(result.amount),
        "segments": [
            {
                "from": s.from_day.isoformat(),
                "to": s.to_day.isoformat(),
                "days": s.days,
                "rate": format_rate(s.rate),
                "base": format_amount(s.base),
                "amount": format_amount(s.amount),
            }
            for s in result.segments
        ],
    }


# ---------------------------------------------------------------------------------------------------------
# POST /api/v1/engine/quote


def reference_quote_request(
    payload: Any, rate_tables: Mapping[str, RateTable], params: EngineParams
) -> dict[str, Any]:
    """`quote_request` written plainly over engine values (Decimal amounts, `allocate_payments`,
    `compute_interest`, `oneri_l160`): the reference the integer fast path is proven equal to, and the path
    that answers every request the fast path hands back (the ones that end in an error).

    Payments are allocated to the four components in `params.allocation_order`; the part that reaches an
    interest-base component lowers the base from the day after the payment. What exceeds the components is
    returned as `credit` (present only when the request has `payments`). Accrued interest is not a target of
    the allocation: it is reported in `interest` and added to `total_due`.
    """
    body = _object(
        payload, "", ("as_of", "components", "interest", "charges", "payments"), ("as_of", "components")
    )
    as_of = _date(body["as_of"], "as_of")
    given = _object(body["components"], "components", COMPONENTS, ())
    original = {name: _amount(given.get(name, "0"), f"components.{name}") for name in COMPONENTS}

    payments = _payments(body, as_of) if "payments" in body else []
    interest_spec = None
    if "interest" in body:
        interest_spec = _interest_spec(body["interest"], as_of, rate_tables, params)
    charges_spec = _charges_spec(body["charges"], params) if "charges" in body else None

    position = DebtPosition("quote", as_of, original)
    if payments:
        if params.allocation_order is None:
            raise _missing("allocation_order", params)
        try:
            done, (after,) = allocate_payments(payments, [position], params.allocation_order)
        except EngineError as error:
            raise WireError(422, error.message_it, {"field": "payments"}) from None
    else:
        done, after = (), position
    paid = {name: original[name] - after.components[name] for name in COMPONENTS}
    credit = sum((allocation.credit for _, allocation in done), ZERO)

    result = None
    if interest_spec is not None:
        base_names = interest_spec["base"]
        reductions = [
            BaseReduction(
                payment.paid_on,
                sum((line.amount for line in allocation.lines if line.component in base_names), ZERO),
            )
            for payment, allocation in done
        ]
        try:
            result = compute_interest(
                sum((original[name] for name in base_names), ZERO),
                interest_spec["from"],
                as_of,
                interest_spec["table"],
                surcharge_points=interest_spec["surcharge_points"],
                day_count=interest_spec["day_count"],
                reductions=[r for r in reductions if r.amount > 0],
            )
        except EngineError as error:
            raise WireError(422, error.message_it, {"field": "interest"}) from None
    interest_amount = result.amount if result is not None else ZERO

    due = {name: after.components[name] for name in COMPONENTS}
    oneri = ZERO
    if charges_spec is not None:
        rule = charges_spec["rule"]
        base = sum((due.get(name, ZERO) for name in rule.base_components), ZERO) + interest_amount
        oneri = oneri_l160(base, charges_spec["esecutivo_since"], as_of, rule).amount

    response: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "interest": _interest_body(result),
        "charges": {"oneri_riscossione": format_amount(oneri)},
        "components": [
            {
                "kind": name,
                "original": format_amount(original[name]),
                "paid": format_amount(paid[name]),
                "due": format_amount(due[name]),
            }
            for name in COMPONENTS
        ],
        "total_due": format_amount(sum(due.values(), ZERO) + interest_amount + oneri),
    }
    if "payments" in body:
        response["credit"] = format_amount(credit)
    return response


class _Fallback(Exception):
    """Raised by the fast path where the reference raises an error: the reference then answers."""


_PLAIN_AMOUNT = re.compile(r"[0-9]{1,18}\.[0-9]{2}")
_PLAIN_INTEGER = re.compile(r"[0-9]{1,18}")


def _amount_cents(value: Any, field: str) -> int:
    """`_amount` in integer cents. The plain forms ("1234.56", "0") are read directly (the text without
    its dot is the number of cents); anything else goes through `_amount` and its checks."""
    if value.__class__ is str:
        if _PLAIN_AMOUNT.fullmatch(value):
            return int(value.replace(".", "", 1))
        if _PLAIN_INTEGER.fullmatch(value):
            return int(value) * 100
    return cents(_amount(value, field))


def _exact_cents(amount: Decimal) -> int:
    try:
        return cents(amount)
    except InvalidAmount:
        raise _Fallback from None


def quote_request(payload: Any, rate_tables: Mapping[str, RateTable], params: EngineParams) -> dict[str, Any]:
    """The amount due at `as_of` (formats.md §4, `POST /api/v1/engine/quote`).

    Payments are allocated to the four components in `params.allocation_order`; the part that reaches an
    interest-base component lowers the base from the day after the payment. What exceeds the components is
    returned as `credit` (present only when the request has `payments`). Accrued interest is not a target of
    the allocation: it is reported in `interest` and added to `total_due`.

    Computed in integer cents and exact integer ratios (`_fast_quote`); every request that would end in an
    error of the computation is answered by `reference_quote_request`, so errors are its errors.
    tests/engine/test_fast_paths.py proves both give the same response.
    """
    try:
        return _fast_quote(payload, rate_tables, params, True)  # type: ignore[return-value]
    except _Fallback:
        return reference_quote_request(payload, rate_tables, params)


def quote_total_due(payload: Any, rate_tables: Mapping[str, RateTable], params: EngineParams) -> str:
    """`quote_request(payload, rate_tables, params)["total_due"]`, without building the rest of the response
    (for batches). Raises the same WireError."""
    try:
        return _fast_quote(payload, rate_tables, params, False)  # type: ignore[return-value]
    except _Fallback:
        return reference_quote_request(payload, rate_tables, params)["total_due"]


def _fast_quote(
    payload: Any, rate_tables: Mapping[str, RateTable], params: EngineParams, detail: bool
) -> dict[str, Any] | str:
    """The quote in integers. Input checks are the reference's, in the same order (the same helpers);
    amounts become cents; allocation, interest (`interest_terms`) and oneri are the reference's rules on
    integers, each rounding done once with `half_up_div` on an exact ratio. Raises _Fallback wherever the
    reference raises an engine error."""
    body = _object(
        payload, "", ("as_of", "components", "interest", "charges", "payments"), ("as_of", "components")
    )
    as_of = _date(body["as_of"], "as_of")
    given = _object(body["components"], "components", COMPONENTS, ())
    original = {name: _amount_cents(given.get(name, "0"), field) for name, field in _COMPONENT_FIELDS}

    payments = _payments(body, as_of) if "payments" in body else []
    interest_spec = None
    if "interest" in body:
        interest_spec = _interest_spec(body["interest"], as_of, rate_tables, params)
    charges_spec = _charges_spec(body["charges"], params) if "charges" in body else None
    base_names = interest_spec["base"] if interest_spec is not None else ()

    due = dict(original)
    credit = 0
    reductions: list[tuple[date, int]] = []
    if payments:
        order = params.allocation_order
        if order is None:
            raise _missing("allocation_order", params)
        targets = [name for name in order if name in due]
        outside = [name for name in COMPONENTS if name not in order]
        if len(set(targets)) != len(targets):
            raise _Fallback  # a component named twice in the order: the reference's business
        for payment in sorted(payments, key=lambda p: p.paid_on):
            if any(due[name] > 0 for name in outside):
                raise _Fallback  # AllocationError in the reference
            remaining = _exact_cents(payment.amount)
            to_base = 0
            for name in targets:
                if remaining == 0:
                    break
                take = min(remaining, due[name])
                if take > 0:
                    due[name] -= take
                    remaining -= take
                    if name in base_names:
                        to_base += take
            credit += remaining
            if to_base > 0:
                reductions.append((payment.paid_on, to_base))

    terms = None
    interest_cents = 0
    if interest_spec is not None and not detail:
        base = sum(original[name] for name in base_names)
        interest_cents = _interest_total(base, as_of, interest_spec, reductions)
    elif interest_spec is not None:
        terms = interest_terms(
            sum(original[name] for name in base_names),
            interest_spec["from"],
            as_of,
            interest_spec["table"],
            interest_spec["surcharge_points"],
            interest_spec["day_count"],
            reductions,
        )
        if terms is None:
            raise _Fallback  # InvalidAmount or RateMissing in compute_interest
        interest_cents = half_up_div(*terms_total(terms))

    oneri = 0
    if charges_spec is not None:
        rule = charges_spec["rule"]
        base = sum(due.get(name, 0) for name in rule.base_components) + interest_cents
        within = (as_of - charges_spec["esecutivo_since"]).days <= rule.reduced_days
        percent_num, percent_den = (rule.reduced_percent if within else rule.full_percent).as_integer_ratio()
        cap = _exact_cents(rule.reduced_cap if within else rule.full_cap)
        # base (euro) x percent / 100, in cents: base_cents x percent / 100
        oneri = min(half_up_div(base * percent_num, percent_den * 100), cap)

    total_due = format_cents(sum(due.values()) + interest_cents + oneri)
    if not detail:
        return total_due
    response: dict[str, Any] = {
        "as_of": as_of.isoformat(),
        "interest": {
            "amount": format_cents(interest_cents),
            "segments": [
                {
                    "from": seg_from.isoformat(),
                    "to": seg_to.isoformat(),
                    "days": days,
                    "rate": format_rate(rate),
                    "base": format_cents(base),
                    "amount": format_cents(half_up_div(numerator, denominator)),
                }
                for seg_from, seg_to, days, rate, base, numerator, denominator in terms or ()
            ],
        },
        "charges": {"oneri_riscossione": format_cents(oneri)},
        "components": [
            {
                "kind": name,
                "original": format_cents(original[name]),
                "paid": format_cents(original[name] - due[name]),
                "due": format_cents(due[name]),
            }
            for name in COMPONENTS
        ],
        "total_due": total_due,
    }
    if "payments" in body:
        response["credit"] = format_cents(credit)
    return response


def _interest_total(base: int, as_of: date, spec: dict[str, Any], reductions: list[tuple[date, int]]) -> int:
    """The rounded interest total of `compute_interest`, in cents, from memoized accrual factors (interest
    is linear in the base day by day: see `accrual_factor`), with no segment built."""
    first = spec["from"] + ONE_DAY
    if as_of < first:
        return 0
    table, points, day_count = spec["table"], spec["surcharge_points"], spec["day_count"]
    factor = accrual_factor(table, first, as_of, points, day_count)
    if factor is None:
        raise _Fallback  # RateMissing
    numerator, denominator = base * factor[0], factor[1]
    for paid_on, amount in reductions:
        effective = paid_on + ONE_DAY
        if effective > as_of:
            continue
        base -= amount
        reduced = accrual_factor(table, max(effective, first), as_of, points, day_count)
        if reduced is None:
            raise _Fallback
        numerator, denominator = add_ratio(numerator, denominator, -amount * reduced[0], reduced[1])
    if base < 0:
        raise _Fallback  # InvalidAmount: payments take the base below zero
    return half_up_div(numerator, denominator)


def _payments(body: dict[str, Any], as_of: date) -> list[PaymentIn]:
    payments = []
    for index, item in enumerate(_list(body["payments"], "payments")):
        field = f"payments[{index}]"
        row = _object(item, field, ("date", "amount"), ("date", "amount"))
        paid_on = _date(row["date"], f"{field}.date")
        amount = _amount(row["amount"], f"{field}.amount")
        if amount == 0:
            raise _invalid(f"{field}.amount", "l'importo del pagamento deve essere positivo")
        if paid_on > as_of:
            raise _invalid(f"{field}.date", "il pagamento è successivo alla data 'as_of'")
        payments.append(PaymentIn(amount=amount, paid_on=paid_on))
    return payments


def _interest_spec(
    value: Any, as_of: date, rate_tables: Mapping[str, RateTable], params: EngineParams
) -> dict[str, Any]:
    spec = _object(
        value,
        "interest",
        ("from", "base", "rate_table", "surcharge_points", "day_count"),
        ("from", "rate_table"),
    )
    start = _date(spec["from"], "interest.from")
    base_names: list[str] = []
    for index, name in enumerate(_list(spec.get("base", ["capitale"]), "interest.base")):
        if not (isinstance(name, str) and name in COMPONENTS):
            field = f"interest.base[{index}]"
            if _text(name, field) not in COMPONENTS:
                raise _invalid(field, f"componente '{name}' sconosciuta", allowed_values=list(COMPONENTS))
        if name not in base_names:
            base_names.append(name)
    if not base_names:
        raise _invalid("interest.base", "indicare almeno una componente")
    code = _text(spec["rate_table"], "interest.rate_table")
    if code not in rate_tables:
        raise _invalid(
            "interest.rate_table", f"tabella dei tassi '{code}' sconosciuta", known=sorted(rate_tables)
        )
    points = _rate(spec.get("surcharge_points", "0"), "interest.surcharge_points")
    limit = params.mora_surcharge_max_points
    if limit is not None and points > limit:
        raise _invalid(
            "interest.surcharge_points",
            f"maggiorazione oltre il massimo di {format_rate(limit)} punti (L. 160/2019, art. 1, c. 802)",
            max=format_rate(limit),
        )
    day_count_text = _text(spec.get("day_count", DayCount.ACT_365.value), "interest.day_count")
    day_count = _DAY_COUNTS.get(day_count_text)
    if day_count is None:
        raise _invalid(
            "interest.day_count",
            f"convenzione '{day_count_text}' sconosciuta",
            allowed_values=[d.value for d in DayCount],
        )
    if as_of < start:
        raise _invalid("as_of", "la data è precedente all'inizio degli interessi ('interest.from')")
    return {
        "from": start,
        "base": tuple(base_names),
        "table": rate_tables[code],
        "surcharge_points": points,
        "day_count": day_count,
    }


def _charges_spec(value: Any, params: EngineParams) -> dict[str, Any]:
    spec = _object(value, "charges", ("rule", "esecutivo_since"), ("rule", "esecutivo_since"))
    rule = _text(spec["rule"], "charges.rule")
    since = _date(spec["esecutivo_since"], "charges.esecutivo_since")
    if rule != "oneri_l160":
        raise _invalid("charges.rule", f"regola '{rule}' sconosciuta", allowed_values=["oneri_l160"])
    if params.oneri is None:
        raise _missing("oneri_l160", params)
    return {"rule": params.oneri, "esecutivo_since": since}


# ---------------------------------------------------------------------------------------------------------
# POST /api/v1/engine/installment-plan


def installment_plan_request(payload: Any, params: EngineParams) -> dict[str, Any]:
    """A simulated plan (formats.md §4, `POST /api/v1/engine/installment-plan`).

    A number of installments outside the regime raises WireError 422 whose body has
    `"allowed": {"min": m, "max": n}`, or `"allowed": None` when the amount admits no plan.
    """
    body = _object(
        payload,
        "",
        ("amount", "installments", "first_due", "regime", "annual_rate"),
        ("amount", "installments", "first_due", "regime"),
    )
    amount = _amount(body["amount"], "amount")
    count = _integer(body["installments"], "installments")
    first_due = _date(body["first_due"], "first_due")
    regime_code = _text(body["regime"], "regime")
    annual_rate = _rate(body.get("annual_rate", "0"), "annual_rate")
    regime = params.installment_regimes.get(regime_code)
    if regime is None:
        raise _invalid(
            "regime",
            f"regime '{regime_code}' sconosciuto o non in vigore",
            known=sorted(params.installment_regimes),
        )
    try:
        check_installments(regime, amount, count)
    except PlanNotAllowed as error:
        allowed = None if error.allowed_min is None else {"min": error.allowed_min, "max": error.allowed_max}
        raise WireError(422, error.message_it, {"field": "installments"}, {"allowed": allowed}) from None
    plan = build_plan(amount, count, first_due, annual_rate)
    return {
        "installments": [
            {
                "n": i.n,
                "due": i.due.isoformat(),
                "capital": format_amount(i.capital),
                "interest": format_amount(i.interest),
                "amount": format_amount(i.amount),
            }
            for i in plan.installments
        ],
        "total_capital": format_amount(plan.total_capital),
        "total_interest": format_amount(plan.total_interest),
        "total": format_amount(plan.total),
    }


# ---------------------------------------------------------------------------------------------------------
# POST /api/v1/engine/deadlines


def deadlines_request(payload: Any, params: EngineParams, is_holiday: HolidayInput) -> dict[str, Any]:
    """The prescription date of a debt (formats.md §4, `POST /api/v1/engine/deadlines`)."""
    body = _object(payload, "", ("regime", "due_date", "interruptions"), ("regime", "due_date"))
    regime_code = _text(body["regime"], "regime")
    due_date = _date(body["due_date"], "due_date")
    interruptions = [
        _date(item, f"interruptions[{index}]")
        for index, item in enumerate(_list(body.get("interruptions", []), "interruptions"))
    ]
    regime = params.prescription_regimes.get(regime_code)
    if regime is None:
        raise _invalid(
            "regime",
            f"regime '{regime_code}' sconosciuto o non in vigore",
            known=sorted(params.prescription_regimes),
        )
    result = prescription_date(regime, due_date, interruptions, is_holiday)
    return {
        "prescription_date": result.date.isoformat(),
        "term": result.term,
        "from": result.start.isoformat(),
        "source": result.source,
    }
