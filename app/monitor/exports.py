"""Export specs of the searches and visure (the one mechanism: `app.reports.exports`)."""

from __future__ import annotations

from app.atti.delivery.models import OUTCOMES
from app.atti.models import ACT_STATUSES
from app.monitor.visure import NO_OUTCOME
from app.payments.models import PAYMENT_CHANNELS, PAYMENT_STATUSES
from app.payments.reports import collected_spec
from app.positions.exports import POSITION_COLUMNS
from app.reports.exports import Column, ExportSpec

OUTCOME_LABELS = {**OUTCOMES, NO_OUTCOME: "Nessun esito"}

POSITION_SEARCH_SPEC = ExportSpec(
    title="Ricerca posizioni",
    columns=POSITION_COLUMNS,
    filename_stem="ricerca_posizioni",
    totals=("original_cents", "paid_cents", "due_cents"),
)

CARICO_TOTALS_SPEC = ExportSpec(
    title="Liste di carico: totali",
    columns=(
        Column("ente", "Ente"),
        Column("entrata", "Entrata"),
        Column("riferimento", "Lista di carico"),
        Column("data_ricezione", "Ricevuta il", "date"),
        Column("posizioni", "Posizioni", "int"),
        Column("caricato_cents", "Caricato", "money"),
        Column("sgravato_cents", "Sgravato", "money"),
        Column("riscosso_cents", "Riscosso", "money"),
        Column("residuo_cents", "Residuo", "money"),
        Column("rateizzato_cents", "di cui in rateazione", "money"),
        Column("sospeso_cents", "di cui sospeso", "money"),
    ),
    filename_stem="carichi_totali",
    totals=(
        "posizioni",
        "caricato_cents",
        "sgravato_cents",
        "riscosso_cents",
        "residuo_cents",
        "rateizzato_cents",
        "sospeso_cents",
    ),
)

COMMUNICATIONS_SPEC = ExportSpec(
    title="Visura aggregata delle comunicazioni",
    columns=(
        Column("ente", "Ente"),
        Column("carico", "Lista di carico"),
        Column("entrata", "Entrata"),
        Column("tipo_nome", "Tipo di atto"),
        Column("stato", "Stato", labels=ACT_STATUSES),
        Column("esito", "Esito della notifica", labels=OUTCOME_LABELS),
        Column("atti", "Atti", "int"),
        Column("notificati", "Notificati", "int"),
        Column("importo_cents", "Importo intimato", "money"),
    ),
    filename_stem="visura_comunicazioni",
    totals=("atti", "notificati", "importo_cents"),
)

ACT_DETAIL_SPEC = ExportSpec(
    title="Visura delle comunicazioni: atti",
    columns=(
        Column("protocollo", "Protocollo"),
        Column("data_emissione", "Emesso il", "date"),
        Column("ente", "Ente"),
        Column("entrata", "Entrata"),
        Column("carico", "Lista di carico"),
        Column("tipo", "Tipo"),
        Column("id_posizione", "Id posizione"),
        Column("codice_fiscale", "Codice fiscale"),
        Column("stato", "Stato", labels=ACT_STATUSES),
        Column("canale", "Canale"),
        Column("data_invio", "Inviato il", "date"),
        Column("esito", "Esito", labels=OUTCOMES),
        Column("data_notifica", "Notificato il", "date"),
        Column("importo_cents", "Importo intimato", "money"),
    ),
    filename_stem="visura_atti",
    totals=("importo_cents",),
)

PAYMENTS_SPEC = ExportSpec(
    title="Visura degli incassi",
    columns=(
        Column("data_pagamento", "Pagato il", "date"),
        Column("ente", "Ente"),
        Column("entrata", "Entrata"),
        Column("canale", "Canale", labels=PAYMENT_CHANNELS),
        Column("id_pagamento", "Id pagamento / IUR"),
        Column("iuv", "IUV"),
        Column("codice_fiscale", "Codice fiscale"),
        Column("id_posizione", "Id posizione"),
        Column("stato", "Stato", labels=PAYMENT_STATUSES),
        Column("importo_cents", "Importo", "money"),
        Column("eccedenza_cents", "Eccedenza", "money"),
    ),
    filename_stem="visura_incassi",
    totals=("importo_cents", "eccedenza_cents"),
)

__all__ = [
    "ACT_DETAIL_SPEC",
    "CARICO_TOTALS_SPEC",
    "COMMUNICATIONS_SPEC",
    "PAYMENTS_SPEC",
    "POSITION_SEARCH_SPEC",
    "collected_spec",
]
