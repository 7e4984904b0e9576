"""`fpjs-refserver`: run the reference server standalone, e.g. as a mock for SDK tests.

Every setting has an environment-variable fallback so that keys need not appear in argv.
"""

from __future__ import annotations

import argparse
import os

from refserver.app import ReferenceServer, Settings
from refserver.serve import serve


def parse_settings(argv: list[str] | None = None) -> tuple[argparse.Namespace, Settings]:
    d = Settings()
    p = argparse.ArgumentParser(prog="fpjs-refserver", description=__doc__)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("FPJS_REF_PORT", "8080")),
        help="0 picks a free port (printed on the READY line)",
    )
    p.add_argument("--api-key", default=os.environ.get("FPJS_REF_API_KEY", d.api_key))
    p.add_argument(
        "--wrong-region-api-key", default=os.environ.get("FPJS_REF_WRONG_REGION_API_KEY", d.wrong_region_api_keys[0])
    )
    p.add_argument("--request-id", default=os.environ.get("FPJS_REF_REQUEST_ID", d.request_id))
    p.add_argument("--expired-request-id", default=os.environ.get("FPJS_REF_EXPIRED_REQUEST_ID", d.expired_request_id))
    p.add_argument(
        "--not-ready-request-id", default=os.environ.get("FPJS_REF_NOT_READY_REQUEST_ID", d.not_ready_request_id)
    )
    p.add_argument(
        "--not-ready-updates",
        type=int,
        default=d.not_ready_updates,
        help="how many updates of the not-ready event answer 409 StateNotReady",
    )
    p.add_argument("--ssl-certfile")
    p.add_argument("--ssl-keyfile")
    args = p.parse_args(argv)
    settings = Settings(
        api_key=args.api_key,
        wrong_region_api_keys=(args.wrong_region_api_key,),
        request_id=args.request_id,
        expired_request_id=args.expired_request_id,
        not_ready_request_id=args.not_ready_request_id,
        not_ready_updates=args.not_ready_updates,
    )
    return args, settings


def main(argv: list[str] | None = None, server_class: type[ReferenceServer] = ReferenceServer) -> None:
    args, settings = parse_settings(argv)
    serve(server_class(settings).app(), args.host, args.port, args.ssl_certfile, args.ssl_keyfile)


if __name__ == "__main__":
    main()
