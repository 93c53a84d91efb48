"""The hub operator's own settings: how to reach each partner's drop, and whom to alert.

Kept in ``operator.yaml`` *beside* the partnership file, never inside it: every party holds
the partnership file, while host names, user names, key files and alert addresses are the
hub's business. Secrets are never written in either file: a setting ending in ``_env``
names an environment variable, one ending in ``_file`` a file, that holds the secret.

```yaml
transport:
  default:                    # applies to every partner's drop
    user: hub
    key_file: /etc/fraudmatch/drop_ed25519
    known_hosts: /etc/fraudmatch/known_hosts   # strict host-key checking is on by default
    timeout: 30               # seconds to connect or wait for data
    settle_seconds: 10        # a file changed more recently may still be being written
  partners:
    northmoor: {host: sftp.northmoor.example, port: 2222}
    westfield:                # an S3 bucket (or any S3-compatible server)
      endpoint_url: https://s3.westfield.example
      key_env: WESTFIELD_S3_KEY_ID
      secret_env: WESTFIELD_S3_SECRET
alerts:
  webhook_url_env: FRAUDMATCH_ALERT_WEBHOOK     # POST a JSON alert when a cycle fails
  mail: {host: smtp.example, port: 587, from: hub@example, to: [ops@example],
         user: hub, password_env: FRAUDMATCH_SMTP_PASSWORD}
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from fraudmatch.common import drops
from fraudmatch.common.drops import DropError, DropOptions, merge

__all__ = [
    "OPERATOR_FILE",
    "MailSettings",
    "OperatorConfig",
    "OperatorError",
    "default_operator_path",
    "load_operator",
    "secret",
]

OPERATOR_FILE = "operator.yaml"


class OperatorError(ValueError):
    """The operator file is wrong; the message names the file, key and what was expected."""


@dataclass(frozen=True)
class MailSettings:
    host: str
    to: tuple[str, ...]
    sender: str
    port: int = 587
    starttls: bool = True
    user: str | None = None
    password_env: str | None = None
    password_file: str | None = None


@dataclass(frozen=True)
class OperatorConfig:
    """Transport options (the default and per partner) and alert settings."""

    source: str = "(no operator file)"
    transport_default: DropOptions = field(default_factory=DropOptions)
    transport_partners: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    webhook_url_env: str | None = None
    webhook_url_file: str | None = None
    mail: MailSettings | None = None

    def transport_options(self, partner: str) -> DropOptions:
        """The default drop options overlaid with the keys this partner sets itself."""
        return merge(self.transport_default, self.transport_partners.get(partner, {}))


def default_operator_path(partnership: Path | str) -> Path:
    """``operator.yaml`` in the partnership file's folder."""
    return Path(partnership).resolve().parent / OPERATOR_FILE


def load_operator(path: Path | str | None, partnership: Path | str | None = None) -> OperatorConfig:
    """Read the operator file; without a path, ``operator.yaml`` beside the partnership
    file if there is one, else no settings (local drops, alerts as files only)."""
    if path is None:
        if partnership is None:
            return OperatorConfig()
        path = default_operator_path(partnership)
        if not path.exists():
            return OperatorConfig()
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except FileNotFoundError:
        raise OperatorError(f"{path}: operator file not found") from None
    except yaml.YAMLError as exc:
        raise OperatorError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise OperatorError(f"{path}: expected a mapping with transport: and/or alerts:")
    unknown = set(data) - {"transport", "alerts"}
    if unknown:
        raise OperatorError(f"{path}: unknown keys {sorted(unknown)}; expected transport, alerts")
    transport = _mapping(data.get("transport"), f"{path}: transport")
    unknown = set(transport) - {"default", "partners"}
    if unknown:
        raise OperatorError(
            f"{path}: transport: unknown keys {sorted(unknown)}; expected default, partners"
        )
    default = _options(transport.get("default"), f"{path}: transport.default")
    partners = {
        str(name): _own_options(opts, f"{path}: transport.partners.{name}")
        for name, opts in _mapping(transport.get("partners"), f"{path}: transport.partners").items()
    }
    alerts = _mapping(data.get("alerts"), f"{path}: alerts")
    unknown = set(alerts) - {"webhook_url_env", "webhook_url_file", "mail"}
    if unknown:
        raise OperatorError(
            f"{path}: alerts: unknown keys {sorted(unknown)}; expected webhook_url_env, "
            "webhook_url_file, mail (a webhook URL holds a token: give it by env or file)"
        )
    return OperatorConfig(
        source=str(path),
        transport_default=default,
        transport_partners=partners,
        webhook_url_env=alerts.get("webhook_url_env"),
        webhook_url_file=alerts.get("webhook_url_file"),
        mail=_mail(alerts.get("mail"), f"{path}: alerts.mail"),
    )


def secret(env: str | None, file: str | None, what: str) -> str | None:
    """A secret from an environment variable or a file; None if neither is configured."""
    try:
        return drops.secret(env, file, what)
    except DropError as exc:
        raise OperatorError(str(exc)) from None


def _mapping(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise OperatorError(f"{where}: expected a mapping, got {type(raw).__name__}")
    return raw


def _options(raw: Any, where: str) -> DropOptions:
    try:
        return drops.parse_options(raw, where)
    except DropError as exc:
        raise OperatorError(str(exc)) from None


def _own_options(raw: Any, where: str) -> dict[str, Any]:
    """A partner's own keys only (checked), to overlay on the default."""
    _options(raw, where)
    return dict(raw or {})


def _mail(raw: Any, where: str) -> MailSettings | None:
    if raw is None:
        return None
    mail = _mapping(raw, where)
    for key in ("host", "from", "to"):
        if key not in mail:
            raise OperatorError(f"{where}: {key} is required")
    if "password" in mail:
        raise OperatorError(f"{where}: use password_env or password_file, not password")
    to = mail["to"]
    return MailSettings(
        host=str(mail["host"]),
        port=int(mail.get("port", 587)),
        sender=str(mail["from"]),
        to=tuple([to] if isinstance(to, str) else to),
        starttls=bool(mail.get("starttls", True)),
        user=mail.get("user"),
        password_env=mail.get("password_env"),
        password_file=mail.get("password_file"),
    )
