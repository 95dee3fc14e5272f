"""SES's sent mail as the local stack reads it back (decision 0045).

moto's SES keeps each message it accepted (after checking the sender's identity is verified)
but shows them only inside `/moto-api/data.json`, beside every model of every service: far too
much to poll. This WSGI middleware answers `GET /_local_ses/messages?region=R` with the raw
messages sent in the region, oldest first: `id`, `source`, `destinations` (each once), and
`raw_data` (the whole RFC 5322 message). The local runner decodes them at `GET /_local/emails`.
"""
import json
import urllib.parse

PATH = "/_local_ses/messages"


class SesOutbox:
    def __init__(self, app, account: str = "123456789012"):
        self.app, self.account = app, account

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == PATH and environ.get("REQUEST_METHOD") == "GET":
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            body = json.dumps(sent(self.account, query.get("region", ["us-east-1"])[0])).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        return self.app(environ, start_response)


def sent(account: str, region: str) -> list:
    from moto.ses.models import ses_backends

    backend = ses_backends[account][region]
    return [
        {
            "id": m.id,
            "source": m.source,
            "destinations": list(dict.fromkeys(m.destinations)),
            "raw_data": m.raw_data,
        }
        for m in backend.sent_messages
        if hasattr(m, "raw_data")
    ]
