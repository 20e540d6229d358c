"""Enti and entrate administration (issue 15 point 7): services, forms, routes."""
