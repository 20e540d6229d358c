from tests.carichi.conftest import ctx, store  # noqa: F401  (the same fixtures)
