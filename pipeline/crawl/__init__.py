"""The crawl stage: a market's pages into dated gzip WARC snapshots (`cryptodrug crawl`),
on Scrapy, through a proxy (Tor), resumable after any stop."""
