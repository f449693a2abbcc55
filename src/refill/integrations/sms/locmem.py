outbox: list[dict[str, str]] = []


class LocmemSmsBackend:
    """Keeps messages in memory for tests (like Django's locmem mail backend)."""

    def send(self, *, to: str, body: str) -> None:
        outbox.append({"to": to, "body": body})
