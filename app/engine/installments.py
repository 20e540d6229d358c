"""Installment plans (rateazione): regimes, schedules and decadenza (formats.md §4, domain.md §3-§4).

Regimes are parameter data: L. 160/2019 art. 1 c. 796 bands, DPR 602/1973 art. 19 (D.Lgs. 110/2024) maxima
keyed on the request date. Decadenza: L. 160/2019 c. 800 and DPR 602 art. 19 c. 3.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from app.engine.dates import add_months
from app.engine.errors import InvalidAmount, PlanNotAllowed, it_date
from app.engine.money import ZERO, cents, from_cents
from app.engine.rounding import round_down_cent, round_half_up_cent

# ---------------------------------------------------------------------------------------------------------
# Regimes


@dataclass(frozen=True, slots=True)
class InstallmentBand:
    """Amounts above the previous band's `up_to` and up to this `up_to` (inclusive; None: no upper limit)
    admit `min_installments`..`max_installments` monthly installments; both None: no plan."""

    up_to: Decimal | None
    min_installments: int | None
    max_installments: int | None


@dataclass(frozen=True, slots=True)
class InstallmentRegime:
    """A set of bands plus an optional minimum installment amount (the capital share of each installment).

    Bands must be sorted by `up_to`, the last one open-ended.
    """

    code: str
    bands: tuple[InstallmentBand, ...]
    min_installment_amount: Decimal | None
    source: str

    def __post_init__(self) -> None:
        bands = tuple(self.bands)
        object.__setattr__(self, "bands", bands)
        if not bands or bands[-1].up_to is not None:
            raise ValueError(f"Regime '{self.code}': l'ultima fascia deve essere senza limite superiore")
        limits = [b.up_to for b in bands[:-1]]
        if any(limit is None for limit in limits) or limits != sorted(limits):
            raise ValueError(f"Regime '{self.code}': fasce non ordinate")


@dataclass(frozen=True, slots=True)
class AllowedRange:
    min: int
    max: int


def allowed_installments(regime: InstallmentRegime, amount: Decimal) -> AllowedRange | None:
    """The range of installments the regime admits for `amount`, or None when no plan is admitted.

    With a minimum installment amount, the maximum is also limited to floor(amount / minimum).
    """
    band = next(b for b in regime.bands if b.up_to is None or amount <= b.up_to)
    if band.min_installments is None or band.max_installments is None:
        return None
    high = band.max_installments
    if regime.min_installment_amount is not None and regime.min_installment_amount > 0:
        high = min(high, int(Fraction(amount) / Fraction(regime.min_installment_amount)))
    if high < band.min_installments:
        return None
    return AllowedRange(band.min_installments, high)


def check_installments(regime: InstallmentRegime, amount: Decimal, installments: int) -> None:
    """Raises PlanNotAllowed (with the allowed min/max, or None) when `installments` is outside the regime."""
    allowed = allowed_installments(regime, amount)
    if allowed is None:
        raise PlanNotAllowed(amount, installments, None, None, regime.code)
    if not allowed.min <= installments <= allowed.max:
        raise PlanNotAllowed(amount, installments, allowed.min, allowed.max, regime.code)


# ---------------------------------------------------------------------------------------------------------
# Schedules


@dataclass(frozen=True, slots=True)
class Installment:
    n: int
    due: date
    capital: Decimal
    interest: Decimal

    @property
    def amount(self) -> Decimal:
        return self.capital + self.interest


@dataclass(frozen=True, slots=True)
class Plan:
    installments: tuple[Installment, ...]

    @property
    def total_capital(self) -> Decimal:
        return sum((i.capital for i in self.installments), ZERO)

    @property
    def total_interest(self) -> Decimal:
        return sum((i.interest for i in self.installments), ZERO)

    @property
    def total(self) -> Decimal:
        return self.total_capital + self.total_interest


def monthly_due_dates(first_due: date, count: int) -> tuple[date, ...]:
    """`count` monthly due dates on the day of `first_due`, or the month's last day when the month is shorter;
    always anchored to the original day (31 Jan → 28/29 Feb → 31 Mar)."""
    return tuple(add_months(first_due, k, anchor_day=first_due.day) for k in range(count))


def build_plan(amount: Decimal, installments: int, first_due: date, annual_rate: Decimal) -> Plan:
    """The schedule of formats.md §4.

    - capital share = amount / n rounded down to the cent; the remainder cents go to installment 1;
    - interest of installment k = capital still owed before k x annual_rate (percent) / 100 / 12, rounded
      half-up to the cent per installment.
    """
    if installments < 1:
        raise ValueError("Il numero di rate deve essere almeno 1")
    if amount <= 0:
        raise InvalidAmount(amount, "l'importo da rateizzare deve essere positivo")
    if annual_rate < 0:
        raise InvalidAmount(annual_rate, "il tasso annuo non può essere negativo")
    share = round_down_cent(Fraction(amount) / installments)
    first_share = from_cents(cents(amount) - cents(share) * (installments - 1))
    shares = [first_share] + [share] * (installments - 1)
    assert sum(shares, ZERO) == amount, "piano: le quote capitale non sommano all'importo"

    owed = amount
    rows = []
    dues = monthly_due_dates(first_due, installments)
    for k, (due, capital) in enumerate(zip(dues, shares, strict=True), 1):
        interest = round_half_up_cent(Fraction(owed) * Fraction(annual_rate) / 1200)
        rows.append(Installment(n=k, due=due, capital=capital, interest=interest))
        owed -= capital
    assert owed == 0
    return Plan(tuple(rows))


# ---------------------------------------------------------------------------------------------------------
# Decadenza


@dataclass(frozen=True, slots=True)
class DecadenzaRule:
    """Forfeiture of a plan after `unpaid_installments` unpaid installments.

    `window_months`: the unpaid installments must fall within this many months (None: anywhere in the plan).
    `sollecito_required`: decadenza needs a sollecito and happens no earlier than `sollecito_term_days`
    after it.
    `grace_days`: an installment is unpaid when not paid by its due date plus these days.
    """

    unpaid_installments: int
    window_months: int | None
    sollecito_required: bool
    grace_days: int
    sollecito_term_days: int
    source: str


@dataclass(frozen=True, slots=True)
class InstallmentStatus:
    n: int
    due: date
    amount: Decimal
    paid_on: date | None = None


@dataclass(frozen=True, slots=True)
class Decadenza:
    date: date
    reason: str
    remaining_due: Decimal
    unpaid: tuple[int, ...]


def check_decadenza(
    installments: Sequence[InstallmentStatus],
    as_of: date,
    rule: DecadenzaRule,
    sollecito_on: date | None = None,
) -> Decadenza | None:
    """The decadenza of a plan by `as_of`, or None.

    Interpretation (L. 160/2019 c. 800: "mancato pagamento, dopo espresso sollecito, di due rate anche non
    consecutive nell'arco di sei mesi"; DPR 602 art. 19 c. 3: eight unpaid installments, even
    non-consecutive):
    - an installment is *unpaid at day D* when its due date + grace is on or before D and it was not paid on
      or before D (a late payment made before D cures it);
    - for each installment j in due order, the candidate day is C = due_j + grace, or, when the rule needs a
      sollecito, the later of that and sollecito date + sollecito term; with no sollecito there is no
      decadenza;
    - at C, the installments unpaid whose due date is not after due_j and, with a window, whose due date plus
      `window_months` months is on or after due_j ("within six months": installments 1 and 7 of a monthly
      plan are within six months, 1 and 8 are not) are counted, j included; if they reach
      `unpaid_installments`, decadenza happens on C;
    - the earliest such C on or before `as_of` wins; `remaining_due` is the sum of the installments not paid
      by C (all of them, due or not: the remainder is due at once).
    """
    if rule.sollecito_required and (sollecito_on is None or sollecito_on > as_of):
        return None
    grace = timedelta(days=rule.grace_days)

    def unpaid_at(inst: InstallmentStatus, day: date) -> bool:
        return inst.due + grace <= day and (inst.paid_on is None or inst.paid_on > day)

    ordered = sorted(installments, key=lambda i: (i.due, i.n))
    for j in ordered:
        candidate = j.due + grace
        if rule.sollecito_required and sollecito_on is not None:
            candidate = max(candidate, sollecito_on + timedelta(days=rule.sollecito_term_days))
        if candidate > as_of or not unpaid_at(j, candidate):
            continue
        counted = [
            i
            for i in ordered
            if i.due <= j.due
            and unpaid_at(i, candidate)
            and (rule.window_months is None or add_months(i.due, rule.window_months) >= j.due)
        ]
        if len(counted) < rule.unpaid_installments:
            continue
        numbers = tuple(i.n for i in counted)
        remaining = sum((i.amount for i in ordered if i.paid_on is None or i.paid_on > candidate), ZERO)
        return Decadenza(candidate, _reason(rule, numbers, sollecito_on), remaining, numbers)
    return None


def _reason(rule: DecadenzaRule, numbers: tuple[int, ...], sollecito_on: date | None) -> str:
    listed = ", ".join(str(n) for n in numbers)
    text = f"Decadenza dal piano rateale ({rule.source}): {len(numbers)} rate non pagate (n. {listed})"
    if rule.window_months is not None:
        text += f" nell'arco di {rule.window_months} mesi"
    if rule.sollecito_required and sollecito_on is not None:
        text += f", dopo il sollecito del {it_date(sollecito_on)}"
    return text + "; il debito residuo è dovuto in un'unica soluzione."
