"""A parameter's value as an administrator reads it: Italian labels and Italian numbers instead of JSON.

Values are the JSON documents of app/enti/defaults.py; amounts are strings of euros ("300.00"), percentages
strings of percent points ("3"). A key this module does not know is shown as it is, never dropped.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from app.reports.formatting import format_eur, format_rate_it

_COMPONENTS = {"capitale": "capitale", "sanzioni": "sanzioni", "interessi": "interessi", "spese": "spese",
               "oneri": "oneri di riscossione"}
_PRESCRIPTION_KINDS = {"end_of_year": "al 31 dicembre dell'ultimo anno", "anniversary": "alla stessa data"}

#: key -> (label, kind); kind is money | percent | points | int | bool | components | kind | text
_KEYS: dict[str, tuple[str, str]] = {
    "reduced_percent": ("Misura ridotta", "percent"),
    "reduced_cap": ("Tetto della misura ridotta", "money"),
    "reduced_days": ("Giorni per la misura ridotta", "int"),
    "full_percent": ("Misura piena", "percent"),
    "full_cap": ("Tetto della misura piena", "money"),
    "base_components": ("Base di calcolo", "components"),
    "min_installment_amount": ("Rata minima", "money"),
    "unpaid_installments": ("Rate non pagate per la decadenza", "int"),
    "window_months": ("Nell'arco di mesi", "int"),
    "sollecito_required": ("Sollecito necessario", "bool"),
    "grace_days": ("Giorni di tolleranza", "int"),
    "sollecito_term_days": ("Termine del sollecito (giorni)", "int"),
    "kind": ("Scadenza", "kind"),
    "years": ("Anni", "int"),
    "label": ("Termine", "text"),
    "sollecito": ("Sollecito", "money"),
    "raccomandata_ar": ("Raccomandata A/R", "money"),
    "raccomandata_semplice": ("Raccomandata semplice", "money"),
    "pec": ("PEC", "money"),
    "notifica_art60_l890": ("Notifica (art. 60 D.P.R. 600/1973; art. 14 L. 890/1982)", "money"),
    "preavviso_fermo": ("Preavviso di fermo", "money"),
    "fermo_amministrativo": ("Fermo amministrativo", "money"),
    "cancellazione_fermo": ("Cancellazione del fermo", "money"),
    "ipoteca": ("Ipoteca", "money"),
    "pignoramento_presso_terzi": ("Pignoramento presso terzi", "money"),
    "pignoramento_mobiliare": ("Pignoramento mobiliare", "money"),
    "amount": ("Importo", "money"),
    "months": ("Mesi", "int"),
    "points": ("Punti percentuali", "points"),
    "order": ("Ordine di imputazione", "components"),
}

#: The order lines are shown in (a JSONB document comes back with its keys sorted by length).
_ORDER = {key: n for n, key in enumerate(["bands", *_KEYS, "decadenza"])}


def _money(value: Any) -> str:
    try:
        return format_eur(Decimal(str(value)))
    except (InvalidOperation, ValueError, TypeError):
        return str(value)


def _scalar(kind: str, value: Any) -> str:
    if value is None:
        return "nessuno" if kind in ("money", "int") else "—"
    if kind == "money":
        return _money(value)
    if kind in ("percent", "points"):
        try:
            text = format_rate_it(Decimal(str(value)))
        except (InvalidOperation, ValueError, TypeError):
            return str(value)
        return text if kind == "percent" else text.removesuffix("%")
    if kind == "bool" or isinstance(value, bool):
        return "sì" if value else "no"
    if kind == "components" and isinstance(value, list):
        return ", ".join(_COMPONENTS.get(str(v), str(v)) for v in value)
    if kind == "kind":
        return _PRESCRIPTION_KINDS.get(str(value), str(value))
    return str(value)


def _band(band: dict[str, Any]) -> str:
    limit = "oltre" if band.get("up_to") is None else f"fino a {_money(band['up_to'])}"
    low, high = band.get("min"), band.get("max")
    if low is None and high is None:
        return f"{limit}: nessuna rateazione"
    if low == high or low is None:
        return f"{limit}: fino a {high} rate"
    return f"{limit}: da {low} a {high} rate"


def describe(value: Any) -> list[str]:
    """The value as lines of Italian text ("Tetto della misura ridotta: 300,00 €")."""
    if not isinstance(value, dict):
        return [str(value)]
    lines: list[str] = []
    for key, item in sorted(value.items(), key=lambda kv: (_ORDER.get(kv[0], len(_ORDER)), kv[0])):
        label, kind = _KEYS.get(key, (key, "text"))
        if key == "bands" and isinstance(item, list):
            lines.append("Fasce: " + "; ".join(_band(b) for b in item if isinstance(b, dict)))
        elif key == "decadenza" and isinstance(item, dict):
            lines.append("Decadenza: " + "; ".join(describe(item)))
        else:
            lines.append(f"{label}: {_scalar(kind, item)}")
    return lines


def export_rows(session: Any) -> Any:
    """The rows of the parameters export: each rate period, then each parameter row (values as on screen)."""
    from app.enti import queries
    from app.reports.formatting import format_datetime_it

    names = queries.verifier_names(session)

    def verification(row: Any) -> str:
        if not row.verified:
            return "da verificare"
        who = names.get(row.verified_by_id, "utente non più presente")
        return f"verificato il {format_datetime_it(row.verified_dt)} da {who} su {row.verified_against}"

    for table in queries.list_rate_tables(session):
        for p in table.periods:
            yield {"kind": f"Tasso: {table.name}", "code": table.code, "valid_from": p.valid_from,
                   "valid_to": p.valid_to, "value": format_rate_it(p.rate), "source": p.source,
                   "verified": verification(p)}
    for p in queries.list_parameters(session):
        yield {"kind": "Parametro", "code": p.code, "valid_from": p.valid_from, "valid_to": p.valid_to,
               "value": "; ".join(describe(p.value)), "source": p.source, "verified": verification(p)}
