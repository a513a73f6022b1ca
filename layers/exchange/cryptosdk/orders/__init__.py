"""The order services: validation, creation, instruments, polling, reconciliation and events."""
