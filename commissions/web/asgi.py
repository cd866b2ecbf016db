"""ASGI entry point for servers: ``granian --interface asgi commissions.web.asgi:app`` (what ``commissions run`` does).

``X-Forwarded-For``/``-Proto`` are believed only from ``FORWARDED_ALLOW_IPS`` (default
127.0.0.1, a proxy on the same host): the sign-in limits and the audit log need the real
client's address, and nobody else may choose it.
"""

from granian.utils.proxies import wrap_asgi_with_proxy_headers

from commissions.settings import get_settings
from commissions.web.app import create_app

app = wrap_asgi_with_proxy_headers(create_app(), trusted_hosts=get_settings().forwarded_allow_ips)
