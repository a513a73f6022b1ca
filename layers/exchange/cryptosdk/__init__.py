"""Server-side integration with the instant-exchange API: signing, client, validation, orders."""
