from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import EmailField, IntegerField, SelectField, SelectMultipleField, StringField, widgets
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp

from app.core.access import STAFF_ROLES
from app.core.query_forms import PlainText, QueryForm, page_field
from app.core.url_ids import MAX_ID


class _UserFields(FlaskForm):
    display_name = StringField(
        "Nome e cognome", validators=[DataRequired("Indica il nome."), Length(max=200)]
    )
    email = EmailField(
        "E-mail",
        validators=[
            Optional(),
            Regexp(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", message="E-mail non valida."),
            Length(max=200),
        ],
    )
    role = SelectField("Ruolo", validators=[DataRequired("Scegli il ruolo.")])
    ente_ids = SelectMultipleField(
        "Enti",
        coerce=int,
        validators=[DataRequired("Assegna almeno un ente.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )


class NewUserForm(_UserFields):
    username = StringField(
        "Nome utente",
        validators=[
            DataRequired("Indica il nome utente."),
            Length(3, 80, "Da 3 a 80 caratteri."),
            Regexp(r"^[A-Za-z0-9._-]+$", message="Solo lettere, cifre, punto, trattino e trattino basso."),
        ],
    )


class EditUserForm(_UserFields):
    pass


class ActionForm(FlaskForm):
    """The buttons of the user page (disable/enable, reset second factor, new password): CSRF only."""


class UserFilters(QueryForm):
    ruolo = StringField("Ruolo", validators=[Optional(), AnyOf(sorted(STAFF_ROLES), "un ruolo")])
    ente = IntegerField("Ente", validators=[Optional(), NumberRange(1, MAX_ID, "un numero")])
    stato = StringField("Stato", validators=[Optional(), AnyOf(["attivi", "disattivati"], "un valore")])
    testo = StringField("Cerca", validators=[Optional(), PlainText(), Length(max=80)])
    pagina = page_field()
