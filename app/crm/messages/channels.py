"""One channel interface for every way a message leaves: e-mail, PEC, SMS, App IO and posta.

A channel (`Channel`) has a `name`, a `check(recipient)` (a refusal in Italian, or None) run before a message
is queued, and `send(message)` that hands the message to the provider and returns the provider's id, or
raises:

| error              | meaning                                           | what the sending job does         |
|--------------------|---------------------------------------------------|-----------------------------------|
| `TransientError`   | the provider is down or busy (SMTP down, 5xx, 429) | retried with backoff; `fallito`  |
|                    |                                                   | after the last attempt            |
| `PermanentError`   | refused (bad address, HTTP 400, not configured)   | `fallito` at once, with reason    |
| `RecipientRefused` | the recipient does not accept it (App IO: no      | `rifiutato`, with the reason      |
|                    | profile, or the service disabled)                 |                                   |

Adapters:
- `email`, `pec`: SMTP through `app.core.mailer` (the one SMTP sender), attachments included; PEC uses the
  Gestore's PEC sender (PEC_FROM).
- `sms`: an HTTP provider (SMS_API_URL, SMS_API_TOKEN, SMS_SENDER). The JSON contract: `POST SMS_API_URL`
  with `Authorization: Bearer <SMS_API_TOKEN>`, `Idempotency-Key: <dedup key>` and the body
  `{"from": SMS_SENDER, "to": "+39...", "text": "...", "reference": "<dedup key>"}`; the provider answers
  200/201/202 with `{"id": "<provider id>"}`. 408, 429 and 5xx are transient; any other 4xx is permanent.
- `app_io`: the App IO API for public administrations (io-functions-services 4.1.1, basePath `/api/v1`,
  header `Ocp-Apim-Subscription-Key`): `getProfileByPOST` (`POST /profiles` `{fiscal_code}`: 404 or
  `sender_allowed=false` means the citizen cannot receive from this service), then
  `submitMessageforUserWithFiscalCodeInBody` (`POST /messages`) with `content.payment_data` (amount in euro
  cents, the 18-digit notice number, the payee's fiscal code) when the message asks for a payment.
  IO_API_URL, IO_API_KEY, and IO_API_KEYS ("R01=key1,R02=key2": an ente's own key wins over IO_API_KEY).

- `posta`: a letter, printed and sent by the postal provider with the acts' print batches. Its `check` only
  asks for an address (the full check is the print pre-check's, app/crm/messages/postal.py); `send` is
  never called by the sending job (no job is queued for a letter: the print batch sends it,
  app/atti/delivery/letters.py) and refuses.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import quote

import httpx

from app.core import mailer

EMAIL_RE = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[A-Za-z]{2,}$")
MOBILE_RE = re.compile(r"^\+?[0-9]{8,15}$")
CF_RE = re.compile(r"^[A-Z0-9]{16}$|^[0-9]{11}$")
IO_SUBJECT = (10, 120)  # App IO: subject length (MessageContentBase)
IO_MARKDOWN = (80, 10_000)  # App IO: markdown length
SMS_MAX = 640  # characters: four concatenated SMS


class ChannelError(Exception):
    """A send did not go through; `reason` (Italian) is shown to the operator."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientError(ChannelError):
    """Worth retrying: the provider is unreachable, busy or failing."""


class PermanentError(ChannelError):
    """Retrying will not help: the provider refused the message or the channel is not configured."""


class RecipientRefused(PermanentError):
    """The recipient does not accept messages on this channel (status `rifiutato`)."""


@dataclass(frozen=True, slots=True)
class AttachmentFile:
    filename: str
    mime_type: str
    data: bytes


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a channel needs to send one message (read from the `messages` row by the sending job)."""

    message_id: int
    dedup_key: str
    recipient: str
    subject: str
    body: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    attachments: tuple[AttachmentFile, ...] = ()


class Channel(Protocol):
    name: str

    def check(self, recipient: str | None) -> str | None:
        """Why a message to `recipient` cannot be queued (Italian), or None."""
        ...

    def send(self, message: OutgoingMessage) -> str:
        """Hand the message to the provider; the provider's id. Raises a ChannelError subclass."""
        ...


# --- e-mail and PEC -----------------------------------------------------------------------------------------


class MailChannel:
    """E-mail (`pec=False`) or PEC (`pec=True`) over SMTP, through app.core.mailer."""

    def __init__(self, config: Mapping[str, Any], *, pec: bool = False) -> None:
        self.config = config
        self.pec = pec
        self.name = "pec" if pec else "email"

    def check(self, recipient: str | None) -> str | None:
        what = "PEC" if self.pec else "e-mail"
        if not recipient:
            return f"Il contribuente non ha un indirizzo {what} in vigore."
        if not EMAIL_RE.match(recipient):
            return f"L'indirizzo {what} «{recipient}» non è valido."
        return None

    def build(self, settings: mailer.SmtpSettings, message: OutgoingMessage) -> EmailMessage:
        mail = mailer.new_message(
            settings, to=message.recipient, subject=message.subject, body=message.body, pec=self.pec
        )
        mail["X-Esattoria-Messaggio"] = message.dedup_key
        for attachment in message.attachments:
            maintype, _, subtype = attachment.mime_type.partition("/")
            mail.add_attachment(
                attachment.data,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=attachment.filename,
            )
        return mail

    def send(self, message: OutgoingMessage) -> str:
        try:
            settings = mailer.SmtpSettings.from_config(self.config)
        except mailer.MailerError as exc:
            raise PermanentError(str(exc)) from exc
        try:
            return mailer.send(settings, self.build(settings, message))
        except mailer.MailerError as exc:
            raise TransientError(str(exc)) from exc


# --- SMS ----------------------------------------------------------------------------------------------------


def normalise_mobile(value: str) -> str:
    """`333 123 4567` -> `+393331234567` (an Italian number without prefix gets +39)."""
    digits = re.sub(r"[\s./()-]", "", value)
    if digits.startswith("00"):
        digits = "+" + digits[2:]
    if not digits.startswith("+"):
        digits = "+39" + digits
    return digits


def _http_error(response: httpx.Response, what: str) -> ChannelError:
    status = response.status_code
    if status in (408, 429) or status >= 500:
        return TransientError(f"{what}: servizio non disponibile (HTTP {status}).")
    return PermanentError(f"{what}: richiesta rifiutata (HTTP {status}): {response.text[:200]}")


class SmsChannel:
    name = "sms"

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.url = config.get("SMS_API_URL")
        self.token = config.get("SMS_API_TOKEN")
        self.sender = config.get("SMS_SENDER") or "Esattoria"
        self.timeout = float(config.get("SMS_API_TIMEOUT") or 15)

    def check(self, recipient: str | None) -> str | None:
        if not recipient:
            return "Il contribuente non ha un numero di cellulare in vigore."
        if not MOBILE_RE.match(normalise_mobile(recipient)):
            return f"Il numero «{recipient}» non è un cellulare valido."
        return None

    def send(self, message: OutgoingMessage) -> str:
        if not self.url or not self.token:
            raise PermanentError("Invio SMS non configurato: mancano SMS_API_URL o SMS_API_TOKEN.")
        text = message.body if len(message.body) <= SMS_MAX else message.body[: SMS_MAX - 1] + "…"
        body = {"from": self.sender, "to": normalise_mobile(message.recipient), "text": text,
                "reference": message.dedup_key}
        headers = {"Authorization": f"Bearer {self.token}", "Idempotency-Key": message.dedup_key}
        try:
            response = httpx.post(str(self.url), json=body, headers=headers, timeout=self.timeout)
        except httpx.HTTPError as exc:
            raise TransientError(f"Fornitore SMS non raggiungibile: {exc}") from exc
        if response.status_code not in (200, 201, 202):
            raise _http_error(response, "Fornitore SMS")
        try:
            provider_id = str(response.json()["id"])
        except (ValueError, KeyError, TypeError) as exc:
            raise PermanentError("Fornitore SMS: risposta senza identificativo del messaggio.") from exc
        return provider_id


# --- App IO -------------------------------------------------------------------------------------------------


def io_key(config: Mapping[str, Any], ente_code: str | None) -> str | None:
    """The ente's own key (IO_API_KEYS "R01=key1,R02=key2"), else IO_API_KEY."""
    for item in str(config.get("IO_API_KEYS") or "").split(","):
        code, _, key = item.strip().partition("=")
        if ente_code and code.strip() == ente_code and key.strip():
            return key.strip()
    return config.get("IO_API_KEY") or None


class AppIoChannel:
    name = "app_io"

    def __init__(self, config: Mapping[str, Any], *, ente_code: str | None = None,
                 payee_fiscal_code: str | None = None) -> None:
        self.base_url = str(config.get("IO_API_URL") or "https://api.io.pagopa.it/api/v1").rstrip("/")
        self.key = io_key(config, ente_code)
        self.payee = payee_fiscal_code
        self.timeout = float(config.get("IO_API_TIMEOUT") or 15)

    def check(self, recipient: str | None) -> str | None:
        if not recipient or not CF_RE.match(recipient):
            return "Codice fiscale del contribuente non valido per App IO."
        return None

    def _post(self, client: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return client.post(self.base_url + path, json=body)
        except httpx.HTTPError as exc:
            raise TransientError(f"App IO non raggiungibile: {exc}") from exc

    def new_message(self, message: OutgoingMessage) -> dict[str, Any]:
        """The `NewMessage` body of submitMessageforUserWithFiscalCodeInBody."""
        subject = message.subject.strip()
        if len(subject) < IO_SUBJECT[0]:
            subject = subject.ljust(IO_SUBJECT[0], ".")
        markdown = message.body
        if len(markdown) < IO_MARKDOWN[0]:
            raise PermanentError(f"Testo troppo breve per App IO (minimo {IO_MARKDOWN[0]} caratteri).")
        content: dict[str, Any] = {"subject": subject[: IO_SUBJECT[1]],
                                   "markdown": markdown[: IO_MARKDOWN[1]]}
        payment = message.payload.get("payment_data")
        if payment:
            data: dict[str, Any] = {"amount": int(payment["amount"]),
                                    "notice_number": str(payment["notice_number"])}
            if self.payee:
                data["payee"] = {"fiscal_code": self.payee}
            content["payment_data"] = data
        if message.payload.get("due_date"):
            content["due_date"] = f"{message.payload['due_date']}T00:00:00.000Z"
        return {"fiscal_code": message.recipient, "content": content}

    def send(self, message: OutgoingMessage) -> str:
        if not self.key:
            raise PermanentError("Invio App IO non configurato: manca IO_API_KEY.")
        headers = {"Ocp-Apim-Subscription-Key": self.key}
        with httpx.Client(headers=headers, timeout=self.timeout) as client:
            profile = self._post(client, "/profiles", {"fiscal_code": message.recipient})
            if profile.status_code == 404:
                raise RecipientRefused("Il contribuente non usa App IO.")
            if profile.status_code != 200:
                raise _http_error(profile, "App IO (profilo)")
            if not profile.json().get("sender_allowed"):
                raise RecipientRefused(
                    "Il contribuente ha disattivato i messaggi di questo servizio in App IO."
                )
            created = self._post(client, "/messages", self.new_message(message))
            if created.status_code != 201:
                raise _http_error(created, "App IO (messaggio)")
            try:
                return str(created.json()["id"])
            except (ValueError, KeyError, TypeError) as exc:
                raise PermanentError("App IO: risposta senza identificativo del messaggio.") from exc


IO_DELIVERED = frozenset({"PROCESSED"})
IO_FAILED = frozenset({"FAILED", "REJECTED"})


def io_delivery(channel: AppIoChannel, fiscal_code: str, provider_id: str) -> tuple[str | None, str | None]:
    """getMessage (`GET /messages/{fiscal_code}/{id}`): ("consegnato", None) once IO has stored it in the
    citizen's inbox (PROCESSED), ("fallito", reason) on FAILED/REJECTED, (None, None) while it is pending."""
    if not channel.key:
        raise PermanentError("Invio App IO non configurato: manca IO_API_KEY.")
    url = f"{channel.base_url}/messages/{quote(fiscal_code, safe='')}/{quote(provider_id, safe='')}"
    try:
        response = httpx.get(url, headers={"Ocp-Apim-Subscription-Key": channel.key}, timeout=channel.timeout)
    except httpx.HTTPError as exc:
        raise TransientError(f"App IO non raggiungibile: {exc}") from exc
    if response.status_code != 200:
        raise _http_error(response, "App IO (stato del messaggio)")
    status = str(response.json().get("status") or "")
    if status in IO_DELIVERED:
        return "consegnato", None
    if status in IO_FAILED:
        return "fallito", f"App IO: messaggio non recapitato ({status})."
    return None, None


# --- posta --------------------------------------------------------------------------------------------------


class PostalChannel:
    name = "posta"

    def check(self, recipient: str | None) -> str | None:
        if not recipient:
            return "Il contribuente non ha un indirizzo postale in vigore."
        return None

    def send(self, message: OutgoingMessage) -> str:
        raise PermanentError("La posta parte con il lotto di stampa (Recapito atti), non da questo invio.")


def channel_for(name: str, config: Mapping[str, Any], *, ente_code: str | None = None,
                payee_fiscal_code: str | None = None) -> Channel:
    """The adapter of channel `name` configured from the app's config (and the ente, for App IO)."""
    if name == "email":
        return MailChannel(config)
    if name == "pec":
        return MailChannel(config, pec=True)
    if name == "sms":
        return SmsChannel(config)
    if name == "app_io":
        return AppIoChannel(config, ente_code=ente_code, payee_fiscal_code=payee_fiscal_code)
    if name == "posta":
        return PostalChannel()
    raise ValueError(f"unknown channel {name!r}")
