"""Typed errors of the engine. Each carries the data a caller needs and an Italian message (`message_it`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal


def it_date(day: date) -> str:
    """A date the Italian way, for messages: 31/01/2027."""
    return day.strftime("%d/%m/%Y")


class EngineError(ValueError):
    """Base class of the engine's errors; `str(error)` is the Italian message."""

    def __init__(self, message_it: str) -> None:
        super().__init__(message_it)
        self.message_it = message_it


class InvalidAmount(EngineError):
    def __init__(self, value: object, reason: str) -> None:
        super().__init__(f"Importo non valido ({value!r}): {reason}")
        self.value = value
        self.reason = reason


class InvalidRateTable(EngineError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"Tabella dei tassi '{code}' non valida: {reason}")
        self.code = code
        self.reason = reason


class RateMissing(EngineError):
    def __init__(self, table_code: str, day: date) -> None:
        super().__init__(f"Tabella dei tassi '{table_code}': nessun tasso in vigore il {it_date(day)}")
        self.table_code = table_code
        self.day = day


class InvalidPeriod(EngineError):
    def __init__(self, start: date, end: date) -> None:
        super().__init__(
            f"Periodo non valido: la data finale {it_date(end)} precede la data iniziale {it_date(start)}"
        )
        self.start = start
        self.end = end


class PlanNotAllowed(EngineError):
    """The number of installments is outside the regime; allowed_* are None when no plan is admitted."""

    def __init__(
        self, amount: Decimal, requested: int, allowed_min: int | None, allowed_max: int | None, regime: str
    ) -> None:
        if allowed_min is None or allowed_max is None:
            message = f"Regime '{regime}': per l'importo di {amount} euro non è ammessa alcuna rateazione"
        else:
            message = (
                f"Regime '{regime}': per l'importo di {amount} euro sono ammesse da {allowed_min} "
                f"a {allowed_max} rate, richieste {requested}"
            )
        super().__init__(message)
        self.amount = amount
        self.requested = requested
        self.allowed_min = allowed_min
        self.allowed_max = allowed_max
        self.regime = regime


class UnknownCode(EngineError):
    """A code (regime, cost kind, component, rule) that the given parameters do not define."""

    def __init__(self, what: str, code: str, known: Sequence[str]) -> None:
        known_text = ", ".join(sorted(known)) or "nessuno"
        super().__init__(f"{what} '{code}' sconosciuto; valori ammessi: {known_text}")
        self.what = what
        self.code = code
        self.known = tuple(sorted(known))


class AllocationError(EngineError):
    pass


class PositionNotFound(AllocationError):
    def __init__(self, reference: str) -> None:
        super().__init__(f"Nessuna posizione corrisponde al riferimento '{reference}' indicato nel pagamento")
        self.reference = reference


class UnknownState(EngineError):
    def __init__(self, state: str, known: Sequence[str]) -> None:
        super().__init__(f"Stato '{state}' sconosciuto; stati ammessi: {', '.join(known)}")
        self.state = state
        self.known = tuple(known)


class TransitionNotAllowed(EngineError):
    def __init__(
        self, from_state: str, to_state: str, allowed: Sequence[str], labels: dict[str, str]
    ) -> None:
        if allowed:
            targets = ", ".join(f"'{labels[s]}'" for s in allowed)
            tail = f"da questo stato si può passare solo a: {targets}"
        else:
            tail = "è uno stato finale, non ammette passaggi"
        super().__init__(
            f"Passaggio di stato non consentito da '{labels[from_state]}' a '{labels[to_state]}': {tail}"
        )
        self.from_state = from_state
        self.to_state = to_state
        self.allowed = tuple(allowed)


class InvalidNotice(EngineError):
    def __init__(self, value: object, reason: str) -> None:
        super().__init__(f"Codice avviso non valido ({value!r}): {reason}")
        self.value = value
        self.reason = reason


class ParameterError(EngineError):
    pass


class ParameterMissing(ParameterError):
    def __init__(self, code: str, on: date) -> None:
        super().__init__(f"Parametro '{code}' non disponibile alla data del {it_date(on)}")
        self.code = code
        self.on = on


class InvalidParameter(ParameterError):
    def __init__(self, code: str, reason: str) -> None:
        super().__init__(f"Parametro '{code}' non valido: {reason}")
        self.code = code
        self.reason = reason
