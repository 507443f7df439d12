"""`python -m fixture_market --port 8765 [--day 1]` (from tests/): serve the fixture market."""

from __future__ import annotations

import argparse
import time

from fixture_market import FixtureMarket, serve

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--port", type=int, default=8765)
parser.add_argument("--day", type=int, default=0)
parser.add_argument("--listings", type=int, default=120)
args = parser.parse_args()
server, url = serve(FixtureMarket(n_listings=args.listings, day=args.day), args.port)
print(f"fixture market on {url} (Ctrl-C stops it)", flush=True)
try:
    while True:
        time.sleep(3600)
except KeyboardInterrupt:
    server.shutdown()
