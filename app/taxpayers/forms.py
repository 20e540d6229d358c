from flask_wtf import FlaskForm
from wtforms import DateField, StringField
from wtforms.validators import Length, Optional

from app.core.query_forms import PlainText


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(
        "Codice fiscale, partita IVA, nome o riferimento", validators=[Length(max=120), PlainText()]
    )


class AsOfForm(FlaskForm):
    class Meta:
        csrf = False

    al = DateField("Mostra la scheda alla data", validators=[Optional()], render_kw={"max": "9999-12-31"})
