"""The collection engine: pure functions over frozen values (stdlib and Decimal only).

Nothing here reads a clock, the environment or a database: time (`as_of`) and every legal number are inputs.
Modules: money, rounding, dates, rates, interest, charges, allocation, installments, deadlines, states,
notice, params (parameter rows -> engine values) and wire (the JSON contract of formats.md §4).
"""
