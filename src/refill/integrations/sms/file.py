import datetime
from pathlib import Path

from django.conf import settings


class FileSmsBackend:
    """Appends each message to REFILL_SMS_FILE_PATH (the demo's outbox) and prints it."""

    def send(self, *, to: str, body: str) -> None:
        path = Path(settings.REFILL_SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp}\t{to}\t{body}\n")
        print(f"SMS to {to}: {body}", flush=True)
