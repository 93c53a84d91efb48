"""What fraudmatch ships: the standard data specification, an example partnership, the rules.

They are package data, found through :mod:`importlib.resources`, so an installed wheel has
them as well as a checkout. A partnership extends them (``spec:`` and ``rules:`` in its
partnership file) rather than editing them.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["SHIPPED", "shipped_path", "shipped_rules_dir", "shipped_spec_path"]

#: The word that stands for the shipped rules or specification in a partnership file.
SHIPPED = "shipped"


def shipped_path(*parts: str) -> Path:
    """A file or folder shipped inside the package, as a real path.

    fraudmatch is installed as files (wheels unpack; it is never run from a zip), so the
    resource is a real :class:`~pathlib.Path` that rules and specifications can glob.
    """
    resource = files(__name__).joinpath(*parts)
    path = Path(str(resource))
    if not path.exists():
        raise FileNotFoundError(f"{path}: missing from this fraudmatch installation")
    return path


def shipped_spec_path() -> Path:
    """The standard data specification (``datasets.yaml``)."""
    return shipped_path("config", "datasets.yaml")


def shipped_rules_dir() -> Path:
    """The folder of shipped match rules."""
    return shipped_path("rules")
