"""The national act types (formats.md §7 codes), their payment terms as parameter rows, and the default text
of each type's template (Typst markup wrapped by templates/atti/layout.typ). Plain data: `app.atti.services`
loads what is missing (`ensure_defaults`), never overwriting what an administrator changed."""

from __future__ import annotations

from typing import Any

_L160 = "L. 160/2019, art. 1"
_PAGOPA = "Avviso di pagamento pagoPA"

# code -> (name, legal basis, attachments, operation, target state on notification, interrupts prescription,
#          term parameter, with payment)
ACT_TYPES: list[dict[str, Any]] = [
    {"code": "ingiunzione", "name": "Ingiunzione fiscale",
     "legal_basis": "R.D. 14 aprile 1910, n. 639, art. 2; art. 2943 c.c. (interruzione della prescrizione)",
     "attachments": [_PAGOPA, "Prospetto di calcolo degli importi"],
     "operation": "notifica", "target_state": "notificata", "interrupts_prescription": True,
     "term_parameter": "termine_ingiunzione", "with_payment": True},
    {"code": "accertamento_esecutivo", "name": "Avviso di accertamento esecutivo",
     "legal_basis": f"{_L160}, c. 792; art. 2943 c.c. (interruzione della prescrizione)",
     "attachments": [_PAGOPA, "Prospetto di calcolo degli importi"],
     "operation": "notifica", "target_state": "notificata", "interrupts_prescription": True,
     "term_parameter": "termine_accertamento_esecutivo", "with_payment": True},
    {"code": "sollecito", "name": "Sollecito di pagamento",
     "legal_basis": f"{_L160}, c. 795; D.M. 14 aprile 2023 (G.U. n. 100 del 29/04/2023)",
     "attachments": [_PAGOPA],
     "operation": None, "target_state": None, "interrupts_prescription": True,
     "term_parameter": "termine_sollecito", "with_payment": True},
    {"code": "intimazione", "name": "Intimazione ad adempiere",
     "legal_basis": "D.Lgs. 33/2025, art. 146 (già art. 50 D.P.R. 602/1973)",
     "attachments": [_PAGOPA],
     "operation": None, "target_state": None, "interrupts_prescription": True,
     "term_parameter": "termine_intimazione", "with_payment": True},
    {"code": "preavviso_fermo", "name": "Preavviso di fermo amministrativo",
     "legal_basis": "D.Lgs. 33/2025, art. 187 (già art. 86 D.P.R. 602/1973)",
     "attachments": [_PAGOPA, "Elenco dei veicoli"],
     "operation": None, "target_state": None, "interrupts_prescription": True,
     "term_parameter": "termine_preavviso_fermo", "with_payment": True},
    {"code": "preavviso_ipoteca", "name": "Comunicazione preventiva di iscrizione di ipoteca",
     "legal_basis": "D.P.R. 602/1973, art. 77, c. 2-bis",
     "attachments": [_PAGOPA, "Elenco degli immobili"],
     "operation": None, "target_state": None, "interrupts_prescription": True,
     "term_parameter": "termine_preavviso_ipoteca", "with_payment": True},
    {"code": "accoglimento_rateazione", "name": "Comunicazione di accoglimento della rateazione",
     "legal_basis": f"{_L160}, c. 796",
     "attachments": [_PAGOPA, "Piano di ammortamento"],
     "operation": "rateazione", "target_state": "in_rateazione", "interrupts_prescription": False,
     "term_parameter": None, "with_payment": True},
    {"code": "decadenza_rateazione", "name": "Comunicazione di decadenza dalla rateazione",
     "legal_basis": f"{_L160}, c. 800",
     "attachments": [_PAGOPA],
     "operation": "decadenza", "target_state": "scaduta", "interrupts_prescription": True,
     "term_parameter": "termine_decadenza_rateazione", "with_payment": True},
    {"code": "sgravio", "name": "Comunicazione di sgravio",
     "legal_basis": "art. 2946 c.c.; L. 212/2000, art. 10 (tutela dell'affidamento)",
     "attachments": [],
     "operation": None, "target_state": None, "interrupts_prescription": False,
     "term_parameter": None, "with_payment": False},
    # issued with the proroga of a plan (app/plans/proroga.py): the new installments, one notice page
    # each; the position is already in rateazione, its notification moves nothing
    {"code": "accoglimento_proroga", "name": "Comunicazione di accoglimento della proroga della rateazione",
     "legal_basis": f"{_L160}, c. 797",
     "attachments": [_PAGOPA, "Piano di ammortamento aggiornato"],
     "operation": None, "target_state": None, "interrupts_prescription": False,
     "term_parameter": None, "with_payment": True},
]
TYPE_CODES = tuple(t["code"] for t in ACT_TYPES)


def _term(code: str, days: int, source: str, note: str) -> dict[str, Any]:
    return {"code": code, "valid_from": "2020-01-01", "valid_to": None, "value": {"days": days},
            "source": source, "note": note}


# Payment terms (days from notification) of each act type: parameter rows (national defaults, to verify).
TERM_PARAMETERS = [
    _term("termine_ingiunzione", 60, "D.Lgs. 546/1992, art. 21; R.D. 639/1910, art. 2",
          "R.D. 639/1910 art. 2 dà 30 giorni; per i crediti tributari la giurisprudenza estende a 60 giorni "
          "(indebitati.it, studiodinardo.it, domain.md §3)"),
    _term("termine_accertamento_esecutivo", 60, f"{_L160}, c. 792, lett. a",
          "intimazione ad adempiere entro il termine di presentazione del ricorso (60 giorni), domain.md §3"),
    _term("termine_sollecito", 30, f"{_L160}, c. 795",
          "sollecito prima delle azioni cautelari ed esecutive fino a 10.000 euro; 30 giorni a memoria "
          "(unconfirmed, domain.md §3)"),
    _term("termine_intimazione", 5, "D.Lgs. 33/2025, art. 146 (già art. 50 D.P.R. 602/1973)",
          "intimazione a pagare entro 5 giorni (domain.md §4)"),
    _term("termine_preavviso_fermo", 30, "D.Lgs. 33/2025, art. 187 (già art. 86 D.P.R. 602/1973)",
          "preavviso di fermo: 30 giorni per pagare (domain.md §4)"),
    _term("termine_preavviso_ipoteca", 30, "D.P.R. 602/1973, art. 77, c. 2-bis",
          "comunicazione preventiva di ipoteca: 30 giorni per pagare (domain.md §4)"),
    _term("termine_decadenza_rateazione", 30, f"{_L160}, c. 800",
          "dopo la decadenza il residuo è dovuto in unica soluzione; 30 giorni per scelta di progetto "
          "(unconfirmed)"),
]

FIRMA_NOTE = ("Firma autografa sostituita a mezzo stampa ai sensi dell'art. 3, comma 2, del D.Lgs. "
              "12 febbraio "
              "1993, n. 39.")

_INTRO = """#intestazione()
#destinatario()
#oggetto()
"""
_END = """
#importi()
#firma()
"""

DEFAULT_TEXTS: dict[str, str] = {
    "ingiunzione": _INTRO + """
Visti gli atti d'ufficio, risulta che il destinatario non ha pagato le somme sotto indicate.
Ai sensi del #d.act.legal_basis,

*SI INGIUNGE*

al destinatario di pagare, entro *#d.act.term_days giorni* dalla notifica del presente atto, la somma di
*#d.amounts.total*, con l'avviso di pagamento pagoPA allegato, sotto pena degli atti esecutivi previsti
dalla legge.
Contro il presente atto è ammesso ricorso nei termini di legge.
""" + _END,
    "accertamento_esecutivo": _INTRO + """
Con il presente avviso, emesso ai sensi della #d.act.legal_basis, si accerta il mancato pagamento delle somme
sotto indicate e si intima di pagarle entro *#d.act.term_days giorni* dalla notifica, termine per la
presentazione del ricorso. Decorso tale termine il presente atto costituisce *titolo esecutivo*
e la riscossione coattiva è affidata a #d.ente.name.
""" + _END,
    "sollecito": _INTRO + """
Dai nostri archivi risulta non ancora pagato l'importo sotto indicato. La invitiamo a pagarlo entro
*#d.act.term_days giorni* dal ricevimento della presente con l'avviso pagoPA allegato
(#d.act.legal_basis). Se ha già pagato, non tenga conto di questo sollecito.
""" + _END,
    "intimazione": _INTRO + """
Ai sensi del #d.act.legal_basis, si intima di pagare entro *#d.act.term_days giorni* dalla notifica la somma
sotto indicata; in mancanza si procederà ad esecuzione forzata senza ulteriore avviso.
""" + _END,
    "preavviso_fermo": _INTRO + """
Ai sensi del #d.act.legal_basis, si comunica che, in mancanza del pagamento della somma sotto indicata entro
*#d.act.term_days giorni* dalla notifica, sarà iscritto il fermo amministrativo dei beni mobili registrati
intestati al destinatario, senza ulteriore comunicazione, salvo che sia dimostrato che il veicolo è
strumentale all'attività d'impresa o della professione.
""" + _END,
    "preavviso_ipoteca": _INTRO + """
Ai sensi del #d.act.legal_basis, si comunica che, in mancanza del pagamento della somma sotto indicata entro
*#d.act.term_days giorni* dalla notifica, sarà iscritta ipoteca sugli immobili intestati al destinatario.
""" + _END,
    "accoglimento_rateazione": _INTRO + """
Si comunica che la richiesta di rateazione è stata accolta ai sensi della #d.act.legal_basis.
Le rate vanno pagate alle scadenze indicate negli avvisi di pagamento allegati.
""" + _END,
    "decadenza_rateazione": _INTRO + """
Si comunica che, per il mancato pagamento delle rate previsto dalla #d.act.legal_basis, il destinatario è
decaduto dal beneficio della rateazione: il residuo sotto indicato è dovuto in unica soluzione entro
*#d.act.term_days giorni* dalla notifica.
""" + _END,
    "sgravio": _INTRO + """
Si comunica che la posizione sotto indicata è stata sgravata: nulla è più dovuto per essa.
""" + _END,
    "accoglimento_proroga": _INTRO + """
Si comunica che il #d.plan.proroga_date è stata accolta la proroga del piano di rateazione n. #d.plan.id ai
sensi della #d.act.legal_basis.
Le rate n. #d.plan.replaced non ancora pagate sono sostituite dalle #d.plan.installments nuove rate sotto
indicate; gli avvisi di pagamento delle rate sostituite sono annullati e non vanno più pagati. Le nuove rate
vanno pagate alle scadenze indicate negli avvisi di pagamento allegati.
""" + _END,
}
