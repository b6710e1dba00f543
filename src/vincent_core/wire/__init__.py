"""The wire protocol as pure functions: no I/O, no event loop (see docs/protocol.md)."""
