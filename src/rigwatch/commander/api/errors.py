"""Validation errors in one shape: 422 with every offending field named."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException
from pydantic import ValidationError


def field_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(err["loc"]), "msg": err["msg"], "type": err["type"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def unprocessable(exc: ValidationError) -> HTTPException:
    errors = field_errors(exc)
    summary = "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in errors[:10]
    )
    return HTTPException(422, {"message": summary, "errors": errors})
