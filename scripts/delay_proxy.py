"""A delaying HTTP front for moto or the local Stripe, for benchmarks only.

Holds every request DELAY_MS before forwarding it unchanged, and keeps the client's connection
open (as moto itself does, see moto_serialized.py). `scripts/bench --upstream-delay MS` puts it
in front of moto: an upstream slower by a known amount, to see what waiting alone does to a
function's CPU per call (docs/benchmarks.md, "Every function"). `scripts/bench-payouts` puts
it in front of the local Stripe, which answers far faster than Stripe does.

Usage: python scripts/delay_proxy.py LISTEN_PORT UPSTREAM_PORT DELAY_MS
"""
import asyncio
import sys

from aiohttp import ClientSession, ClientTimeout, TCPConnector, web
from multidict import CIMultiDict

# Hop-by-hop headers, and the length, which aiohttp sets itself for the body it sends.
HOP = {"connection", "keep-alive", "proxy-connection", "transfer-encoding", "upgrade", "te", "trailer", "content-length"}


async def app(upstream: int, delay: float) -> web.Application:
    session = ClientSession(connector=TCPConnector(force_close=True), auto_decompress=False, timeout=ClientTimeout(total=120),
                            skip_auto_headers=("User-Agent", "Accept-Encoding", "Accept", "Content-Type"))

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        await asyncio.sleep(delay)
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
    listen, upstream, delay_ms = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    web.run_app(app(upstream, delay_ms / 1000), host="127.0.0.1", port=listen, access_log=None, print=None)
