#!/usr/bin/python3
"""A real SMTP server for the notify tests: aiosmtpd's Controller on 127.0.0.1 (Debian python3-aiosmtpd).

Usage: smtp_server.py OUTDIR [--cert PEM --key PEM] [--user U --password P]

- With --cert/--key: STARTTLS is offered and REQUIRED before MAIL FROM (require_starttls).
- With --user/--password: AUTH (PLAIN/LOGIN) is required, and only after STARTTLS.
- RCPT TO busy@... is refused with 450 (temporary), nobody@... with 550 (permanent).
- Each accepted message N is written to OUTDIR/N.eml (the bytes as received) and OUTDIR/N.json:
  {"mail_from", "rcpt_tos", "tls", "login", "headers": {name: decoded value}, "raw_headers": {...},
   "content_type", "charset", "cte", "body"} — decoded by Python's email package, an independent reader.
Prints "PORT <n>" on stdout once it accepts connections, then serves until stdin is closed.
"""
import argparse
import email
import email.policy
import json
import os
import socket
import ssl
import sys

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class Handler:
    def __init__(self, outdir):
        self.outdir = outdir
        self.count = 0

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("busy@"):
            return "450 4.2.1 mailbox busy, try again later"
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        raw = envelope.original_content or envelope.content
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        parsed = email.message_from_bytes(raw, policy=email.policy.default)
        raw_msg = email.message_from_bytes(raw, policy=email.policy.compat32)
        login = None
        if session.auth_data is not None and isinstance(session.auth_data, LoginPassword):
            login = session.auth_data.login.decode()
        info = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None,
            "login": login,
            "headers": {k: str(v) for k, v in parsed.items()},
            "raw_headers": {k: v for k, v in raw_msg.items()},
            "content_type": parsed.get_content_type(),
            "charset": parsed.get_content_charset(),
            "cte": parsed.get("Content-Transfer-Encoding"),
            "body": parsed.get_content(),
        }
        tmp = base + ".json.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump(info, f, ensure_ascii=False)
        os.rename(tmp, base + ".json")
        return "250 Message accepted for delivery"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("outdir")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--user")
    p.add_argument("--password")
    a = p.parse_args()

    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs.update(tls_context=ctx, require_starttls=True)
    if a.user:
        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = (isinstance(auth_data, LoginPassword) and auth_data.login.decode() == a.user
                  and auth_data.password.decode() == a.password)
            # handled=False: aiosmtpd itself answers 535 (the default leaves the client waiting).
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
        kwargs.update(authenticator=authenticator, auth_required=True, auth_require_tls=bool(a.cert))

    # A free port: bind to 0, read it, release it (the window is tiny and only on loopback).
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    controller = Controller(Handler(a.outdir), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    print(f"PORT {port}", flush=True)
    try:
        sys.stdin.read()  # until the test closes our stdin
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
