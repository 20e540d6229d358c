"""The forms of the measures on a position (CSRF on every one)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from app.core.query_forms import PlainText
from app.dynamics.models import ORDERED_BY, SUSPENSION_REASONS
from app.positions.models import COMPONENT_LABELS, COMPONENTS

EXTENTS = {"parziale": "Parziale", "totale": "Totale"}


def euro_cents(text: str | None) -> int:
    """ "1.234,56" / "1234.56" / "12" → cents; "" → 0. ValueError with an Italian message otherwise."""
    raw = (text or "").strip().replace(" ", "").replace("€", "")
    if not raw:
        return 0
    if "," in raw:
        raw = raw.replace(".", "").replace(",", ".")
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise ValueError("importo non valido: scrivere ad esempio 1.234,56") from None
    if value < 0 or value != value.quantize(Decimal("0.01")):
        raise ValueError("importo non valido: positivo, al massimo due decimali")
    return int(value * 100)


def _euro(form: Any, field: Any) -> None:
    try:
        euro_cents(field.data)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


class MeasureForm(FlaskForm):
    ordered_by = SelectField("Disposto da", validators=[DataRequired()])
    act_number = StringField("Provvedimento n.", validators=[Optional(), Length(max=60), PlainText()])
    act_date = DateField("Data del provvedimento", validators=[Optional()])
    value_date = DateField("Data di efficacia (se diversa)", validators=[Optional()])
    reason = TextAreaField("Motivazione", validators=[DataRequired(), Length(max=500), PlainText()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ordered_by.choices = list(ORDERED_BY.items())


class SgravioForm(MeasureForm):
    extent = RadioField("Sgravio", default="parziale")
    capitale = StringField(COMPONENT_LABELS["capitale"], validators=[Optional(), _euro])
    sanzioni = StringField(COMPONENT_LABELS["sanzioni"], validators=[Optional(), _euro])
    interessi = StringField(COMPONENT_LABELS["interessi"], validators=[Optional(), _euro])
    spese = StringField(COMPONENT_LABELS["spese"], validators=[Optional(), _euro])
    oneri = StringField(COMPONENT_LABELS["oneri"], validators=[Optional(), _euro])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extent.choices = list(EXTENTS.items())

    def cents(self) -> dict[str, int] | None:
        if self.extent.data == "totale":
            return None
        return {c: euro_cents(getattr(self, c).data) for c in COMPONENTS if euro_cents(getattr(self, c).data)}


class SospensioneForm(MeasureForm):
    reason_kind = SelectField("Motivo", validators=[DataRequired()])

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.reason_kind.choices = list(SUSPENSION_REASONS.items())


class DiscaricoForm(MeasureForm):
    notes = TextAreaField(
        "Altri tentativi e note (ricerche, esiti)", validators=[Length(max=1000), PlainText()]
    )


class StornoForm(FlaskForm):
    measure = HiddenField(validators=[DataRequired()])
    reason = StringField("Motivo dello storno", validators=[DataRequired(), Length(max=500), PlainText()])
