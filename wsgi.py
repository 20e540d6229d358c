import gc

from app import create_app

app = create_app()
# What the start loaded (modules, mappers, templates, compiled statements: ~400,000 objects) leaves the
# collector's generations: its full passes no longer walk them on a request (20-600 ms now and then, a
# card among the slowest 5%). Nothing of it is ever garbage. benchmarks/bench_card.py does the same.
gc.freeze()
