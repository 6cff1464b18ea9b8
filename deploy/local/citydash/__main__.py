"""python -m citydash --bootstrap HOST:PORT --port P [--state FILE] [--host H]

Without --state the figures live in a temporary file removed at exit; with it, a restarted
dashboard goes on where it was (the event ids it applied are in the file)."""
from __future__ import annotations

import argparse
import logging
import os
import tempfile
from pathlib import Path

import uvicorn

from citydash.contracts import load
from citydash.feed import GROUP, Feed
from citydash.store import Store
from citydash.web import create_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m citydash", description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True, help="the broker, HOST:PORT")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--state", type=Path, help="the SQLite file of the figures and the event ids applied")
    parser.add_argument("--group", default=GROUP, help="the consumer group (default citydash)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("CITYDASH_LOG_LEVEL", "INFO"),
                        format="%(asctime)s citydash %(levelname)s %(message)s")
    logging.getLogger("aiokafka").setLevel(logging.ERROR)  # a broker away is reported once by the feed
    with tempfile.TemporaryDirectory(prefix="citydash-") as scratch:
        store = Store(args.state or Path(scratch) / "citydash.sqlite3")
        feed = Feed(args.bootstrap, store, load(), group=args.group)
        uvicorn.run(create_app(store, feed), host=args.host, port=args.port, log_config=None, access_log=False)
        store.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
