"""Templates filled from the card: a sandboxed Jinja environment (no access to Python internals, no I/O),
plain text (no HTML escaping: e-mail and SMS are text, App IO is Markdown), every placeholder required
(StrictUndefined: a placeholder the context does not have is an error, never an empty string).

Placeholders (what `services.message_context` puts in):
- `contribuente`: nome, codice_fiscale, cognome, nome_proprio, ragione_sociale
- `ente`: nome, codice
- `posizione`: id_posizione, numero_avviso, scadenza (31/12/2026), descrizione, anno, entrata, riferimento
- `importo_dovuto`: the amount due today (app.positions.amounts), formatted `1.234,56 €`
- `oggi`: today (31/12/2026)
- whatever the caller adds (`appuntamento.data`, `appuntamento.ora`, `appuntamento.sportello`,
  `richiesta.risposta`...)
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError, UndefinedError
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

from app.core.errors import DomainError

_ENV = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False)  # nosec B701: plain text, never HTML


@dataclass(frozen=True, slots=True)
class Rendered:
    subject: str
    body: str


@lru_cache(maxsize=512)
def _compiled(text: str) -> Template:
    return _ENV.from_string(text)


def check_syntax(text: str, field: str) -> Template:
    """The compiled template (cached: a rules run fills the same text many times); DomainError naming the
    field and line of a syntax error."""
    try:
        return _compiled(text)
    except TemplateSyntaxError as exc:
        raise DomainError(f"{field}, riga {exc.lineno}: errore nel modello ({exc.message}).") from exc


def render(subject: str, body: str, context: Mapping[str, Any]) -> Rendered:
    """The subject and body filled from `context`; DomainError (Italian) on a missing placeholder."""
    out = []
    for field, text in (("Oggetto", subject), ("Testo", body)):
        template = check_syntax(text, field)
        try:
            out.append(template.render(**context).strip())
        except UndefinedError as exc:
            found = re.search(r"'([^']+)' is undefined|has no attribute '([^']+)'", exc.message or "")
            name = next((g for g in found.groups() if g), "") if found else ""
            hint = " (per i dati di una posizione scegliere la posizione)" if name == "posizione" else ""
            message = f"{field}: segnaposto «{name}» non disponibile per questo invio{hint}."
            raise DomainError(message) from exc
        except SecurityError as exc:
            raise DomainError(f"{field}: operazione non ammessa nel modello.") from exc
    return Rendered(subject=" ".join(out[0].split()), body=out[1])


# The defaults every ente starts with (seeded as version 1 rows by `services.ensure_default_templates`).
_REMINDER_TEXT = (
    "Gentile {{ contribuente.nome }},\n\n"
    "le ricordiamo che il {{ posizione.scadenza }} scade il pagamento della posizione "
    "{{ posizione.id_posizione }} ({{ posizione.entrata }} {{ posizione.anno }}) dovuta a {{ ente.nome }}.\n"
    "Importo dovuto a oggi: {{ importo_dovuto }}.\n"
    "{% if posizione.numero_avviso %}Codice avviso pagoPA: {{ posizione.numero_avviso }}.\n{% endif %}\n"
    "Se ha già pagato, non tenga conto di questo messaggio.\n\n{{ ente.nome }}"
)
_RECEIPT_TEXT = (
    "Gentile {{ contribuente.nome }},\n\n"
    "abbiamo ricevuto il pagamento relativo alla posizione {{ posizione.id_posizione }} "
    "({{ posizione.entrata }} {{ posizione.anno }}). Importo ancora dovuto: {{ importo_dovuto }}.\n"
    "La ricevuta è disponibile presso gli sportelli e nell'area riservata.\n\n{{ ente.nome }}"
)
_APPOINTMENT_TEXT = (
    "Gentile {{ contribuente.nome }},\n\n"
    "le confermiamo l'appuntamento del {{ appuntamento.data }} alle ore {{ appuntamento.ora }} "
    "presso {{ appuntamento.sportello }}. Porti con sé un documento di identità e il codice fiscale.\n\n"
    "{{ ente.nome }}"
)
_ANSWER_TEXT = (
    "Gentile {{ contribuente.nome }},\n\n"
    "in merito alla sua richiesta le comunichiamo quanto segue:\n\n{{ richiesta.risposta }}\n\n"
    "Per ogni chiarimento può rivolgersi agli sportelli o al call center.\n\n{{ ente.nome }}"
)
DEFAULT_TEXTS: dict[str, tuple[str, str]] = {
    "promemoria_rata": ("Promemoria: scadenza del {{ posizione.scadenza }}", _REMINDER_TEXT),
    "ricevuta_pagamento": ("Pagamento ricevuto: posizione {{ posizione.id_posizione }}", _RECEIPT_TEXT),
    "appuntamento": ("Conferma dell'appuntamento del {{ appuntamento.data }}", _APPOINTMENT_TEXT),
    "risposta_richiesta": ("Risposta alla sua richiesta", _ANSWER_TEXT),
}
_SMS_TEXTS: dict[str, str] = {
    "promemoria_rata": (
        "{{ ente.nome }}: il {{ posizione.scadenza }} scade il pagamento di {{ importo_dovuto }}"
        "{% if posizione.numero_avviso %} (avviso {{ posizione.numero_avviso }}){% endif %}. "
        "Se ha già pagato, ignori questo SMS."
    ),
    "ricevuta_pagamento": (
        "{{ ente.nome }}: pagamento ricevuto per la posizione {{ posizione.id_posizione }}."
    ),
    "appuntamento": (
        "{{ ente.nome }}: appuntamento il {{ appuntamento.data }} ore {{ appuntamento.ora }} presso "
        "{{ appuntamento.sportello }}."
    ),
    "risposta_richiesta": (
        "{{ ente.nome }}: la risposta alla sua richiesta è nell'area riservata e via e-mail."
    ),
}


def default_text(purpose: str, channel: str) -> tuple[str, str]:
    subject, body = DEFAULT_TEXTS[purpose]
    if channel == "sms":
        return subject, _SMS_TEXTS[purpose]
    return subject, body


SAMPLE_CONTEXT: dict[str, Any] = {
    "contribuente": {"nome": "Mario Rossi", "codice_fiscale": "RSSMRA80A01H501U", "cognome": "Rossi",
                     "nome_proprio": "Mario", "ragione_sociale": ""},
    "ente": {"nome": "Regione di esempio", "codice": "R01"},
    "posizione": {"id_posizione": "2026-000123", "numero_avviso": "301000000000012345",
                  "scadenza": "31/12/2026", "descrizione": "Tassa automobilistica", "anno": 2024,
                  "entrata": "Tassa automobilistica", "riferimento": "AB123CD"},
    "importo_dovuto": "1.234,56 €",
    "oggi": "01/12/2026",
    "appuntamento": {"data": "15/12/2026", "ora": "10:30", "sportello": "Sportello di via Roma 1"},
    "richiesta": {"risposta": "La sua istanza è stata accolta."},
}
