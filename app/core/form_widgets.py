"""Form widgets shared by the slices."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape
from wtforms import widgets


class Select(widgets.Select):
    """WTForms' <select>, its options written directly: the same bytes as WTForms' `html_params` (which sorts
    and escapes each attribute, ~20 µs an option) in a quarter of the time. For the long lists of the card
    (a taxpayer's 200 positions in the quote, plan, contact and message forms)."""

    @classmethod
    def render_option(cls, choice: Any, **kwargs: Any) -> Markup:
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        selected = "selected " if choice.selected else ""
        label = escape(choice.label or choice.value)
        return Markup(f'<option {selected}value="{escape(value)}">{label}</option>')
