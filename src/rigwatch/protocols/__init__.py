"""One module per wire format: bytes in, domain objects out. No sockets here."""
