"""Web layer: FastAPI app factory, server-rendered pages and the JSON API. Translates only."""
