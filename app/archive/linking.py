"""Finding taxpayers and positions in a document's text (issue 11 point 4).

Every codice fiscale / partita IVA (checksum-valid, omocodia accepted), every notice number (18 digits with
valid check digits, also printed in groups of 4 as on the avviso), every IUV (17 digits whose notice number is
valid) and every protocol number of the ente found in the text is looked up among THAT ente's taxpayers and
positions, through the scoping helper. What matches becomes a `Match`; the service turns them into links.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.core.access import Principal, scoped
from app.engine.notice import is_valid_notice
from app.taxpayers.identifiers import InvalidIdentifier, validate_codice_fiscale

_OMO = "[0-9LMNPQRSTUV]"
CF_PATTERN = re.compile(
    rf"(?<![A-Z0-9])[A-Z]{{6}}{_OMO}{{2}}[ABCDEHLMPRST]{_OMO}{{2}}[A-Z]{_OMO}{{3}}[A-Z](?![A-Z0-9])"
)
PIVA_PATTERN = re.compile(r"(?<!\d)\d{11}(?!\d)")
NOTICE_PATTERN = re.compile(r"(?<!\d)3\d{17}(?!\d)")
# as printed on the avviso, groups of 4 digits (a line may break between two groups)
NOTICE_GROUPED = re.compile(r"(?<!\d)(?<!\d\s)(3\d{3})\s?(\d{4})\s?(\d{4})\s?(\d{4})\s?(\d{2})(?!\d)")
IUV_PATTERN = re.compile(r"(?<!\d)\d{17}(?!\d)")


@dataclass(frozen=True, slots=True)
class Found:
    """What the text names (before looking anything up)."""

    codici_fiscali: tuple[str, ...] = ()
    notice_numbers: tuple[str, ...] = ()
    iuvs: tuple[str, ...] = ()
    protocols: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Match:
    kind: str  # taxpayer | position
    target_id: int
    taxpayer_id: int
    matched: str  # the string found in the text
    codice_fiscale: str = ""
    notice_number: str = ""

    @property
    def position_id(self) -> int | None:
        return self.target_id if self.kind == "position" else None


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


def find_identifiers(text: str, ente_code: str | None = None) -> Found:
    upper = (text or "").upper()
    codes: list[str] = []
    for candidate in [*CF_PATTERN.findall(upper), *PIVA_PATTERN.findall(upper)]:
        try:
            codes.append(validate_codice_fiscale(candidate))
        except InvalidIdentifier:
            continue
    notices = [n for n in NOTICE_PATTERN.findall(upper) if is_valid_notice(n)]
    notices += [n for n in ("".join(g) for g in NOTICE_GROUPED.findall(upper)) if is_valid_notice(n)]
    iuvs = [i for i in IUV_PATTERN.findall(upper) if is_valid_notice("3" + i)]
    protocols: list[str] = []
    if ente_code:
        protocols = re.findall(rf"(?<![A-Z0-9]){re.escape(ente_code.upper())}-\d{{4}}-\d{{7}}(?!\d)", upper)
    return Found(_unique(codes), _unique(notices), _unique(iuvs), _unique(protocols))


def find_matches(
    session: Session, text: str, ente_id: int, ente_code: str, *, exclude_document: int | None = None
) -> list[Match]:
    """The taxpayers and positions of ente `ente_id` named in `text`, each once, in order of discovery."""
    from app.archive.models import Document, DocumentLink
    from app.payments.models import NoticeNumber
    from app.positions.models import Position
    from app.taxpayers.models import Taxpayer

    found = find_identifiers(text, ente_code)
    principal = Principal(role="backoffice", ente_ids=frozenset({ente_id}))
    matches: dict[tuple[str, int], Match] = {}

    if found.codici_fiscali:
        rows = session.execute(
            scoped(
                sa.select(Taxpayer.id, Taxpayer.codice_fiscale, Taxpayer.partita_iva).where(
                    sa.or_(
                        Taxpayer.codice_fiscale.in_(found.codici_fiscali),
                        Taxpayer.partita_iva.in_(found.codici_fiscali),
                    )
                ),
                Taxpayer,
                principal,
            )
        )
        by_code: dict[str, list[tuple[int, str]]] = {}
        for tid, cf, piva in rows:
            by_code.setdefault(cf, []).append((tid, cf))
            if piva:
                by_code.setdefault(piva, []).append((tid, cf))
        for code in found.codici_fiscali:
            for tid, cf in by_code.get(code, []):
                matches.setdefault(("taxpayer", tid), Match("taxpayer", tid, tid, code, codice_fiscale=cf))

    iuvs = set(found.iuvs) | {n[1:] for n in found.notice_numbers}
    if iuvs:
        rows = session.execute(
            scoped(
                sa.select(Position.id, Position.taxpayer_id, NoticeNumber.notice_number)
                .join(NoticeNumber, NoticeNumber.position_id == Position.id)
                .where(NoticeNumber.ente_id == ente_id, NoticeNumber.iuv.in_(sorted(iuvs)))
                .order_by(NoticeNumber.id),
                Position,
                principal,
            )
        )
        for pid, tid, number in rows:
            shown = number if number in found.notice_numbers else number[1:]
            matches.setdefault(("position", pid), Match("position", pid, tid, shown, notice_number=number))

    if found.protocols:
        rows = session.execute(
            scoped(
                sa.select(
                    DocumentLink.kind, DocumentLink.target_id, DocumentLink.taxpayer_id, Document.protocol
                )
                .join(Document, Document.id == DocumentLink.document_id)
                .where(
                    Document.protocol.in_(found.protocols),
                    DocumentLink.state == "confirmed",
                    Document.id != (exclude_document or 0),
                ),
                Document,
                principal,
            )
        )
        for kind, target, tid, protocol in rows:
            matches.setdefault((kind, target), Match(kind, target, tid, protocol))
    _fill_labels(session, matches)
    return list(matches.values())


def _fill_labels(session: Session, matches: dict[tuple[str, int], Match]) -> None:
    """Codice fiscale of taxpayer matches and notice number of position matches found another way."""
    from app.payments.notices import notice_numbers_of_positions
    from app.taxpayers.models import Taxpayer

    need_cf = [k for k, m in matches.items() if m.kind == "taxpayer" and not m.codice_fiscale]
    if need_cf:
        cfs = dict(
            session.execute(
                sa.select(Taxpayer.id, Taxpayer.codice_fiscale).where(
                    Taxpayer.id.in_([k[1] for k in need_cf])
                )
            )
            .tuples()
            .all()
        )
        for key in need_cf:
            m = matches[key]
            matches[key] = Match(
                m.kind, m.target_id, m.taxpayer_id, m.matched, codice_fiscale=cfs.get(key[1], "")
            )
    need_notice = [k for k, m in matches.items() if m.kind == "position" and not m.notice_number]
    if need_notice:
        numbers = notice_numbers_of_positions(session, [k[1] for k in need_notice])
        for key in need_notice:
            m = matches[key]
            first = (numbers.get(key[1]) or [""])[0]
            matches[key] = Match(m.kind, m.target_id, m.taxpayer_id, m.matched, notice_number=first)
