"""Postal address checks before a print batch goes to the provider: an address the provider cannot deliver
to is listed on the pre-check page (and left out of the batch) instead of coming back as "indirizzo
insufficiente" weeks later. Pure functions over a small dataclass; Italian messages naming the field."""

from __future__ import annotations

import re
from dataclasses import dataclass

# The 107 sigle automobilistiche of the Italian provinces and metropolitan cities (plus SU, Sud Sardegna,
# still used by Poste's database, and the historic ones the registers keep).
_SIGLE = (
    "AG AL AN AO AP AQ AR AT AV BA BG BI BL BN BO BR BS BT BZ CA CB CE CH CL CN CO CR CS CT CZ "
    "EN FC FE FG FI FM FR GE GO GR IM IS KR LC LE LI LO LT LU MB MC ME MI MN MO MS MT NA NO NU "
    "OR PA PC PD PE PG PI PN PO PR PT PU PV PZ RA RC RE RG RI RM RN RO SA SI SO SP SR SS SU SV "
    "TA TE TN TO TP TR TS TV UD VA VB VC VE VI VR VT VV CI OG OT VS "
)
PROVINCE = frozenset(_SIGLE.split())
_CAP = re.compile(r"^\d{5}$")
_HOUSE_NUMBER = re.compile(r"\d|\bsnc\b|\bs\.n\.c\.?", re.IGNORECASE)
MAX_LINE = 44  # a line of the window envelope (the provider's and SEND's `at` limit)


@dataclass(frozen=True, slots=True)
class PostalAddress:
    street: str
    cap: str | None
    comune: str
    provincia: str | None
    country: str = "IT"

    @property
    def one_line(self) -> str:
        prov = f" ({self.provincia})" if self.provincia else ""
        return f"{self.street}, {self.cap or ''} {self.comune}{prov}".replace("  ", " ")


def normalized(address: PostalAddress) -> PostalAddress:
    """Spaces collapsed, CAP and provincia trimmed and upper-cased, comune upper-cased as Poste prints it."""

    def clean(value: str | None) -> str:
        return " ".join((value or "").split())

    return PostalAddress(
        street=clean(address.street),
        cap=clean(address.cap) or None,
        comune=clean(address.comune).upper(),
        provincia=clean(address.provincia).upper() or None,
        country=clean(address.country).upper() or "IT",
    )


def address_problems(address: PostalAddress | None) -> list[str]:
    """Why the provider cannot deliver to this address (empty when it can), each message naming the field."""
    if address is None:
        return ["indirizzo: nessun indirizzo di residenza o sede legale in anagrafica"]
    a = normalized(address)
    problems: list[str] = []
    if a.country != "IT":
        problems.append(f"paese: {a.country} (il flusso di stampa copre solo l'Italia)")
        return problems
    if len(a.street) < 3:
        problems.append("via: mancante")
    elif not _HOUSE_NUMBER.search(a.street):
        problems.append(f"via: manca il numero civico ({a.street})")
    if len(a.street) > 2 * MAX_LINE:
        problems.append(f"via: più di {2 * MAX_LINE} caratteri")
    if not a.cap:
        problems.append("CAP: mancante")
    elif not _CAP.match(a.cap):
        problems.append(f"CAP: {a.cap} non è di 5 cifre")
    if not a.comune:
        problems.append("comune: mancante")
    if not a.provincia:
        problems.append("provincia: mancante")
    elif a.provincia not in PROVINCE:
        problems.append(f"provincia: sigla {a.provincia} sconosciuta")
    return problems
