"""Typed domain errors and the HTTP error pages / JSON bodies (formats.md: {"error", "details"})."""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge


class DomainError(Exception):
    """A business rule refused the operation; `message` is Italian and shown to the user."""

    status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


MESSAGES = {
    400: "Richiesta non valida",
    401: "Autenticazione richiesta",
    403: "Accesso non consentito",
    404: "Risorsa non trovata",
    405: "Metodo non consentito",
    409: "Conflitto con lo stato attuale",
    413: "File troppo grande rispetto al limite configurato",
    422: "Richiesta non elaborabile",
    429: "Troppi tentativi: riprova tra qualche minuto",
    500: "Errore interno: l'errore è stato registrato",
}


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(
    status: int,
    message: str | None = None,
    details: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> Any:
    message = message or MESSAGES.get(status, "Errore")
    if wants_json():
        body: dict[str, Any] = {"error": message, "details": details or {}}
        body.update(extra or {})
        return jsonify(body), status
    template = f"errors/{status}.html" if status in (400, 403, 404, 413, 429, 500) else "errors/400.html"
    return render_template(template, message=message, status=status), status


def upload_limit_message() -> str:
    """The Italian refusal of an upload over MAX_CONTENT_LENGTH (MAX_UPLOAD_MB), naming the limit."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    size = f"{limit // 1048576} MB" if limit >= 1048576 else f"{limit // 1024} KB"
    return (
        f"Il file supera il limite di caricamento di {size}: dividerlo in più file o usare la riga di "
        "comando."
    )


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_error(exc: CSRFError) -> Any:
        return error_response(
            400, "Modulo scaduto o non valido (token CSRF mancante): ricarica la pagina e riprova."
        )

    from app.reports.exports import ExportTooLarge

    @app.errorhandler(ExportTooLarge)
    def export_too_large(exc: ExportTooLarge) -> Any:
        return error_response(422, str(exc))

    @app.errorhandler(RequestEntityTooLarge)
    def too_large(exc: RequestEntityTooLarge) -> Any:
        return error_response(
            413, upload_limit_message(), {"max_bytes": current_app.config.get("MAX_CONTENT_LENGTH")}
        )

    @app.errorhandler(DomainError)
    def domain_error(exc: DomainError) -> Any:
        return error_response(exc.status, exc.message, exc.details)

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        message = exc.description if isinstance(exc.description, str) and _is_italian(exc) else None
        return error_response(status, message)

    @app.errorhandler(Exception)
    def unhandled(exc: Exception) -> Any:
        app.logger.exception("unhandled error")
        return error_response(500)


def _is_italian(exc: HTTPException) -> bool:
    """abort(404, "...") with our own Italian text keeps it; werkzeug's English defaults are replaced."""
    return exc.description != type(exc).description
