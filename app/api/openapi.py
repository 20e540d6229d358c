"""The OpenAPI 3 description of /api/v1, kept next to the routes it documents."""

ERROR = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "Messaggio in italiano"},
        "details": {"type": "object"},
    },
}

COMPONENT = {
    "type": "object",
    "properties": {
        "kind": {"type": "string", "enum": ["capitale", "sanzioni", "interessi", "spese", "oneri"]},
        "original": {"type": "string", "example": "1000.00"},
        "paid": {"type": "string"},
        "due": {"type": "string"},
    },
}

SPEC = {
    "openapi": "3.0.3",
    "info": {
        "title": "Esattoria API",
        "version": "1.0.0",
        "description": "API per i sistemi della Regione. Autenticazione: `Authorization: Bearer <token>`; "
        "ogni token è legato a un ente e ad ambiti nominati.",
    },
    "servers": [{"url": "/api/v1"}],
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "schemas": {
            "Error": ERROR,
            "Component": COMPONENT,
            "Position": {
                "type": "object",
                "properties": {
                    "id_posizione": {"type": "string"},
                    "ente": {"type": "string"},
                    "entrata": {"type": "string"},
                    "state": {"type": "string"},
                    "components": {"type": "array", "items": COMPONENT},
                    "total_due": {"type": "string"},
                    "notice_numbers": {"type": "array", "items": {"type": "string"}},
                    "as_of": {"type": "string", "format": "date"},
                },
            },
        },
    },
    "paths": {
        "/positions": {
            "get": {
                "summary": "Posizioni di un contribuente (solo quelle dell'ente del token)",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "codice_fiscale", "in": "query", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {
                    "200": {
                        "description": "Elenco delle posizioni",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "array",
                                    "items": {"$ref": "#/components/schemas/Position"},
                                }
                            }
                        },
                    },
                    "401": {
                        "description": "Token mancante o revocato",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                    "403": {
                        "description": "Ambito mancante",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                    "422": {
                        "description": "Codice fiscale non valido",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    },
                },
            }
        },
    },
}


# --- liste di carico and jobs (issue 4) ------------------------------------------------------------


def _error(description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }


SPEC["paths"].update(
    {
        "/carichi": {
            "post": {
                "summary": "Invio di una lista di carico o di un flusso di variazioni (in background)",
                "description": "Il file è importato da un'elaborazione in coda: la risposta 202 ne dà "
                "il numero, `GET /jobs/{id}` l'avanzamento e l'esito. Formati: formats.md §1 (CSV "
                "canonico) e i tracciati configurati (XLSX, XML conforme a schemas/lista_di_carico.xsd, "
                "lunghezza fissa, variazioni anagrafiche, sgravi e sospensioni: docs/formats/variazioni.md).",
                "security": [{"bearer": []}],
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "ente"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "ente": {
                                        "type": "string",
                                        "description": "Codice dell'ente: deve essere quello del token",
                                        "example": "R01",
                                    },
                                    "entrata": {
                                        "type": "string",
                                        "description": "Codice dell'entrata (per le liste di carico)",
                                        "example": "TASSA_AUTO",
                                    },
                                    "layout": {
                                        "type": "string",
                                        "description": "Nome del tracciato (predefinito: canonico)",
                                        "example": "canonico",
                                    },
                                },
                            }
                        }
                    },
                },
                "responses": {
                    "202": {
                        "description": "Elaborazione in coda",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "job": {"type": "integer"},
                                        "status": {"type": "string", "enum": ["queued"]},
                                    },
                                }
                            }
                        },
                    },
                    "400": _error("Campo file mancante"),
                    "401": _error("Token mancante o revocato"),
                    "403": _error("Ambito mancante o ente diverso da quello del token"),
                    "409": _error("File già caricato (stessa impronta SHA-256)"),
                    "413": _error("File oltre il limite di caricamento"),
                    "422": _error("Ente, entrata o tracciato sconosciuti"),
                },
            }
        },
        "/jobs/{id}": {
            "get": {
                "summary": "Avanzamento ed esito di un'elaborazione (solo quelle dell'ente del token)",
                "security": [{"bearer": []}],
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                "responses": {
                    "200": {
                        "description": "Stato dell'elaborazione",
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "properties": {
                                        "job": {"type": "integer"},
                                        "kind": {
                                            "type": "string",
                                            "enum": ["carico", "anagrafica", "variazioni"],
                                        },
                                        "status": {
                                            "type": "string",
                                            "enum": ["queued", "running", "done", "failed", "cancelled"],
                                        },
                                        "phase": {"type": "string", "nullable": True},
                                        "rows_done": {"type": "integer"},
                                        "rows_total": {"type": "integer", "nullable": True},
                                        "eta_seconds": {"type": "integer", "nullable": True},
                                        "result": {
                                            "type": "object",
                                            "nullable": True,
                                            "description": "Riepilogo di formats.md §5 (carico, "
                                            "accepted, rejected, duplicates, status: caricato, applicato, "
                                            "rifiutato, duplicato, errore) con message e conteggi",
                                        },
                                        "error": {"type": "string", "nullable": True},
                                    },
                                }
                            }
                        },
                    },
                    "401": _error("Token mancante o revocato"),
                    "403": _error("Ambito mancante"),
                    "404": _error("Elaborazione inesistente o di un altro ente"),
                },
            }
        },
    }
)

SPEC["components"]["schemas"]["PaymentFlowSummary"] = {
    "type": "object",
    "required": ["flow", "payments", "matched", "unmatched", "duplicates", "total"],
    "properties": {
        "flow": {"type": "integer", "description": "Numero del flusso registrato"},
        "payments": {"type": "integer", "description": "Pagamenti registrati (duplicati esclusi)"},
        "matched": {
            "type": "integer",
            "description": "Abbinati e imputati automaticamente (o revoche applicate)",
        },
        "unmatched": {"type": "integer", "description": "In revisione o senza debito"},
        "duplicates": {"type": "integer", "description": "Pagamenti già noti (stesso IUR / id_pagamento)"},
        "total": {"type": "string", "example": "677.99", "description": "Totale del file in euro"},
        "review": {"type": "integer", "description": "Di cui nella coda di revisione"},
    },
}
SPEC["paths"]["/payment-flows"] = {
    "post": {
        "summary": "Invio di un flusso di pagamenti (FdR pagoPA o CSV), importato e riconciliato",
        "description": "Formati: formats.md §2 (FdR XML 1.0.4/1.0.5, CSV canonico) e i tracciati "
        "bancari/postali di docs/formats/pagamenti.md. L'ente del flusso deve essere quello del token. "
        "Un flusso già importato è rifiutato (409); un flusso pagoPA con lo stesso identificativo e PSP e "
        "una dataOraFlusso successiva sostituisce il precedente.",
        "security": [{"bearer": []}],
        "parameters": [
            {
                "name": "Prefer",
                "in": "header",
                "required": False,
                "description": "respond-async (RFC 7240): il file è accodato come elaborazione; "
                "risposta 202 con l'id, avanzamento ed esito da GET /api/v1/jobs/{id}",
                "schema": {"type": "string", "example": "respond-async"},
            }
        ],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": ["file"],
                        "properties": {
                            "file": {"type": "string", "format": "binary"},
                            "format": {
                                "type": "string",
                                "enum": ["fdr", "csv"],
                                "description": "Rilevato dal contenuto se omesso",
                            },
                            "layout": {"type": "string", "example": "canonico"},
                        },
                    }
                }
            },
        },
        "responses": {
            "201": {
                "description": "Flusso accettato",
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/PaymentFlowSummary"}}
                },
            },
            "202": {
                "description": "Con Prefer: respond-async: elaborazione accodata",
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {
                                "job": {"type": "integer"},
                                "status": {"type": "string", "example": "queued"},
                            },
                        }
                    }
                },
            },
            "400": _error("File mancante"),
            "401": _error("Token mancante o revocato"),
            "403": _error("Ambito mancante o flusso di un altro ente"),
            "409": _error("Flusso già importato (duplicato)"),
            "422": _error("Flusso non valido (schema, totali, importi, date): nulla è registrato"),
        },
    }
}


# --- the calculator (formats.md §4), a stored position's quote, the document itself (issue 9) ---------------

_AMOUNT = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "example": "1000.00"}
#: an amount in a request: euros with a dot and at most two decimals ("1000", "1000.5", "1000.00")
_AMOUNT_IN = {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$", "example": "1000.00"}
_DATE = {"type": "string", "format": "date", "example": "2025-06-30"}
_COMPONENT_KINDS = ["capitale", "sanzioni", "interessi", "spese", "oneri"]


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


_SEGMENT = {
    "type": "object",
    "required": ["from", "to", "days", "rate", "base", "amount"],
    "properties": {
        "from": {**_DATE, "description": "Primo giorno che matura interessi"},
        "to": _DATE,
        "days": {"type": "integer", "minimum": 0},
        "rate": {"type": "string", "description": "Tasso annuo in punti percentuali", "example": "5.00"},
        "base": _AMOUNT,
        "amount": {**_AMOUNT, "description": "Interessi del periodo, arrotondati al centesimo"},
        "source": {"type": "string", "description": "Atto che fissa il tasso (solo per le posizioni)"},
    },
}

SPEC["components"]["schemas"].update(
    {
        "Amount": _AMOUNT,
        "QuoteRequest": {
            "type": "object",
            "required": ["as_of", "components"],
            "additionalProperties": False,
            "properties": {
                "as_of": _DATE,
                "components": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {kind: _AMOUNT_IN for kind in _COMPONENT_KINDS},
                },
                "interest": {
                    "type": "object",
                    "required": ["from", "rate_table"],
                    "additionalProperties": False,
                    "properties": {
                        "from": _DATE,
                        "base": {"type": "array", "items": {"type": "string", "enum": _COMPONENT_KINDS}},
                        "rate_table": {"type": "string", "example": "legale"},
                        "surcharge_points": {"type": "string", "example": "0"},
                        "day_count": {"type": "string", "enum": ["ACT/365", "ACT/ACT"]},
                    },
                },
                "charges": {
                    "type": "object",
                    "required": ["rule", "esecutivo_since"],
                    "additionalProperties": False,
                    "properties": {
                        "rule": {"type": "string", "enum": ["oneri_l160"]},
                        "esecutivo_since": _DATE,
                    },
                },
                "payments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["date", "amount"],
                        "additionalProperties": False,
                        "properties": {"date": _DATE, "amount": _AMOUNT_IN},
                    },
                },
            },
        },
        "Quote": {
            "type": "object",
            "required": ["as_of", "components", "total_due"],
            "properties": {
                "as_of": _DATE,
                "interest": {
                    "type": "object",
                    "required": ["amount", "segments"],
                    "properties": {"amount": _AMOUNT, "segments": {"type": "array", "items": _SEGMENT}},
                },
                "charges": {
                    "type": "object",
                    "properties": {"oneri_riscossione": _AMOUNT},
                },
                "components": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["kind", "original", "paid", "due"],
                        "properties": {
                            "kind": {"type": "string", "enum": _COMPONENT_KINDS},
                            "original": _AMOUNT,
                            "paid": _AMOUNT,
                            "due": _AMOUNT,
                        },
                    },
                },
                "credit": {**_AMOUNT, "description": "Eccedenza dei pagamenti (solo con `payments`)"},
                "total_due": _AMOUNT,
            },
        },
        "PositionQuote": {
            "allOf": [
                _ref("Quote"),
                {
                    "type": "object",
                    "required": ["position"],
                    "properties": {
                        "position": {
                            "type": "object",
                            "required": ["id", "id_posizione", "ente", "entrata"],
                            "properties": {
                                "id": {"type": "integer"},
                                "id_posizione": {"type": "string"},
                                "ente": {"type": "string"},
                                "entrata": {"type": "string"},
                            },
                        }
                    },
                },
            ]
        },
        "InstallmentPlanRequest": {
            "type": "object",
            "required": ["amount", "installments", "first_due", "regime"],
            "additionalProperties": False,
            "properties": {
                "amount": _AMOUNT_IN,
                "installments": {"type": "integer", "minimum": 1},
                "first_due": _DATE,
                "regime": {"type": "string", "example": "l160"},
                "annual_rate": {"type": "string", "example": "0"},
            },
        },
        "InstallmentPlan": {
            "type": "object",
            "required": ["installments", "total_capital", "total_interest", "total"],
            "properties": {
                "installments": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["n", "due", "capital", "interest", "amount"],
                        "properties": {
                            "n": {"type": "integer", "minimum": 1},
                            "due": _DATE,
                            "capital": _AMOUNT,
                            "interest": _AMOUNT,
                            "amount": _AMOUNT,
                        },
                    },
                },
                "total_capital": _AMOUNT,
                "total_interest": _AMOUNT,
                "total": _AMOUNT,
            },
        },
        "InstallmentPlanError": {
            "allOf": [
                _ref("Error"),
                {
                    "type": "object",
                    "required": ["allowed"],
                    "properties": {
                        "allowed": {
                            "type": "object",
                            "nullable": True,
                            "description": "Rate ammesse dal regime; null se l'importo non ammette "
                            "rateazione",
                            "properties": {"min": {"type": "integer"}, "max": {"type": "integer"}},
                        }
                    },
                },
            ]
        },
        "DeadlinesRequest": {
            "type": "object",
            "required": ["regime", "due_date"],
            "additionalProperties": False,
            "properties": {
                "regime": {"type": "string", "enum": ["tassa_auto", "5y", "10y"]},
                "due_date": _DATE,
                "interruptions": {"type": "array", "items": _DATE},
            },
        },
        "Deadlines": {
            "type": "object",
            "required": ["prescription_date", "term", "from", "source"],
            "properties": {
                "prescription_date": _DATE,
                "term": {"type": "string", "example": "3 anni"},
                "from": _DATE,
                "source": {"type": "string", "description": "Norma che fissa il termine"},
            },
        },
    }
)

_ENGINE_ERRORS = {
    "400": _json(_ref("Error"), "JSON malformato o campo di tipo errato"),
    "422": _json(_ref("Error"), "Richiesta valida ma non elaborabile (campo fuori dai valori ammessi)"),
    "429": _json(_ref("Error"), "Troppe richieste dallo stesso indirizzo"),
}


def _engine(summary: str, request: str, response: str, errors: dict | None = None) -> dict:
    return {
        "post": {
            "summary": summary,
            "description": "Calcolatore senza dati personali (formats.md §4): nessun login, limite di "
            "richieste per indirizzo.",
            "security": [],
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref(request)}}},
            "responses": {
                "200": _json(_ref(response), "Risultato del calcolo"),
                **_ENGINE_ERRORS,
                **(errors or {}),
            },
        }
    }


SPEC["paths"].update(
    {
        "/engine/quote": _engine(
            "Dovuto a una data: interessi per periodo di tasso, oneri", "QuoteRequest", "Quote"
        ),
        "/engine/installment-plan": _engine(
            "Simulazione di una rateazione",
            "InstallmentPlanRequest",
            "InstallmentPlan",
            {"422": _json(_ref("InstallmentPlanError"), "Numero di rate fuori dal regime (con `allowed`)")},
        ),
        "/engine/deadlines": _engine("Data di prescrizione di un debito", "DeadlinesRequest", "Deadlines"),
        "/positions/{position_id}/quote": {
            "get": {
                "summary": "Dovuto di una posizione registrata a una data, dal suo registro contabile",
                "security": [{"bearer": []}],
                "parameters": [
                    {"name": "position_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {
                        "name": "as_of",
                        "in": "query",
                        "required": False,
                        "description": "Data del calcolo (predefinita: oggi)",
                        "schema": _DATE,
                    },
                ],
                "responses": {
                    "200": _json(_ref("PositionQuote"), "Dovuto della posizione"),
                    "400": _json(_ref("Error"), "Data non valida"),
                    "401": _json(_ref("Error"), "Token mancante o revocato"),
                    "403": _json(_ref("Error"), "Ambito mancante"),
                    "404": _json(_ref("Error"), "Posizione inesistente o di un altro ente"),
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "Questo documento (OpenAPI 3)",
                "security": [],
                "responses": {
                    "200": {"description": "Il documento OpenAPI", "content": {"application/json": {}}}
                },
            }
        },
    }
)
# the path parameter is named as in the URL map (`<int:job_id>`)
SPEC["paths"]["/jobs/{job_id}"] = SPEC["paths"].pop("/jobs/{id}")
SPEC["paths"]["/jobs/{job_id}"]["get"]["parameters"][0]["name"] = "job_id"


# --- procedures (issue 14 item 4) ---------------------------------------------------------------------

_NULLABLE_DATE = {**_DATE, "nullable": True}
SPEC["components"]["schemas"]["Procedure"] = {
    "type": "object",
    "required": [
        "id", "kind", "state", "ente", "position", "codice_fiscale", "started_on", "amount", "steps",
    ],
    "properties": {
        "id": {"type": "integer"},
        "kind": {"type": "string", "enum": ["fermo", "ipoteca", "pignoramento", "insinuazione"]},
        "state": {"type": "string", "description": "Stato della procedura (macchina a stati del tipo)"},
        "state_label": {"type": "string"},
        "ente": {"type": "string"},
        "position": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "id_posizione": {"type": "string"}},
        },
        "codice_fiscale": {"type": "string"},
        "started_on": _DATE,
        "deadline": {
            **_NULLABLE_DATE,
            "description": "Prossima scadenza (30 giorni del preavviso, 60 del terzo, termine domande)",
        },
        "closed_on": _NULLABLE_DATE,
        "amount": {**_AMOUNT, "description": "Credito all'avvio"},
        "costs": {**_AMOUNT, "description": "Spese delle fasi (tabella del D.M., parametro spese_procedure)"},
        "outcome": {"type": "string", "nullable": True},
        "steps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["operation", "state", "date"],
                "properties": {
                    "operation": {"type": "string"},
                    "state": {"type": "string"},
                    "date": _DATE,
                    "due_date": _NULLABLE_DATE,
                    "cost": {**_AMOUNT, "nullable": True},
                    "cost_source": {"type": "string", "nullable": True},
                    "act_protocol": {"type": "string", "nullable": True},
                    "note": {"type": "string", "nullable": True},
                },
            },
        },
    },
}
SPEC["paths"]["/procedures"] = {
    "get": {
        "summary": "Procedure cautelari ed esecutive di un contribuente o di una posizione (ente del token)",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "codice_fiscale", "in": "query", "required": False, "schema": {"type": "string"}},
            {"name": "position_id", "in": "query", "required": False, "schema": {"type": "integer"}},
        ],
        "responses": {
            "200": _json({"type": "array", "items": _ref("Procedure")}, "Elenco delle procedure"),
            "400": _error("Indicare uno tra codice_fiscale e position_id"),
            "401": _error("Token mancante o revocato"),
            "403": _error("Ambito mancante"),
            "422": _error("Codice fiscale non valido"),
        },
    }
}
SPEC["paths"]["/procedures/{procedure_id}"] = {
    "get": {
        "summary": "Una procedura con le sue fasi, date, spese e atti",
        "security": [{"bearer": []}],
        "parameters": [
            {"name": "procedure_id", "in": "path", "required": True, "schema": {"type": "integer"}},
        ],
        "responses": {
            "200": _json(_ref("Procedure"), "La procedura"),
            "401": _error("Token mancante o revocato"),
            "403": _error("Ambito mancante"),
            "404": _error("Procedura inesistente o di un altro ente"),
        },
    }
}
# the plans (app/plans/api.py)
from app.plans.api_spec import OPENAPI_PATHS as _PLANS_PATHS  # noqa: E402
from app.plans.api_spec import OPENAPI_SCHEMAS as _PLANS_SCHEMAS  # noqa: E402

SPEC["paths"].update(_PLANS_PATHS)
SPEC["components"]["schemas"].update(_PLANS_SCHEMAS)
# --- measures on a stored position (app/dynamics, issue 14 point 2) ----------------------------------------

SPEC["components"]["schemas"].update(
    {
        "MeasureRequest": {
            "type": "object",
            "required": ["reason"],
            "properties": {
                "reason": {"type": "string", "maxLength": 500, "description": "Motivazione"},
                "ordered_by": {"type": "string", "enum": ["regione", "gestore"], "default": "regione"},
                "act_number": {"type": "string", "maxLength": 60, "description": "Provvedimento n."},
                "act_date": {**_DATE, "description": "Data del provvedimento"},
                "value_date": {**_DATE, "description": "Data di efficacia (predefinita: del provvedimento)"},
                "total": {"type": "boolean", "description": "Sgravio totale (solo sgravio)"},
                "components": {
                    "type": "object",
                    "description": "Sgravio parziale: euro per componente",
                    "additionalProperties": _AMOUNT_IN,
                },
                "reason_kind": {
                    "type": "string",
                    "enum": ["ricorso", "autotutela", "ordine_regione"],
                    "description": "Motivo della sospensione (solo sospensione)",
                },
                "notes": {"type": "string", "description": "Altri tentativi di riscossione (solo discarico)"},
            },
        },
        "MeasureResult": {
            "type": "object",
            "required": ["measure", "kind", "position", "amount", "total_due"],
            "properties": {
                "measure": {"type": "integer", "nullable": True},
                "kind": {"type": "string", "enum": ["sgravio", "sospensione", "discarico", "annullamento"]},
                "position": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "integer"},
                        "id_posizione": {"type": "string"},
                        "state": {"type": "string"},
                    },
                },
                "amount": _AMOUNT,
                "total_due": {**_AMOUNT, "description": "Dovuto della posizione oggi, dopo il provvedimento"},
            },
        },
    }
)


def _measure(summary: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "position_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("MeasureRequest")}},
            },
            "responses": {
                "201": _json(_ref("MeasureResult"), "Provvedimento registrato"),
                "400": _json(_ref("Error"), "JSON mancante o malformato"),
                "401": _json(_ref("Error"), "Token mancante o revocato"),
                "403": _json(_ref("Error"), "Ambito «positions:write» mancante"),
                "404": _json(_ref("Error"), "Posizione inesistente o di un altro ente"),
                "422": _json(_ref("Error"), "Rifiutato: il messaggio cita la regola e la sua fonte"),
            },
        }
    }


SPEC["paths"].update(
    {
        "/positions/{position_id}/sgravio": _measure("Sgravio totale o parziale di una posizione"),
        "/positions/{position_id}/sospensione": _measure(
            "Sospensione (ricorso, autotutela, ordine della Regione)"
        ),
        "/positions/{position_id}/revoca-sospensione": _measure("Revoca della sospensione in corso"),
        "/positions/{position_id}/discarico": _measure(
            "Discarico per inesigibilità (con i tentativi svolti)"
        ),
        "/positions/{position_id}/annullamento": _measure("Annullamento della posizione"),
    }
)
