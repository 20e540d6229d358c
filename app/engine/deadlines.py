"""Legal terms: prescription (formats.md §4, domain.md §5), the intimazione of DPR 602 art. 50 / D.Lgs.
33/2025 art. 146, and the minimum amount of DL 16/2012 art. 3 c. 10.

Holidays are an input (a `frozenset` of dates or a callable): the engine holds no calendar of feasts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum

from app.engine.dates import add_months, add_years

HolidayInput = Callable[[date], bool] | frozenset[date] | set[date]

SUNDAY = 6


class PrescriptionKind(StrEnum):
    END_OF_YEAR = "end_of_year"  # lapses on 31 December of the `years`-th year after the due year (bollo)
    ANNIVERSARY = "anniversary"  # lapses `years` years after the due date, the same day (art. 2963 c.c.)


@dataclass(frozen=True, slots=True)
class PrescriptionRegime:
    code: str
    kind: PrescriptionKind
    years: int
    label: str  # e.g. "3 anni"
    source: str


@dataclass(frozen=True, slots=True)
class Prescription:
    date: date  # the last useful day, after the Sunday/holiday shift
    term: str
    start: date  # the dies a quo of the running term (the "from" of the API)
    source: str
    unadjusted: date  # the last day before the Sunday/holiday shift
    interruptions: tuple[date, ...]  # the interruptions that counted


def _holiday_test(is_holiday: HolidayInput) -> Callable[[date], bool]:
    if isinstance(is_holiday, frozenset | set):
        days = frozenset(is_holiday)
        return days.__contains__
    return is_holiday


def next_useful_day(day: date, is_holiday: HolidayInput) -> date:
    """`day`, or the next day that is neither a Sunday nor a holiday (art. 2963 c. 3 c.c.)."""
    test = _holiday_test(is_holiday)
    while day.weekday() == SUNDAY or test(day):
        day += timedelta(days=1)
    return day


def prescription_date(
    regime: PrescriptionRegime,
    due_date: date,
    interruptions: Iterable[date],
    is_holiday: HolidayInput,
) -> Prescription:
    """The prescription of a debt due on `due_date`.

    - END_OF_YEAR (tassa automobilistica, DL 953/1982 art. 5 c. 51): 31 December of due year + `years`; the
      term is reported as running from 1 January of the year after the due year;
    - ANNIVERSARY (5y, 10y): `years` after the due date, the same day of the month (art. 2963 c.c.);
    - each interruption on or before the current prescription date (after the Sunday/holiday shift) starts a
      new term of `years` years from that date, to the same day (art. 2945 c.c.); an interruption never
      shortens the term (one notified before the term started running leaves the later date);
    - 29 February becomes the last day of February (art. 2963 c. 4); a last day that is a Sunday or a holiday
      moves to the next day that is neither (art. 2963 c. 3).
    """
    if regime.kind is PrescriptionKind.END_OF_YEAR:
        start = date(due_date.year + 1, 1, 1)
        last = date(due_date.year + regime.years, 12, 31)
    else:
        start = due_date
        last = add_years(due_date, regime.years)
    counted: list[date] = []
    for interruption in sorted(set(interruptions)):
        if interruption > next_useful_day(last, is_holiday):
            break
        restarted = add_years(interruption, regime.years)
        if restarted >= last:
            last = restarted
            start = interruption
        counted.append(interruption)
    return Prescription(
        date=next_useful_day(last, is_holiday),
        term=regime.label,
        start=start,
        source=regime.source,
        unadjusted=last,
        interruptions=tuple(counted),
    )


def needs_intimazione(title_notified_on: date, as_of: date, months: int) -> bool:
    """True when enforcement on `as_of` must be preceded by an intimazione ad adempiere: more than `months`
    months have passed since the title was notified (DPR 602/1973 art. 50 c. 2, from 2026 D.Lgs. 33/2025
    art. 146; 12 months). The anniversary day itself is still within the term."""
    return as_of > add_months(title_notified_on, months)


def below_minimum(total: Decimal, threshold: Decimal) -> bool:
    """True when the amount due (sanctions and interest included) is not collected: at most `threshold`
    per credit per tax period (DL 16/2012 art. 3 c. 10, 30.00 euro for tributi erariali and regionali)."""
    return total <= threshold


# --- notification of an act (issue 13 point 5) ------------------------------------------------------------

# Postal outcomes of an act sent by raccomandata (L. 890/1982) and what each means for the notification.
NOTIFIED_OUTCOMES = frozenset(
    {"notificato", "compiuta_giacenza", "rifiutato", "pec_consegnata", "send_perfezionata"}
)
FAILED_OUTCOMES = frozenset(
    {"irreperibile", "trasferito", "deceduto", "pec_mancata_consegna", "send_irreperibile"}
)


def notification_date(
    outcome: str, event_date: date, *, cad_date: date | None = None, giacenza_days: int | None = None
) -> date | None:
    """The day an act counts as notified, by the rule of its outcome; None when the outcome is a failure.

    - `notificato` (delivered by hand), `pec_consegnata` (the PEC delivery receipt, art. 6 DPR 68/2005),
      `send_perfezionata` (SEND's perfection date, art. 26 DL 76/2020): the date of the event itself;
    - `rifiutato`: a refusal to receive is a notification made (art. 138 c. 2 c.p.c., art. 7 L. 890/1982);
    - `compiuta_giacenza`: `giacenza_days` after the CAD (comunicazione di avvenuto deposito) was sent
      (art. 8 c. 4 L. 890/1982: a parameter row, passed in); a recipient who collects the act earlier is
      an outcome `notificato` on the withdrawal date;
    - failures (`irreperibile`, `trasferito`, `deceduto`, a PEC not delivered, SEND unreachable): None.
    ValueError for an unknown outcome or a compiuta giacenza without its CAD date or term.
    """
    if outcome in FAILED_OUTCOMES:
        return None
    if outcome not in NOTIFIED_OUTCOMES:
        raise ValueError(f"esito sconosciuto: {outcome}")
    if outcome != "compiuta_giacenza":
        return event_date
    if cad_date is None or giacenza_days is None:
        raise ValueError("compiuta giacenza senza data di invio della CAD o termine di giacenza")
    return cad_date + timedelta(days=giacenza_days)


def payment_term_end(notified_on: date, days: int, is_holiday: HolidayInput) -> date:
    """The last day to pay an act notified on `notified_on` with a term of `days` days (e.g. 60, L. 160/2019
    art. 1 c. 792 lett. a), moved past a Sunday or a holiday (art. 2963 c. 3 c.c.)."""
    return next_useful_day(notified_on + timedelta(days=days), is_holiday)
