"""Write a pagoPA Flusso di Rendicontazione (FdR) XML, as a PSP sends it (for the demo data and the tests;
the format is the one `parsing.parse_fdr` reads, valid against FlussoRiversamento 1.0.4/1.0.5)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from lxml import etree

from app.payments.parsing import NS
from app.reports.formatting import cents_to_machine


@dataclass(frozen=True, slots=True)
class FdrRow:
    iuv: str
    iur: str
    amount_cents: int
    outcome: str = "0"
    outcome_date: dt.date = dt.date(2026, 11, 20)
    index: int | None = 1


def build_fdr(
    rows: Sequence[FdrRow],
    *,
    identifier: str = "2026-11-20PSPDEMO01-0000000001",
    flow_dt: str = "2026-11-20T10:15:30",
    sender: str = "PSPDEMO01",
    sender_name: str = "PSP Demo S.p.A.",
    receiver_cf: str = "80000000010",
    receiver_name: str = "Regione Demo",
    regulation_ref: str = "TRN2026112000001",
    regulation_date: dt.date = dt.date(2026, 11, 20),
    declared_count: int | None = None,
    declared_total_cents: int | None = None,
    bic: str | None = "BPPIITRRXXX",
) -> bytes:
    p = f"{{{NS}}}"
    root = etree.Element(f"{p}FlussoRiversamento", nsmap={"pay_i": NS})

    def add(parent: etree._Element, tag: str, text: str | None = None) -> etree._Element:
        el = etree.SubElement(parent, f"{p}{tag}")
        if text is not None:
            el.text = text
        return el

    add(root, "versioneOggetto", "1.0")
    add(root, "identificativoFlusso", identifier)
    add(root, "dataOraFlusso", flow_dt)
    add(root, "identificativoUnivocoRegolamento", regulation_ref)
    add(root, "dataRegolamento", regulation_date.isoformat())
    sender_el = add(root, "istitutoMittente")
    sender_id = add(sender_el, "identificativoUnivocoMittente")
    add(sender_id, "tipoIdentificativoUnivoco", "B")
    add(sender_id, "codiceIdentificativoUnivoco", sender)
    add(sender_el, "denominazioneMittente", sender_name)
    if bic:
        add(root, "codiceBicBancaDiRiversamento", bic)
    receiver = add(root, "istitutoRicevente")
    receiver_id = add(receiver, "identificativoUnivocoRicevente")
    add(receiver_id, "tipoIdentificativoUnivoco", "G")
    add(receiver_id, "codiceIdentificativoUnivoco", receiver_cf)
    add(receiver, "denominazioneRicevente", receiver_name)
    add(root, "numeroTotalePagamenti", str(len(rows) if declared_count is None else declared_count))
    total = sum(r.amount_cents for r in rows) if declared_total_cents is None else declared_total_cents
    add(root, "importoTotalePagamenti", cents_to_machine(total))
    for row in rows:
        item = add(root, "datiSingoliPagamenti")
        add(item, "identificativoUnivocoVersamento", row.iuv)
        add(item, "identificativoUnivocoRiscossione", row.iur)
        if row.index is not None:
            add(item, "indiceDatiSingoloPagamento", str(row.index))
        add(item, "singoloImportoPagato", cents_to_machine(row.amount_cents))
        add(item, "codiceEsitoSingoloPagamento", row.outcome)
        add(item, "dataEsitoSingoloPagamento", row.outcome_date.isoformat())
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
