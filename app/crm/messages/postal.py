"""Postal messages (channel `posta`): the message's subject and text become a one- or two-page letter (Typst,
templates/crm/messages/lettera.typ) addressed to the taxpayer's postal address, checked as the print
pre-check checks it (app/atti/delivery/addresses.py: the current domicilio, else sede legale, else
residenza). The letter is filed in the archive with the next protocol number of the ente's register (type
`comunicazione_inviata`, channel `uscita`), linked to the taxpayer (and the position), and attached to the
message, which stays `in_coda` until a print batch takes it (app/atti/delivery/letters.py). Never commit here.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.atti.delivery.addresses import PostalAddress, address_problems, normalized
from app.core.audit import Actor
from app.core.errors import DomainError
from app.enti.models import Ente
from app.positions.models import Position
from app.reports.formatting import format_date_it
from app.taxpayers.models import Taxpayer

TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "crm" / "messages" / "lettera.typ"
MAX_PAGES = 2  # a letter, not an act: a longer text belongs in an act or an attachment
DOCUMENT_TYPE = "comunicazione_inviata"
DOCUMENT_CHANNEL = "uscita"


def postal_address(taxpayer: Taxpayer) -> PostalAddress | None:
    from app.atti.delivery.services import postal_address as of_taxpayer

    return of_taxpayer(taxpayer)


def recipient_line(taxpayer: Taxpayer) -> str | None:
    """The address a letter goes to, on one line (normalised as on the manifest), or None."""
    address = postal_address(taxpayer)
    return normalized(address).one_line if address is not None else None


def address_refusal(taxpayer: Taxpayer) -> str | None:
    """Why a letter cannot go to this taxpayer (every problem of the address, naming the field), or None."""
    problems = address_problems(postal_address(taxpayer))
    return "Indirizzo postale non recapitabile: " + "; ".join(problems) if problems else None


def ensure_document_type(session: Session) -> None:
    from app.archive.services import ensure_document_type as ensure_type

    ensure_type(
        session,
        DOCUMENT_TYPE,
        label="Comunicazione inviata per posta",
        source="D.P.R. 445/2000, art. 53 (registro di protocollo)",
    )


def letter_data(
    *, ente: Ente, name: str, address: PostalAddress, protocol: str, on: dt.date, subject: str, body: str
) -> dict[str, Any]:
    a = normalized(address)
    place = " ".join(p for p in (a.cap or "", a.comune, a.provincia or "") if p)
    paragraphs = [p.strip() for p in body.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return {
        "ente": {"name": ente.name, "cf": ente.codice_fiscale},
        "protocol": protocol,
        "date": format_date_it(on),
        "recipient": {"name": name, "address": [a.street, place]},
        "subject": subject,
        "paragraphs": paragraphs,
    }


@lru_cache(maxsize=1)
def _compiler() -> Any:
    """One Typst compiler per process, reused (fonts and template loaded once, as app/atti/rendering.py)."""
    import typst

    from app.reports.export_formats.pdf_writer import FONT_DIRS

    return typst.Compiler(str(TEMPLATE), font_paths=[str(p) for p in FONT_DIRS])


def render_letter(data: dict[str, Any]) -> tuple[bytes, int]:
    """The letter's PDF and its pages."""
    import pikepdf

    pdf = _compiler().compile(sys_inputs={"data": json.dumps(data, ensure_ascii=False)})
    with pikepdf.Pdf.open(io.BytesIO(pdf)) as document:
        pages = len(document.pages)
    return bytes(pdf), pages


@dataclass(frozen=True, slots=True)
class Letter:
    document: Any  # app.archive.models.Document
    protocol: str
    pages: int
    address: PostalAddress

    def payload(self) -> dict[str, Any]:
        """What the message row keeps of its letter (the address printed on it goes on the manifest)."""
        a = self.address
        return {
            "protocollo": self.protocol,
            "pagine": self.pages,
            "indirizzo": {"via": a.street, "cap": a.cap, "comune": a.comune, "provincia": a.provincia},
        }


def address_of_payload(payload: dict[str, Any]) -> PostalAddress | None:
    found = payload.get("indirizzo")
    if not found:
        return None
    return PostalAddress(
        found.get("via") or "", found.get("cap"), found.get("comune") or "", found.get("provincia")
    )


def file_letter(
    session: Session,
    *,
    ente: Ente,
    taxpayer: Taxpayer,
    position: Position | None,
    subject: str,
    body: str,
    actor: Actor,
    file_store: str,
    on: dt.date,
) -> Letter:
    """Render and file the letter (the caller has checked the address). Runs in a savepoint: DomainError
    (more than MAX_PAGES pages) leaves nothing behind, not even the protocol number."""
    from app.archive import services as archive
    from app.archive.outgoing import file_outgoing_pdf
    from app.atti.delivery.services import recipient_name

    address = postal_address(taxpayer)
    if address is None or address_problems(address):
        raise DomainError(address_refusal(taxpayer) or "Indirizzo postale non recapitabile.")
    address = normalized(address)
    with session.begin_nested():
        protocol = archive.next_protocol(session, ente, on.year)
        data = letter_data(
            ente=ente,
            name=recipient_name(taxpayer),
            address=address,
            protocol=protocol,
            on=on,
            subject=subject,
            body=body,
        )
        pdf, pages = render_letter(data)
        if pages > MAX_PAGES:
            raise DomainError(f"Il testo non sta in una lettera: {pages} pagine (al massimo {MAX_PAGES}).")
        ensure_document_type(session)
        document = file_outgoing_pdf(
            session,
            pdf,
            pages,
            ente=ente,
            type_code=DOCUMENT_TYPE,
            channel=DOCUMENT_CHANNEL,
            protocol=protocol,
            on=on,
            subject=f"Comunicazione: {subject}",
            text=f"{protocol}\n{subject}\n{body}",
            taxpayer_id=taxpayer.id,
            position_id=position.id if position else None,
            actor=actor,
            file_store=file_store,
        )
    return Letter(document=document, protocol=protocol, pages=pages, address=address)
