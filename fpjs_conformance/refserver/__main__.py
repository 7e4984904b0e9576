"""`fpjs-refserver`: the reference server standalone, e.g. as a mock for SDK tests.

Serves every API version the suite knows, from one event store (see the routes in --help).
Every setting has an environment-variable fallback so that keys need not appear in argv.
"""

from __future__ import annotations

import argparse
import os

from fpjs_conformance import profile as profiles
from fpjs_conformance.refserver.app import ReferenceServer, Settings
from fpjs_conformance.refserver.serve import serve

# option -> (environment variable, Settings attribute, help)
SETTINGS = {
    "--api-key": ("FPJS_REF_API_KEY", "api_key", "the secret key that authenticates"),
    "--wrong-region-api-key": ("FPJS_REF_WRONG_REGION_API_KEY", None, "a key answered 403 with the wrong-region code"),
    "--request-id": ("FPJS_REF_REQUEST_ID", "request_id", "a fresh event, updatable under every version"),
    "--older-request-id": (
        "FPJS_REF_OLDER_REQUEST_ID",
        "older_request_id",
        "an event between the two shortest update windows (more: .older2, ...)",
    ),
    "--expired-request-id": ("FPJS_REF_EXPIRED_REQUEST_ID", "expired_request_id", "an event 40 days old"),
    "--not-ready-request-id": ("FPJS_REF_NOT_READY_REQUEST_ID", "not_ready_request_id", "an event that is not ready"),
    "--foreign-api-key": ("FPJS_REF_FOREIGN_API_KEY", "foreign_api_key", "the secret key of another workspace"),
    "--foreign-request-id": ("FPJS_REF_FOREIGN_REQUEST_ID", "foreign_request_id", "an event of that workspace"),
}


def _routes() -> str:
    lines = []
    for version in profiles.versions():
        p = profiles.load(version)
        lines.append(f"  {version}: {p.update_method} and {p.read_back_method} {p.server_path}{p.update_path}")
        lines.append(f"      key: {', '.join(place.describe() for place in p.key_places)}")
        lines.append(f"      updates refused past {p.update_window_days} days")
    return "\n".join(lines)


def parse_settings(argv: list[str] | None = None) -> tuple[argparse.Namespace, Settings]:
    d = Settings()
    p = argparse.ArgumentParser(
        prog="fpjs-refserver",
        description=__doc__,
        epilog="routes:\n" + _routes() + "\n\nprints `READY <url>` once it accepts connections",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--host", default="127.0.0.1", help="default: %(default)s")
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("FPJS_REF_PORT", "8080")),
        help="0 picks a free port (printed on the READY line) [env FPJS_REF_PORT; default: %(default)s]",
    )
    for flag, (env, attr, text) in SETTINGS.items():
        default = d.wrong_region_api_keys[0] if attr is None else getattr(d, attr)
        p.add_argument(flag, default=os.environ.get(env) or default, help=f"{text} [env {env}; default: {default}]")
    p.add_argument(
        "--not-ready-updates",
        type=int,
        default=d.not_ready_updates,
        help="how many updates of the not-ready event answer 409 not-ready (default: %(default)s)",
    )
    p.add_argument("--ssl-certfile", help="serve HTTPS with this certificate chain (PEM)")
    p.add_argument("--ssl-keyfile", help="the certificate's private key (PEM)")
    args = p.parse_args(argv)
    settings = Settings(
        api_key=args.api_key,
        wrong_region_api_keys=(args.wrong_region_api_key,),
        request_id=args.request_id,
        older_request_id=args.older_request_id,
        expired_request_id=args.expired_request_id,
        not_ready_request_id=args.not_ready_request_id,
        not_ready_updates=args.not_ready_updates,
        foreign_api_key=args.foreign_api_key,
        foreign_request_id=args.foreign_request_id,
    )
    return args, settings


def main(argv: list[str] | None = None, server_class: type[ReferenceServer] = ReferenceServer) -> None:
    args, settings = parse_settings(argv)
    serve(server_class(settings).app(), args.host, args.port, args.ssl_certfile, args.ssl_keyfile)


if __name__ == "__main__":
    main()
