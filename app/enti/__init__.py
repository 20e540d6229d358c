from app.enti import models  # noqa: F401  (registers the tables)
