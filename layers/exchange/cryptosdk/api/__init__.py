"""The HTTP adapter: resolver, the API contract's models, and errors mapped to HTTP answers."""
