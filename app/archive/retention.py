"""Retention and conservazione of the archive (issue 11, point 8). Never commits.

- The retention class of a document is its type's `retention_years` (DocumentType; None: kept without
  limit); it ends on the anniversary of the received date that many years later.
- `write_package` exports a selection (ente, types, received-date range) as a ZIP: `indice.xml`, the AgID
  metadata of each documento informatico (Linee guida AgID sulla formazione, gestione e conservazione dei
  documenti informatici, Allegato 5), and the originals under `documenti/`. The index is written with lxml's
  incremental writer and follows schemas/conservazione.xsd.
- `discard` deletes a document whose retention has ended (the caller checks the user is an administrator):
  app/archive/deletion.py, the one deletion (`/archivio/<id>/elimina`, the conservazione screen, the CLI).
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from lxml import etree
from sqlalchemy.orm import Session, selectinload

from app.archive import deletion
from app.archive.deletion import StoreRemoval
from app.archive.mailbox_models import MailMessage, MailMessageDocument
from app.archive.models import Document, DocumentType
from app.core.access import Principal, scoped
from app.core.audit import Actor, record_event
from app.core.errors import DomainError
from app.enti.models import Ente

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "conservazione.xsd"
INDEX_NAME = "indice.xml"
PACKAGE_VERSION = "1"
NAMESPACE = "urn:esattoria:conservazione:1"
PERMANENT_YEARS = 9999  # AgID Allegato 5, TempoDiConservazione: 9999 for "illimitato"
_BATCH = 500
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def retention_label(years: int | None) -> str:
    if years is None:
        return "Conservazione illimitata"
    return "Conservazione per 1 anno" if years == 1 else f"Conservazione per {years} anni"


def retention_end(document: Document) -> dt.date | None:
    """The day from which the document may be discarded (None: never): the archive's own rule."""
    return deletion.retention_end(document)


# --- selection ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Selection:
    ente: Ente
    type_codes: tuple[str, ...] = ()
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    def check(self) -> None:
        if self.date_from and self.date_to and self.date_from > self.date_to:
            raise DomainError(
                f"Intervallo di date non valido: dal {self.date_from:%d/%m/%Y} al {self.date_to:%d/%m/%Y}."
            )


def selection_query(selection: Selection, principal: Principal | None = None) -> sa.Select:
    """The selected documents (not deleted), oldest first; through the scoping helper when a user asks."""
    stmt = sa.select(Document)
    if principal is not None:
        stmt = scoped(stmt, Document, principal)
    stmt = stmt.where(Document.ente_id == selection.ente.id, Document.status != "deleted")
    if selection.type_codes:
        stmt = stmt.where(
            Document.type_id.in_(
                sa.select(DocumentType.id).where(DocumentType.code.in_(selection.type_codes))
            )
        )
    if selection.date_from:
        stmt = stmt.where(Document.received_date >= selection.date_from)
    if selection.date_to:
        stmt = stmt.where(Document.received_date <= selection.date_to)
    return stmt.order_by(Document.received_date, Document.id)


def discardable(session: Session, principal: Principal, today: dt.date, limit: int = 200) -> list[Document]:
    """Documents in scope whose retention has ended, oldest first (the screen's list for administrators):
    per type, received on or before today less its retention years (in the database), checked again here."""
    per_type = [
        sa.and_(Document.type_id == type_id, Document.received_date <= _years_before(today, years))
        for type_id, years in session.execute(
            sa.select(DocumentType.id, DocumentType.retention_years).where(
                DocumentType.retention_years.is_not(None)
            )
        )
    ]
    if not per_type:
        return []
    stmt = (
        scoped(sa.select(Document), Document, principal)
        .where(Document.status != "deleted", sa.or_(*per_type))
        .options(selectinload(Document.doc_type), selectinload(Document.ente))
        .order_by(Document.received_date, Document.id)
        .limit(limit)
    )
    found = []
    for document in session.scalars(stmt):
        end = retention_end(document)
        if end is not None and end <= today:
            found.append(document)
    return found


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


# --- the package ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PackageSummary:
    documents: int
    bytes: int
    index_sha256: str

    def as_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "bytes": self.bytes, "index_sha256": self.index_sha256}


def _text(value: object) -> str:
    return _XML_UNSAFE.sub("", str(value))


def _safe_name(name: str) -> str:
    cleaned = re.sub(r"[^\w.\- ]+", "_", Path(name.replace("\\", "/")).name, flags=re.UNICODE).strip(" .")
    return cleaned[:120] or "documento"


def _member_name(document: Document) -> str:
    return f"documenti/{document.identifier}/{_safe_name(document.file_name)}"


def _mail_context(session: Session, ids: Sequence[int]) -> tuple[dict[int, int], dict[int, str]]:
    """For documents that came by mail: attachments per message document, and each attachment's primary
    document (the message's protocol)."""
    attachments: dict[int, int] = {}
    primary: dict[int, str] = {}
    rows = session.execute(
        sa.select(
            MailMessageDocument.document_id,
            MailMessageDocument.role,
            MailMessage.document_id,
            MailMessage.protocol,
            MailMessage.attachments,
        )
        .join(MailMessage, MailMessage.id == MailMessageDocument.mail_message_id)
        .where(MailMessageDocument.document_id.in_(list(ids)))
    ).all()
    for document_id, role, message_document, protocol, count in rows:
        if role == "messaggio":
            attachments[document_id] = int(count or 0)
        elif message_document != document_id and protocol:
            primary[document_id] = protocol
    return attachments, primary


def _q(tag: str) -> str:
    return f"{{{NAMESPACE}}}{tag}"


def _element(parent: etree._Element, tag: str, text: object | None = None, **attrs: str) -> etree._Element:
    node = etree.SubElement(parent, _q(tag), {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        node.text = _text(text)
    return node


def document_metadata(
    document: Document, *, attachments: int | None = None, primary: str | None = None
) -> etree._Element:
    """One `Documento`: the AgID Allegato 5 metadata of the documento informatico."""
    node = etree.Element(_q("Documento"), nsmap={None: NAMESPACE})
    id_doc = _element(node, "IdDoc")
    impronta = _element(id_doc, "ImprontaCrittograficaDelDocumento")
    _element(impronta, "Impronta", document.sha256)
    _element(impronta, "Algoritmo", "SHA-256")
    _element(id_doc, "Identificativo", document.identifier)
    _element(node, "ModalitaDiFormazione", "b")  # acquisition of a document received or scanned
    _element(node, "TipologiaDocumentale", document.doc_type.label)
    registration = _element(node, "DatiDiRegistrazione")
    _element(registration, "TipologiaDiFlusso", "E")  # entrata: received
    _element(registration, "TipoRegistro", "Protocollo Ordinario")
    _element(registration, "DataRegistrazione", document.received_date.isoformat())
    _element(registration, "NumeroDocumento", document.protocol)
    _element(registration, "CodiceRegistro", document.ente.code)
    subjects = _element(node, "Soggetti")
    if document.sender:
        sender = _element(subjects, "Ruolo", tipo="Mittente")
        _element(sender, "Denominazione", document.sender)
    recipient = _element(subjects, "Ruolo", tipo="Destinatario")
    _element(recipient, "Denominazione", document.ente.name)
    producer = _element(subjects, "Ruolo", tipo="Produttore")
    _element(producer, "Denominazione", document.created_by_label)
    description = _element(node, "ChiaveDescrittiva")
    _element(description, "Oggetto", document.subject or document.file_name)
    _element(node, "Allegati").append(_num("NumeroAllegati", attachments or 0))
    classification = _element(node, "Classificazione")
    _element(classification, "IndiceDiClassificazione", document.doc_type.code)
    _element(classification, "Descrizione", document.doc_type.label)
    _element(node, "Riservato", "true")  # taxpayers' data
    form = _element(node, "IdentificativoDelFormato")
    _element(form, "Formato", document.mime_type)
    _element(node, "Verifica").append(_flag("Cifrato", document.encrypted))
    if primary:
        _element(node, "IdentificativoDocumentoPrimario", primary)
    _element(node, "NomeDelDocumento", document.file_name)
    _element(node, "VersioneDelDocumento", str(document.version))
    years = document.doc_type.retention_years
    _element(node, "TempoDiConservazione", str(PERMANENT_YEARS if years is None else years))
    _element(node, "Canale", document.channel)
    _element(node, "File", _member_name(document), dimensione=str(document.size_bytes))
    return node


def _num(tag: str, value: int) -> etree._Element:
    node = etree.Element(_q(tag))
    node.text = str(value)
    return node


def _flag(tag: str, value: bool) -> etree._Element:
    node = etree.Element(_q(tag))
    node.text = "true" if value else "false"
    return node


def write_index(
    stream: IO[bytes],
    batches: Iterable[Sequence[Document]],
    selection: Selection,
    session: Session,
    *,
    generated_at: dt.datetime,
) -> int:
    """The XML index, written as the documents stream in (lxml's incremental writer). Returns the count."""
    count = 0
    with etree.xmlfile(stream, encoding="utf-8") as xf:
        xf.write_declaration()
        attrs = {
            "versione": PACKAGE_VERSION,
            "ente": selection.ente.code,
            "generato": generated_at.isoformat(timespec="seconds"),
        }
        with xf.element(_q("PacchettoDiConservazione"), attrs, nsmap={None: NAMESPACE}):
            xf.write("\n")
            criteria = etree.Element(_q("Selezione"), nsmap={None: NAMESPACE})
            _element(criteria, "Ente", selection.ente.code)
            if selection.date_from:
                _element(criteria, "Dal", selection.date_from.isoformat())
            if selection.date_to:
                _element(criteria, "Al", selection.date_to.isoformat())
            for code in selection.type_codes:
                _element(criteria, "Tipologia", code)
            xf.write(criteria, pretty_print=True)
            for batch in batches:
                attachments, primary = _mail_context(session, [d.id for d in batch])
                for document in batch:
                    xf.write(
                        document_metadata(
                            document,
                            attachments=attachments.get(document.id),
                            primary=primary.get(document.id),
                        ),
                        pretty_print=True,
                    )
                    count += 1
    return count


def _batches(session: Session, stmt: sa.Select) -> Iterable[list[Document]]:
    batch: list[Document] = []
    for document in session.scalars(
        stmt.options(selectinload(Document.doc_type), selectinload(Document.ente)).execution_options(
            yield_per=_BATCH
        )
    ):
        batch.append(document)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def write_package(
    session: Session,
    selection: Selection,
    out: Path,
    actor: Actor,
    *,
    file_store: str,
    principal: Principal | None = None,
    generated_at: dt.datetime | None = None,
) -> PackageSummary:
    """The ZIP package at `out`: indice.xml first, then each original (read from the store, never
    modified). An event on the ente's log says who exported what."""
    import hashlib

    from app.jobs.files import path_of

    selection.check()
    generated_at = generated_at or dt.datetime.now(dt.UTC)
    stmt = selection_query(selection, principal)
    digest = hashlib.sha256()

    class _Tee:
        def __init__(self, target: IO[bytes]) -> None:
            self.target = target

        def write(self, data: bytes) -> int:
            digest.update(data)
            return self.target.write(data)

    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as package:
        with package.open(INDEX_NAME, "w", force_zip64=True) as index:
            count = write_index(
                _Tee(index), _batches(session, stmt), selection, session, generated_at=generated_at
            )  # type: ignore[arg-type]
        written: set[str] = set()
        for batch in _batches(session, stmt):
            for document in batch:
                name = _member_name(document)
                if name in written:
                    continue
                written.add(name)
                package.write(path_of(file_store, document.file_path), name)
    record_event(
        session,
        actor,
        "archive.exported",
        f"Pacchetto di conservazione dell'ente {selection.ente.code}: {count} documenti"[:500],
        ente_id=selection.ente.id,
        payload={
            "documents": count,
            "types": list(selection.type_codes),
            "dal": selection.date_from.isoformat() if selection.date_from else None,
            "al": selection.date_to.isoformat() if selection.date_to else None,
            "index_sha256": digest.hexdigest(),
        },
    )
    return PackageSummary(documents=count, bytes=out.stat().st_size, index_sha256=digest.hexdigest())


# --- discard --------------------------------------------------------------------------------------------


def discard(session: Session, document: Document, actor: Actor, *, today: dt.date) -> StoreRemoval:
    """Delete a document at the end of its retention (app/archive/deletion.py: text dropped, index told, an
    event on every timeline it concerns, its original and thumbnails leaving the store after the commit when
    nothing else needs them); the caller has checked the actor is an administrator who may see it.
    DomainError, in Italian, when it must still be kept or is already gone."""
    return deletion.delete_document(session, document, actor, today=today)


def remove_original(file_store: str, removal: StoreRemoval) -> None:
    """After the commit: the original and its thumbnails leave the store (when nothing else needs them)."""
    deletion.remove_files(file_store, removal)
