"""A real SMTP server for the mail tests and the mail benchmark (Debian's python3-aiosmtpd).

    /usr/bin/python3 tests/api/smtp_server.py PORT OUTPUT_DIR [accept|451|550]

PORT 0 lets the kernel pick one. The port it listens on is the first line of stdout, so the
caller can read it before sending. Every message accepted is written to OUTPUT_DIR as one file
holding its raw bytes, through a hidden temporary file renamed into place, so a reader never
sees half a message. Mode 451 answers every DATA with a temporary failure, 550 with a
permanent one, and writes nothing. It runs until it is killed.
"""

import asyncio
import itertools
import os
import sys

from aiosmtpd.smtp import SMTP

REPLIES = {
    "accept": None,
    "451": "451 4.3.0 Mailbox temporarily unavailable, try again later",
    "550": "550 5.7.1 Delivery refused: no such mailbox here",
}


class Handler:
    """Keeps or refuses each message according to the mode."""

    def __init__(self, out_dir, mode):
        self.out_dir = out_dir
        self.refusal = REPLIES[mode]
        # A name of our own for each file: the pid keeps two servers on one folder apart.
        self.names = (f"{os.getpid()}-{n:08d}" for n in itertools.count())

    async def handle_DATA(self, server, session, envelope):
        if self.refusal is not None:
            return self.refusal
        name = next(self.names)
        temp = os.path.join(self.out_dir, f".{name}.tmp")
        with open(temp, "wb") as f:
            f.write(envelope.original_content)
        os.rename(temp, os.path.join(self.out_dir, f"{name}.eml"))
        return "250 2.0.0 Message accepted"


async def serve(port, out_dir, mode):
    handler = Handler(out_dir, mode)
    loop = asyncio.get_running_loop()
    # decode_data=False keeps the bytes as the client sent them (original_content).
    server = await loop.create_server(
        lambda: SMTP(handler, hostname="smtp.test.invalid", decode_data=False, data_size_limit=None),
        host="127.0.0.1",
        port=port,
        reuse_address=True,
    )
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(f"usage: {sys.argv[0]} PORT OUTPUT_DIR [accept|451|550]")
    port, out_dir = int(sys.argv[1]), sys.argv[2]
    mode = sys.argv[3] if len(sys.argv) == 4 else "accept"
    if mode not in REPLIES:
        sys.exit(f"unknown mode {mode!r}: accept, 451 or 550")
    os.makedirs(out_dir, exist_ok=True)
    asyncio.run(serve(port, out_dir, mode))


if __name__ == "__main__":
    main()
