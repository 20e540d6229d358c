from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField, widgets
from wtforms.validators import DataRequired, Length


class ApiTokenForm(FlaskForm):
    name = StringField(
        "Nome del sistema client", validators=[DataRequired("Indica il nome."), Length(max=120)]
    )
    ente_id = SelectField("Ente", coerce=int, validators=[DataRequired("Scegli l'ente.")])
    scopes = SelectMultipleField(
        "Ambiti",
        validators=[DataRequired("Scegli almeno un ambito.")],
        option_widget=widgets.CheckboxInput(),
        widget=widgets.ListWidget(prefix_label=False),
    )
    submit = SubmitField("Emetti token")


class RevokeForm(FlaskForm):
    submit = SubmitField("Revoca")
