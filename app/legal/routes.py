"""The footer's legal pages, reachable without login."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template

bp = Blueprint("legal", __name__)


@bp.route("/privacy")
def privacy() -> Any:
    return render_template("legal/privacy.html")


@bp.route("/accessibilita")
def accessibility() -> Any:
    return render_template("legal/accessibility.html")
