"""The monitor stage: listing lifecycles, vendor activity and market series from the
ingested listings of several snapshots of a market (`cryptodrug monitor`)."""
