"""Acts by PEC (domicilio digitale): the message with the act's PDF attached, and reading the PEC receipts the
archive's mailbox files back (daticert.xml, DM 2 novembre 2005) to find which act they are about.

A receipt names the original message in `dati/msgid` (its Message-ID) and carries its date in `dati/data`
(`giorno` GG/MM/AAAA, `ora`, `zona`); its subject repeats the original subject ("CONSEGNA: ..."), which holds
the act's protocol in square brackets as a fallback reference.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from email.message import EmailMessage

from defusedxml import ElementTree as SafeET

from app.core.mailer import SmtpSettings, new_message

# avvenuta-consegna perfects the notification for the sender (art. 6 c. 2 DPR 68/2005)
DELIVERED = "avvenuta-consegna"
NOT_DELIVERED = frozenset({"mancata-consegna", "errore-consegna", "non-accettazione", "rilevazione-virus"})
ACCEPTED = "accettazione"
_REFERENCE = re.compile(r"\[Atto ([^\]]{1,40})\]")


@dataclass(frozen=True, slots=True)
class ReceiptInfo:
    kind: str
    msgid: str | None
    day: dt.date | None
    protocol: str | None


def subject_for(act_label: str, protocol: str) -> str:
    return f"{act_label} [Atto {protocol}]"


def act_message(
    settings: SmtpSettings, *, to: str, act_label: str, protocol: str, body: str, pdf_name: str, pdf: bytes
) -> EmailMessage:
    """The PEC carrying the act: from PEC_FROM, the PDF attached, the protocol in the subject."""
    message = new_message(settings, to=to, subject=subject_for(act_label, protocol), body=body, pec=True)
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename=pdf_name)
    return message


def _clean_id(value: str | None) -> str | None:
    text = (value or "").strip().strip("<>").strip()
    return text[:500] or None


def read_receipt(kind: str, daticert: bytes | None, subject: str | None) -> ReceiptInfo:
    """What a PEC receipt says: its kind, the Message-ID it is about, its day, the act protocol of the
    subject. Unreadable parts give None (the caller then finds no act and leaves the receipt filed only)."""
    msgid: str | None = None
    day: dt.date | None = None
    if daticert:
        try:
            root = SafeET.fromstring(daticert)
        except Exception:  # noqa: BLE001 - defusedxml raises several kinds; all mean unreadable
            root = None
        if root is not None:
            msgid = _clean_id(root.findtext("dati/msgid"))
            giorno = (root.findtext("dati/data/giorno") or "").strip()
            try:
                day = dt.datetime.strptime(giorno, "%d/%m/%Y").date() if giorno else None  # noqa: DTZ007
            except ValueError:
                day = None
    match = _REFERENCE.search(subject or "")
    return ReceiptInfo(kind=kind, msgid=msgid, day=day, protocol=match.group(1).strip() if match else None)
