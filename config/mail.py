"""Mail written to files for `make run`: raw messages in var/mail/, each HTML part beside them in
var/mail/html/ to open in a browser (README, "Digests")."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.filebased import EmailBackend
from django.utils.text import slugify


class FileEmailBackend(EmailBackend):
    """Django's file backend (one `*.log` per connection), plus one `.html` file per HTML part."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = int(super().send_messages(email_messages) or 0)
        html_dir = os.path.join(str(getattr(self, "file_path", "")), "html")
        for message in email_messages:
            for index, html in enumerate(_html_parts(message)):
                os.makedirs(html_dir, exist_ok=True)
                stamp = datetime.now(tz=UTC).strftime("%Y%m%d-%H%M%S-%f")
                to = slugify(",".join(message.to))[:60]
                name = f"{stamp}-{to}-{slugify(str(message.subject))[:60]}-{index}.html"
                with open(os.path.join(html_dir, name), "w", encoding="utf-8") as file:
                    file.write(html)
        return sent


def _html_parts(message: EmailMessage) -> list[str]:
    if not isinstance(message, EmailMultiAlternatives):
        return []
    parts: list[Any] = list(message.alternatives)
    return [str(content) for content, mimetype in parts if mimetype == "text/html"]
