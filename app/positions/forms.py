from flask_wtf import FlaskForm
from wtforms import DateField, DecimalField, IntegerField, SelectField
from wtforms.validators import DataRequired, NumberRange, Optional

from app.core.form_widgets import Select
from app.core.query_forms import QueryForm, page_field


class QuoteForm(FlaskForm):
    class Meta:
        csrf = False  # a calculation: reads only

    position = SelectField("Posizione", coerce=int, widget=Select())  # every position of the card
    al = DateField("Dovuto alla data", validators=[DataRequired("Indica la data.")])


class PlanForm(FlaskForm):
    class Meta:
        csrf = False

    position = SelectField("Posizione", coerce=int, widget=Select())  # every position of the card
    rate = IntegerField(
        "Numero di rate",
        validators=[DataRequired("Indica il numero di rate."), NumberRange(1, 120, "Da 1 a 120 rate.")],
    )
    prima = DateField(
        "Scadenza della prima rata", validators=[DataRequired("Indica la data della prima rata.")]
    )
    tasso = DecimalField("Tasso annuo % sul capitale residuo", places=4, validators=[Optional()])


class PositionFilters(QueryForm):
    """The filters of the positions list and of its exports (choices set by the route)."""

    ente = SelectField("Ente", validators=[Optional()])
    stato = SelectField("Stato", validators=[Optional()])
    pagina = page_field()
