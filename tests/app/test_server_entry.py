"""The entry point servers load (commissions/app/asgi.py): the real client's address behind a proxy.

The address feeds the per-address sign-in limit and the audit log, so ``X-Forwarded-For``
counts only from a trusted proxy (``FORWARDED_ALLOW_IPS``, default 127.0.0.1). Run in a
subprocess: the module builds its app from the environment when it is imported.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent("""
    import asyncio, json, os
    import httpx
    from sqlalchemy import create_engine, text
    from commissions.core.migrate import upgrade

    upgrade(url=os.environ["DATABASE_URL"])
    from commissions.app import asgi

    async def fail_sign_in(client_host: str, forwarded_for: str) -> None:
        transport = httpx.ASGITransport(app=asgi.app, client=(client_host, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            await http.get("/login")
            await http.post("/login", data={"email": "nobody@example.com", "password": "wrong",
                                            "_csrf_token": http.cookies["csrftoken"]},
                            headers={"X-Forwarded-For": forwarded_for})

    asyncio.run(fail_sign_in("127.0.0.1", "203.0.113.7"))   # the proxy on this host: believed
    asyncio.run(fail_sign_in("198.51.100.9", "203.0.113.8"))  # anyone else: their own address counts
    with create_engine(os.environ["DATABASE_URL"]).connect() as conn:
        rows = conn.execute(text("SELECT ip FROM audit_event WHERE action = 'auth.sign_in_failed' ORDER BY id"))
        print(json.dumps([r[0] for r in rows]))
""")


def _recorded_addresses(tmp_path: Path, **env: str) -> list[str]:
    inherited = {k: v for k, v in os.environ.items() if k != "FORWARDED_ALLOW_IPS"}
    environment = {
        **inherited,
        "ENVIRONMENT": "test",
        "DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'entry.db'}",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_forwarded_for_is_believed_from_the_local_proxy_only(tmp_path: Path) -> None:
    assert _recorded_addresses(tmp_path) == ["203.0.113.7", "198.51.100.9"]


def test_forwarded_allow_ips_names_the_trusted_proxies(tmp_path: Path) -> None:
    assert _recorded_addresses(tmp_path, FORWARDED_ALLOW_IPS="198.51.100.0/24") == ["127.0.0.1", "203.0.113.8"]
