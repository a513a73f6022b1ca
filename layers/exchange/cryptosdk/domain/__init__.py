"""The order as the backend thinks of it: types, statuses and the rules between them. No I/O."""
