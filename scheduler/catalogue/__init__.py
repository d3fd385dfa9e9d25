"""The edge for bodies/: the catalogue model, loading and cross-checks, safe YAML,
blackout calendars and contacts. Everything read here is checked once, here."""
