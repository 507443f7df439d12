"""Rebuild data/rates/btc_usd_daily.csv from the public rate files (see data/rates/README.md):
the CoinDesk BPI close up to the day before the daily-close series starts, then the daily close."""

from __future__ import annotations

import pandas as pd

from pipeline.core.config import PROJECT_ROOT, public_data_root


def main() -> None:
    root = public_data_root()
    if root is None:
        raise SystemExit("public data absent: set CRYPTODRUG_PUBLIC_DATA")
    bpi = pd.read_csv(root / "rates" / "btc-usd-coindesk-bpi-2010-2016.csv")
    bpi.columns = ["date", "close"]
    bpi["date"] = pd.to_datetime(bpi["date"], errors="coerce")
    bpi = bpi.dropna().assign(date=lambda d: d["date"].dt.strftime("%Y-%m-%d"))
    daily = pd.read_csv(root / "rates" / "btc-usd-daily-2014-2024.csv")[["Date", "Close"]].dropna()
    daily.columns = ["date", "close"]
    table = pd.concat([bpi[bpi["date"] < daily["date"].min()], daily]).sort_values("date")
    table["btc_usd"] = table["close"].astype(float).round(2)
    out = PROJECT_ROOT / "data" / "rates" / "btc_usd_daily.csv"
    table[["date", "btc_usd"]].to_csv(out, index=False)
    print(f"{len(table)} days -> {out}")


if __name__ == "__main__":
    main()
