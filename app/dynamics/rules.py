"""The rules the dynamics enforce, each with its legal source: every refusal names both, in Italian.

The citations are the national acts the rule rests on; an ente with a different regime changes the services'
parameters, not these texts (no number lives here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.errors import DomainError


@dataclass(frozen=True, slots=True)
class Rule:
    text: str
    source: str


RULES: dict[str, Rule] = {
    "sgravio": Rule(
        "Lo sgravio riduce il dovuto della posizione", "L. 212/2000, art. 10-quater (autotutela)"
    ),
    "sgravio_residuo": Rule(
        "Lo sgravio non può superare quanto ancora dovuto sulla componente",
        "L. 212/2000, art. 10-quater; D.Lgs. 112/1999, art. 26 (sgravio per indebito)",
    ),
    "sgravio_pagato": Rule(
        "Su somme già pagate non si sgrava: si rimborsa l'indebito",
        "art. 2033 c.c. (indebito oggettivo)",
    ),
    "sgravio_importo": Rule(
        "Lo sgravio deve indicare un importo positivo per almeno una componente",
        "L. 212/2000, art. 10-quater",
    ),
    "interessi_accessori": Rule(
        "Gli interessi seguono il credito: sgravato per intero ciò su cui maturano, sono sgravati anch'essi",
        "art. 1282 c.c.",
    ),
    "storno_sgravio": Rule(
        "Si storna solo uno sgravio parziale ancora in essere: una posizione sgravata del tutto è chiusa",
        "L. 241/1990, art. 21-nonies (annullamento d'ufficio del provvedimento)",
    ),
    "sospensione_ricorso": Rule(
        "Sospensione per ricorso", "D.Lgs. 546/1992, art. 47 (sospensione dell'atto impugnato)"
    ),
    "sospensione_autotutela": Rule(
        "Sospensione in autotutela", "L. 241/1990, art. 21-quater, c. 2 (sospensione dell'efficacia)"
    ),
    "sospensione_ordine_regione": Rule(
        "Sospensione ordinata dall'ente creditore",
        "L. 241/1990, art. 21-quater, c. 2 (provvedimento dell'ente creditore)",
    ),
    "sospensione_in_corso": Rule(
        "Una posizione già sospesa non si sospende di nuovo", "L. 241/1990, art. 21-quater, c. 2"
    ),
    "revoca_non_sospesa": Rule(
        "Si revoca solo una sospensione in corso", "L. 241/1990, art. 21-quater, c. 2"
    ),
    "discarico": Rule(
        "Discarico per inesigibilità", "D.Lgs. 112/1999, artt. 19 e 20 (discarico per inesigibilità)"
    ),
    "discarico_tentativi": Rule(
        "Il discarico per inesigibilità richiede almeno un tentativo di riscossione documentato (un atto "
        "emesso o una procedura)",
        "D.Lgs. 112/1999, art. 19, c. 2 (perdita del diritto al discarico)",
    ),
    "annullamento": Rule(
        "Annullamento della posizione", "L. 212/2000, art. 10-quater; L. 241/1990, art. 21-nonies"
    ),
    "annullamento_pagato": Rule(
        "Una posizione con pagamenti non si annulla: prima si rimborsano le somme pagate",
        "art. 2033 c.c. (indebito oggettivo)",
    ),
    "data_futura": Rule(
        "La data del provvedimento non può essere futura", "L. 241/1990, art. 21-bis (efficacia)"
    ),
}


class DynamicsRefused(DomainError):
    """A measure refused: `message` says why, naming the rule and its legal source."""


def refuse(code: str, detail: str = "", **details: Any) -> DynamicsRefused:
    rule = RULES[code]
    text = f"{detail}: {rule.text.lower()[0]}{rule.text[1:]}" if detail else rule.text
    return DynamicsRefused(f"{text} ({rule.source}).", rule=code, source=rule.source, **details)
