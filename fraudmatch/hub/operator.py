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
  partners:
    northmoor: {host: sftp.northmoor.example, port: 2222}
alerts:
  webhook_url_env: FRAUDMATCH_ALERT_WEBHOOK     # POST a JSON alert when a cycle fails
  mail: {host: smtp.example, port: 587, from: hub@example, to: [ops@example],
         user: hub, password_env: FRAUDMATCH_SMTP_PASSWORD}
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

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

_TRANSPORT_KEYS = {
    "host",
    "port",
    "user",
    "key_file",
    "known_hosts",
    "strict_host_key_checking",
    "password_env",
    "password_file",
    "timeout",
    # S3 and other fsspec back ends
    "endpoint_url",
    "key_env",
    "secret_env",
    "key_id_file",
    "secret_file",
    "region",
}


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
    transport_default: Mapping[str, Any] = field(default_factory=dict)
    transport_partners: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    webhook_url_env: str | None = None
    webhook_url_file: str | None = None
    mail: MailSettings | None = None

    def transport_options(self, partner: str) -> dict[str, Any]:
        """The default options overlaid with this partner's own."""
        return {**self.transport_default, **self.transport_partners.get(partner, {})}


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
    default = _options(transport.get("default"), f"{path}: transport.default")
    partners = {
        str(name): _options(opts, f"{path}: transport.partners.{name}")
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
    if env:
        value = os.environ.get(env)
        if not value:
            raise OperatorError(f"{what}: environment variable {env} is not set")
        return value
    if file:
        try:
            return Path(file).read_text().strip()
        except OSError as exc:
            raise OperatorError(f"{what}: cannot read {file}: {exc.strerror}") from None
    return None


def _mapping(raw: Any, where: str) -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise OperatorError(f"{where}: expected a mapping, got {type(raw).__name__}")
    return raw


def _options(raw: Any, where: str) -> dict[str, Any]:
    options = _mapping(raw, where)
    unknown = set(options) - _TRANSPORT_KEYS
    if "password" in options or "secret" in options:
        raise OperatorError(
            f"{where}: a password is never written in a file; use password_env or "
            "password_file (or a key_file)"
        )
    if unknown:
        raise OperatorError(
            f"{where}: unknown keys {sorted(unknown)}; expected {sorted(_TRANSPORT_KEYS)}"
        )
    if "port" in options and not isinstance(options["port"], int):
        raise OperatorError(f"{where}: port: expected a number, got {options['port']!r}")
    return dict(options)


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
