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
