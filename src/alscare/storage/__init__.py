"""Storage: SQLAlchemy models, engine and migrations. Only translates; holds no clinical logic."""
