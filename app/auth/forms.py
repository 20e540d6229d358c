from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp


class LoginForm(FlaskForm):
    username = StringField(
        "Nome utente", validators=[DataRequired("Inserisci il nome utente."), Length(max=80)]
    )
    password = PasswordField("Password", validators=[DataRequired("Inserisci la password."), Length(max=200)])
    submit = SubmitField("Accedi")


class TotpForm(FlaskForm):
    code = StringField(
        "Codice di verifica (6 cifre)",
        validators=[
            DataRequired("Inserisci il codice."),
            Regexp(r"^\s*\d{6}\s*$", message="Il codice è di 6 cifre."),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField("Verifica")
