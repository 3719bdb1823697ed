"""Server-rendered pages. Handlers parse the form, call one action, commit, and render or redirect."""
