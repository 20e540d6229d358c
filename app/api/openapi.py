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
