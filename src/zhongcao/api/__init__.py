"""The HTTP API (FastAPI, ``/v1``, OpenAPI at ``/openapi.json``)."""

from zhongcao.api.app import create_app

__all__ = ["create_app"]
