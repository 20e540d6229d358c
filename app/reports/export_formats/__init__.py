"""The writers behind :mod:`app.reports.exports`: one module per format, plus the shared spec."""
