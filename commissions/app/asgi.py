"""ASGI entry point for servers: ``granian --interface asgi commissions.app.asgi:app`` (what ``commissions run`` does).

``X-Forwarded-For``/``-Proto`` are believed only from ``FORWARDED_ALLOW_IPS`` (default
127.0.0.1, a proxy on the same host): the sign-in limits and the audit log need the real
client's address, and nobody else may choose it.

Request handlers run in a thread pool of ``REQUEST_THREADS`` threads (default 64).
"""

from concurrent.futures import ThreadPoolExecutor

from granian.utils.proxies import wrap_asgi_with_proxy_headers
from litestar.concurrency import set_asyncio_executor

from commissions.app.assembly import create_app
from commissions.core.settings import get_settings

# Synchronous handlers run in this pool (settings.request_threads says why it is not the loop's default).
set_asyncio_executor(ThreadPoolExecutor(max_workers=get_settings().request_threads, thread_name_prefix="request"))
app = wrap_asgi_with_proxy_headers(create_app(), trusted_hosts=get_settings().forwarded_allow_ips)
