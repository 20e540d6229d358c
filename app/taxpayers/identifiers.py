"""Codice fiscale / partita IVA: normalisation and validation (python-stdnum; omocodia accepted)."""

from __future__ import annotations

import re
import unicodedata

from stdnum.exceptions import ValidationError
from stdnum.it import codicefiscale, iva

CF_SHAPE = re.compile(
    r"^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$"
)
LOOKS_LIKE_CF = re.compile(r"^(?=.*\d)[A-Z0-9]{16}$")


class InvalidIdentifier(ValueError):
    """The Italian message names what is wrong."""


def compact(value: str) -> str:
    return re.sub(r"[\s.\-]", "", value or "").upper()


def validate_codice_fiscale(value: str) -> str:
    """A valid 16-character personal CF or 11-digit CF/partita IVA, compacted; else InvalidIdentifier."""
    code = compact(value)
    if len(code) == 11 and code.isdigit():
        try:
            return iva.validate(code)
        except ValidationError as exc:
            raise InvalidIdentifier(
                f"Partita IVA / codice fiscale numerico non valido ({code}): "
                "la cifra di controllo non corrisponde."
            ) from exc
    if len(code) != 16:
        raise InvalidIdentifier(
            f"Codice fiscale non valido ({code or 'vuoto'}): sono attesi 16 caratteri "
            "(persona fisica) o 11 cifre (persona giuridica)."
        )
    if not CF_SHAPE.match(code):
        raise InvalidIdentifier(f"Codice fiscale non valido ({code}): formato errato.")
    try:
        return codicefiscale.validate(code)
    except ValidationError as exc:
        if codicefiscale.calc_check_digit(code[:15]) != code[15]:
            raise InvalidIdentifier(
                f"Codice fiscale non valido ({code}): il carattere di controllo non corrisponde."
            ) from exc
        raise InvalidIdentifier(f"Codice fiscale non valido ({code}): data di nascita impossibile.") from exc


def kind_of(codice_fiscale: str) -> str:
    """PF for a 16-character code, PG for an 11-digit one."""
    return "PG" if len(codice_fiscale) == 11 else "PF"


def search_key(*parts: str | None) -> str:
    """Upper-case, accent-free, single-spaced: 'Nicolò D'Àmico' -> "NICOLO D'AMICO"."""
    text = " ".join(p for p in parts if p)
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", text).strip().upper()


PHONE_SEPARATORS = re.compile(r"[\s.\-/()]")


def phone_variants(value: str) -> list[str]:
    """The forms a phone number may be stored in once separators are dropped: "+39 06 5551234" ->
    ["065551234", "+39065551234", "0039065551234", "39065551234"]; [] when `value` is not shaped like one
    (an Italian number starts with 0 or 3 and has 6 to 11 digits; a foreign one needs its + or 00 prefix)."""
    text = PHONE_SEPARATORS.sub("", value or "")
    international = text.startswith(("+", "00"))
    rest = text[1:] if text.startswith("+") else text[2:] if text.startswith("00") else text
    if not rest.isdigit():
        return []
    if international and not rest.startswith("39"):
        return [f"+{rest}", f"00{rest}"] if 6 <= len(rest) <= 15 else []
    nationals = [rest[2:]] if international else [rest]
    if not international and rest.startswith("39") and len(rest) > 8:
        nationals.append(rest[2:])  # "39 06 5551234" typed without the +
    variants: list[str] = []
    for national in nationals:
        if 6 <= len(national) <= 11 and national[0] in "03":
            variants += [national, f"+39{national}", f"0039{national}", f"39{national}"]
    return variants


def looks_like_email(value: str) -> bool:
    text = (value or "").strip()
    return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", text))
