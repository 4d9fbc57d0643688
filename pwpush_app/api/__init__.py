"""The JSON API: `app.build_api` builds it (see app.py)."""
