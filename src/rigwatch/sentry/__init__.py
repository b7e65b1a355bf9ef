"""The agent on the miners' LAN: discover, poll, spool, push."""
