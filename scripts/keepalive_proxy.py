"""A keep-alive HTTP front for moto, for benchmarks only.

moto's server (werkzeug) answers every request with `Connection: close`, whatever the protocol
version, so every AWS SDK call made against it opens a new TCP connection and resolves the
endpoint first. AWS's endpoints keep connections alive, and the SDK reuses them. This proxy
keeps the client's connections open and forwards each request to moto unchanged. The proxy
pays the reconnects, the measured function does not. `scripts/bench --keep-alive` puts it in
front of moto.

PROXY_DELAY_MS=N holds every request N ms before forwarding it: an upstream slower by a known
amount, to see what waiting alone does to the function's CPU per call (README, Benchmarks).

Usage: [PROXY_DELAY_MS=N] python scripts/keepalive_proxy.py LISTEN_PORT MOTO_PORT
"""
import asyncio
import os
import sys

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from multidict import CIMultiDict

# Hop-by-hop headers, and the length, which aiohttp sets itself for the body it sends.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "content-length"}


DELAY = float(os.environ.get("PROXY_DELAY_MS", "0")) / 1000


async def app(upstream: int) -> web.Application:
    session = ClientSession(connector=TCPConnector(force_close=True), auto_decompress=False, timeout=ClientTimeout(total=120),
                            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        if DELAY:
            await asyncio.sleep(DELAY)
        headers = CIMultiDict((k, v) for k, v in request.headers.items() if k.lower() not in HOP)
        async with session.request(request.method, f"http://127.0.0.1:{upstream}{request.raw_path}", headers=headers,
                                   data=body, allow_redirects=False) as r:
            data = await r.read()
            out = CIMultiDict((k, v) for k, v in r.headers.items() if k.lower() not in HOP)
            return web.Response(status=r.status, body=data, headers=out)

    application = web.Application(client_max_size=64 * 1024 * 1024)
    application.router.add_route("*", "/{tail:.*}", forward)
    return application


if __name__ == "__main__":
    listen, moto = int(sys.argv[1]), int(sys.argv[2])
    web.run_app(app(moto), host="127.0.0.1", port=listen, access_log=None, print=None)
