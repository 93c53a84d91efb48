"""Telling someone that a cycle failed: an alert file always, a webhook and mail if set.

The alert file is written first and never depends on the network, so a failure is on
record even when the webhook or the mail server is down; what could not be sent is
appended to it. Alerts carry the run id, the flow run and the error, never a secret.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from fraudmatch.common.fsutil import atomic_path
from fraudmatch.hub.operator import OperatorConfig, OperatorError, secret
from fraudmatch.hub.workspace import ensure_private_dir

__all__ = ["ALERTS_DIR", "AlertResult", "raise_alert"]

log = logging.getLogger(__name__)

ALERTS_DIR = "alerts"
_TIMEOUT = 15


@dataclass
class AlertResult:
    path: Path
    sent: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)


def raise_alert(
    workspace_root: Path, subject: str, details: dict[str, str], config: OperatorConfig
) -> AlertResult:
    """Write ``alerts/<utc time>-<run>.txt`` in the workspace, then notify as configured."""
    now = datetime.now(UTC)
    folder = ensure_private_dir(Path(workspace_root) / ALERTS_DIR)
    run = details.get("run_id", "cycle")
    path = folder / f"{now:%Y%m%dT%H%M%SZ}-{run}.txt"
    body = "\n".join([subject, *(f"{k}: {v}" for k, v in details.items())]) + "\n"
    result = AlertResult(path)
    _write(path, body)
    for channel, send in (("webhook", _webhook), ("mail", _mail)):
        try:
            if send(subject, details, body, config):
                result.sent.append(channel)
        except (OSError, OperatorError, smtplib.SMTPException) as exc:
            result.failed.append(f"{channel}: {type(exc).__name__}: {exc}")
    if result.failed:
        _write(path, body + "".join(f"not sent: {f}\n" for f in result.failed))
        log.warning("alert %s: %s", path, "; ".join(result.failed))
    return result


def _write(path: Path, text: str) -> None:
    with atomic_path(path, mode=0o600) as tmp:
        tmp.write_text(text)


def _webhook(subject: str, details: dict[str, str], body: str, config: OperatorConfig) -> bool:
    url = secret(config.webhook_url_env, config.webhook_url_file, "alerts webhook")
    if not url:
        return False
    data = json.dumps({"text": subject, "details": details}).encode()
    request = urllib.request.Request(
        url, data=data, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=_TIMEOUT) as response:  # noqa: S310
            response.read()
    except OSError as exc:  # the URL holds a token: say what failed, not where
        raise OSError(f"webhook POST failed: {getattr(exc, 'reason', exc)}") from None
    return True


def _mail(subject: str, details: dict[str, str], body: str, config: OperatorConfig) -> bool:
    mail = config.mail
    if mail is None:
        return False
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.to)
    message.set_content(body)
    password = secret(mail.password_env, mail.password_file, "alerts mail")
    with smtplib.SMTP(mail.host, mail.port, timeout=_TIMEOUT) as smtp:
        if mail.starttls:
            smtp.starttls()
        if mail.user and password:
            smtp.login(mail.user, password)
        smtp.send_message(message)
    return True
