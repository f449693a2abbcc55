import sys


class ConsoleSmsBackend:
    def send(self, *, to: str, body: str) -> None:
        sys.stdout.write(f"SMS to {to}: {body}\n")
        sys.stdout.flush()
