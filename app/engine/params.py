"""Parameter rows (the shape of app/enti/defaults.py, or the same rows read back from the database) to engine
values, resolved at one date.

Parameter rows: `{"code", "valid_from", "valid_to", "value", "source", "verified"}` (dates as ISO strings
or `date`, `verified` False when missing, extra keys such as `ente_id` or `note` ignored). `source` is the
legal citation of the row: the engine passes it on (e.g. as the deadlines' `source`), never writes its own.
For each code the row in force on `on` is used; when several are in force the LAST one in the input wins
(callers list national rows first, the ente's/entrata's after).
Unknown codes are ignored. Codes read:
- `oneri_l160`; `installment_regime_<regime>`; `decadenza_<regime>` (a regime row may also carry its own
  `"decadenza"`); `prescription_<regime>`; `spese_notifica`; `spese_procedure`;
  `soglia_minima_tributi_regionali`; `intimazione_mesi`; `mora_surcharge_max_points`; `allocation_order`;
  `ipoteca_min`.
Rate tables: `{code: {"name", "kind", "periods": [{"valid_from", "valid_to", "rate", "source",
"verified"}]}}` or a flat iterable of period rows each with a `"code"` key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from types import MappingProxyType
from typing import Any

from app.engine.charges import CostTable, OneriRule
from app.engine.deadlines import PrescriptionKind, PrescriptionRegime
from app.engine.errors import EngineError, InvalidParameter
from app.engine.installments import DecadenzaRule, InstallmentBand, InstallmentRegime
from app.engine.money import eur
from app.engine.rates import RatePeriod, RateTable


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


@dataclass(frozen=True, slots=True)
class EngineParams:
    """The parameter values the engine and the wire functions need, resolved at `on`.

    A field is None (or an empty mapping) when no row is in force at `on`; the wire functions then answer 422.
    """

    on: date
    oneri: OneriRule | None = None
    installment_regimes: Mapping[str, InstallmentRegime] = field(default_factory=_empty)
    decadenza_rules: Mapping[str, DecadenzaRule] = field(default_factory=_empty)
    prescription_regimes: Mapping[str, PrescriptionRegime] = field(default_factory=_empty)
    notification_costs: CostTable | None = None
    procedure_costs: CostTable | None = None
    allocation_order: tuple[str, ...] | None = None
    minimum_threshold: Decimal | None = None
    intimazione_months: int | None = None
    mora_surcharge_max_points: Decimal | None = None
    ipoteca_min: Decimal | None = None
    sources: Mapping[str, str] = field(default_factory=_empty)
    unverified: frozenset[str] = frozenset()  # codes whose row in force is not verified yet


def _day(value: Any, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidParameter(what, f"data non valida: {value!r}")


def _number(value: Any, code: str) -> Decimal:
    """A decimal from a row (str like "2.5" or "1E+1" as Decimal.normalize() writes it, int, Decimal)."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise InvalidParameter(code, f"numero non valido: {value!r} (float non ammessi)")
    try:
        number = Decimal(value) if not isinstance(value, str) else Decimal(value.strip())
    except InvalidOperation:
        raise InvalidParameter(code, f"numero non valido: {value!r}") from None
    if not number.is_finite():
        raise InvalidParameter(code, f"numero non valido: {value!r}")
    return number


def _amount(value: Any, code: str) -> Decimal:
    try:
        return eur(_number(value, code))
    except EngineError as error:
        raise InvalidParameter(code, error.message_it) from None


def _int(value: Any, code: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParameter(code, f"intero non valido: {value!r}")
    return value


def _optional_int(value: Any, code: str) -> int | None:
    return None if value is None else _int(value, code)


def rate_tables_from_rows(
    rows: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
) -> dict[str, RateTable]:
    """Every rate table with its whole history (interest spans years: tables are not resolved at a date)."""
    grouped: dict[str, list[Mapping[str, Any]]] = {}
    if isinstance(rows, Mapping):
        for code, spec in rows.items():
            grouped[code] = list(spec["periods"])
    else:
        for row in rows:
            grouped.setdefault(row["code"], []).append(row)
    tables = {}
    for code, periods in grouped.items():
        tables[code] = RateTable(
            code,
            tuple(
                RatePeriod(
                    valid_from=_day(p["valid_from"], code) or date.min,
                    valid_to=_day(p.get("valid_to"), code),
                    rate=_number(p["rate"], code),
                    source=str(p.get("source", "")),
                    verified=bool(p.get("verified", False)),
                )
                for p in periods
            ),
        )
    return tables


def _in_force(rows: Iterable[Mapping[str, Any]], on: date) -> dict[str, Mapping[str, Any]]:
    chosen: dict[str, Mapping[str, Any]] = {}
    for row in rows:
        code = row["code"]
        start = _day(row["valid_from"], code)
        end = _day(row.get("valid_to"), code)
        if start is not None and start <= on and (end is None or on <= end):
            chosen[code] = row  # the last row in force wins
    return chosen


def _decadenza(value: Mapping[str, Any], code: str, source: str) -> DecadenzaRule:
    return DecadenzaRule(
        unpaid_installments=_int(value["unpaid_installments"], code),
        window_months=_optional_int(value.get("window_months"), code),
        sollecito_required=bool(value["sollecito_required"]),
        grace_days=_int(value.get("grace_days", 0), code),
        sollecito_term_days=_int(value.get("sollecito_term_days", 0), code),
        source=source,
    )


def _regime(regime: str, value: Mapping[str, Any], code: str, source: str) -> InstallmentRegime:
    bands = tuple(
        InstallmentBand(
            up_to=None if band.get("up_to") is None else _amount(band["up_to"], code),
            min_installments=_optional_int(band.get("min"), code),
            max_installments=_optional_int(band.get("max"), code),
        )
        for band in value["bands"]
    )
    minimum = value.get("min_installment_amount")
    try:
        return InstallmentRegime(regime, bands, None if minimum is None else _amount(minimum, code), source)
    except ValueError as error:
        raise InvalidParameter(code, str(error)) from None


def engine_params_from_rows(rows: Iterable[Mapping[str, Any]], on: date) -> EngineParams:
    """EngineParams from parameter rows, using the rows in force on `on`."""
    in_force = _in_force(rows, on)
    regimes: dict[str, InstallmentRegime] = {}
    decadenza: dict[str, DecadenzaRule] = {}
    prescriptions: dict[str, PrescriptionRegime] = {}
    values: dict[str, Any] = {}
    try:
        for code, row in in_force.items():
            value, source = row["value"], str(row.get("source", ""))
            if code.startswith("installment_regime_"):
                name = code.removeprefix("installment_regime_")
                regimes[name] = _regime(name, value, code, source)
                if "decadenza" in value:
                    decadenza.setdefault(name, _decadenza(value["decadenza"], code, source))
            elif code.startswith("decadenza_"):
                decadenza[code.removeprefix("decadenza_")] = _decadenza(value, code, source)
            elif code.startswith("prescription_"):
                name = code.removeprefix("prescription_")
                prescriptions[name] = PrescriptionRegime(
                    name,
                    PrescriptionKind(value["kind"]),
                    _int(value["years"], code),
                    str(value["label"]),
                    source,
                )
            elif code == "oneri_l160":
                values["oneri"] = OneriRule(
                    reduced_percent=_number(value["reduced_percent"], code),
                    reduced_cap=_amount(value["reduced_cap"], code),
                    reduced_days=_int(value["reduced_days"], code),
                    full_percent=_number(value["full_percent"], code),
                    full_cap=_amount(value["full_cap"], code),
                    base_components=tuple(str(c) for c in value["base_components"]),
                    source=source,
                )
            elif code in ("spese_notifica", "spese_procedure"):
                table = CostTable(
                    code, MappingProxyType({k: _amount(v, code) for k, v in value.items()}), source
                )
                values["notification_costs" if code == "spese_notifica" else "procedure_costs"] = table
            elif code == "soglia_minima_tributi_regionali":
                values["minimum_threshold"] = _amount(value["amount"], code)
            elif code == "intimazione_mesi":
                values["intimazione_months"] = _int(value["months"], code)
            elif code == "mora_surcharge_max_points":
                values["mora_surcharge_max_points"] = _number(value["points"], code)
            elif code == "allocation_order":
                values["allocation_order"] = tuple(str(c) for c in value["order"])
            elif code == "ipoteca_min":
                values["ipoteca_min"] = _amount(value["amount"], code)
    except (KeyError, TypeError, ValueError) as error:
        if isinstance(error, InvalidParameter):
            raise
        raise InvalidParameter(code, f"valore malformato ({error!r})") from None
    return EngineParams(
        on=on,
        installment_regimes=MappingProxyType(regimes),
        decadenza_rules=MappingProxyType(decadenza),
        prescription_regimes=MappingProxyType(prescriptions),
        sources=MappingProxyType({code: str(row.get("source", "")) for code, row in in_force.items()}),
        unverified=frozenset(code for code, row in in_force.items() if not row.get("verified", False)),
        **values,
    )


def params_from_rows(
    parameter_rows: Iterable[Mapping[str, Any]],
    rate_table_rows: Mapping[str, Mapping[str, Any]] | Iterable[Mapping[str, Any]],
    on: date,
) -> tuple[EngineParams, dict[str, RateTable]]:
    """EngineParams resolved at `on` and every RateTable, from rows shaped like app/enti/defaults.py."""
    return engine_params_from_rows(parameter_rows, on), rate_tables_from_rows(rate_table_rows)
