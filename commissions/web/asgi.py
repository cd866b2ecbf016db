"""ASGI entry point for servers: ``uvicorn commissions.web.asgi:app``."""

from commissions.web.app import create_app

app = create_app()
