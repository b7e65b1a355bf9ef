"""Real captured replies used as templates (see data/SOURCES.md for each file's origin)."""

from __future__ import annotations

import copy
import functools
import json
from importlib import resources
from typing import Any


@functools.cache
def _load(name: str) -> dict[str, Any]:
    text = resources.files("rigwatch.sim").joinpath("data", name).read_text(encoding="utf-8")
    data = json.loads(text)
    if not isinstance(data, dict):
        raise TypeError(f"template {name} is not a JSON object")
    return data


def template(name: str) -> dict[str, Any]:
    """A private deep copy of a template, safe to edit."""
    return copy.deepcopy(_load(name))
