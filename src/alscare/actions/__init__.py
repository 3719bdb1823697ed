"""Actions: one function per business operation, called alike by web pages, the API, the CLI and tests.

Each takes a SQLAlchemy session (the caller owns the transaction), keyword-only arguments, and the time
``now`` as an argument. Routes never touch the ORM directly.
"""
