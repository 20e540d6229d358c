"""The OpenAPI description of the plans' endpoints (app/plans/api.py), merged into app/api/openapi.py."""

from __future__ import annotations

from typing import Any

from app.plans.models import INSTALLMENT_STATUSES, PLAN_STATUSES

_DATE = {"type": "string", "format": "date"}
_MONEY = {"type": "string", "example": "208.37"}
_ERROR = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}

OPENAPI_SCHEMAS: dict[str, Any] = {
    "Plan": {
        "type": "object",
        "required": ["id", "status", "amount", "installments"],
        "properties": {
            "id": {"type": "integer"},
            "ente": {"type": "string"},
            "codice_fiscale": {"type": "string"},
            "status": {"type": "string", "enum": list(PLAN_STATUSES)},
            "regime": {"type": "string"},
            "amount": _MONEY,
            "paid": _MONEY,
            "approved_date": _DATE,
            "first_due": _DATE,
            "positions": {"type": "array", "items": {"type": "string"}},
            "sollecito_date": {**_DATE, "nullable": True},
            "decadenza_date": {**_DATE, "nullable": True},
            "residual": {**_MONEY, "nullable": True},
            "proroga_date": {**_DATE, "nullable": True},
            "proroga_act_id": {
                "type": "integer",
                "nullable": True,
                "description": "L'atto di accoglimento della proroga (un avviso pagoPA per nuova rata)",
            },
            "annulled_date": {**_DATE, "nullable": True},
            "installments": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "n": {"type": "integer"},
                        "due": _DATE,
                        "capital": _MONEY,
                        "interest": _MONEY,
                        "amount": _MONEY,
                        "paid": _MONEY,
                        "status": {"type": "string", "enum": list(INSTALLMENT_STATUSES)},
                        "notice_number": {"type": "string", "nullable": True, "pattern": "^[0-9]{18}$"},
                        "paid_date": {**_DATE, "nullable": True},
                    },
                },
            },
        },
    }
}

_AUTH_ERRORS = {
    "401": {"description": "Token mancante o revocato", "content": _ERROR},
    "403": {"description": "Ambito mancante", "content": _ERROR},
}

OPENAPI_PATHS: dict[str, Any] = {
    "/plans": {
        "get": {
            "summary": "Piani rateali dell'ente del token (di un contribuente o in uno stato)",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "codice_fiscale", "in": "query", "required": False, "schema": {"type": "string"}},
                {
                    "name": "status",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": list(PLAN_STATUSES)},
                },
            ],
            "responses": {
                "200": {
                    "description": "Elenco dei piani",
                    "content": {
                        "application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Plan"}}
                        }
                    },
                },
                **_AUTH_ERRORS,
                "422": {"description": "Stato o codice fiscale non valido", "content": _ERROR},
            },
        }
    },
    "/plans/{plan_id}": {
        "get": {
            "summary": "Un piano rateale con le rate, i codici avviso e lo stato di ciascuna",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "plan_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": {
                    "description": "Il piano",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Plan"}}},
                },
                **_AUTH_ERRORS,
                "404": {"description": "Piano inesistente o di un altro ente", "content": _ERROR},
            },
        }
    },
    "/plans/{plan_id}/proroga": {
        "post": {
            "summary": "Proroga del piano (L. 160/2019, art. 1, c. 797): una sola volta, senza decadenza, "
            "entro il massimo di rate del parametro; il residuo in nuove rate con nuovi codici avviso",
            "security": [{"bearer": []}],
            "parameters": [
                {"name": "plan_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["installments", "reason"],
                            "properties": {
                                "installments": {"type": "integer", "minimum": 1, "maximum": 240},
                                "reason": {"type": "string", "description": "Il peggioramento comprovato"},
                                "first_due": _DATE,
                            },
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "Il piano prorogato, con l'atto di accoglimento della proroga "
                    "(`proroga_act_id`) o il motivo per cui non è stato emesso (`act_error`: la "
                    "proroga resta)",
                    "content": {
                        "application/json": {
                            "schema": {
                                "allOf": [
                                    {"$ref": "#/components/schemas/Plan"},
                                    {
                                        "type": "object",
                                        "required": ["act_error"],
                                        "properties": {
                                            "act_error": {
                                                "type": "string",
                                                "nullable": True,
                                                "description": "Perché la comunicazione di accoglimento "
                                                "della proroga non è stata emessa (es. nessun modello); "
                                                "null se emessa",
                                            }
                                        },
                                    },
                                ]
                            }
                        }
                    },
                },
                **_AUTH_ERRORS,
                "404": {"description": "Piano inesistente o di un altro ente", "content": _ERROR},
                "422": {"description": "Proroga non concessa (il motivo cita la regola)", "content": _ERROR},
            },
        }
    },
}
