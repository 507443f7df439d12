"""A recording SOCKS5 proxy on 127.0.0.1 for the proxy-only test.

It stands in for Tor: it accepts CONNECT by host name (ATYP 3, what `socks5h` means: the
name is resolved by the proxy), records every (address type, host, port) it is asked for,
and connects every name to the fixture market, so `.onion` names that could never resolve
locally reach the fixture only through it.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field


@dataclass
class RecordingSocks5:
    target: tuple[str, int]
    connections: list[tuple[int, str, int]] = field(default_factory=list)
    port: int = 0

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version, n_methods = await reader.readexactly(2)
        await reader.readexactly(n_methods)
        writer.write(b"\x05\x00")
        _, command, _, atyp = await reader.readexactly(4)
        if atyp == 3:
            host = (await reader.readexactly((await reader.readexactly(1))[0])).decode()
        else:
            raw = await reader.readexactly(4 if atyp == 1 else 16)
            host = raw.hex()
        port = int.from_bytes(await reader.readexactly(2), "big")
        self.connections.append((atyp, host, port))
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        writer.write(b"\x05\x00\x00\x01" + bytes(4) + bytes(2))
        await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))

    def start(self) -> RecordingSocks5:
        loop = asyncio.new_event_loop()
        threading.Thread(target=loop.run_forever, daemon=True).start()
        server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._client, "127.0.0.1", 0), loop).result(10)
        self.port = server.sockets[0].getsockname()[1]
        return self
