"""Notifications: one module per channel kind (webhook, smtp for e-mail, telegram,
discord, ntfy), the messages they send (`render`), the registry of kinds with their
configuration and secrets (`registry`), and the job that routes alert events and
delivers the outbox (`dispatch`)."""
