#!/usr/bin/python3
"""A silent sink origin for the idle-tunnel scenario of bench/bench.py.

  sink.py [PORT]        # PORT 0 or none: the kernel picks one

Listens on 127.0.0.1 only, accepts every connection and holds it: it never
writes a byte, reads and discards whatever arrives, and closes its end only
when the peer closes (or on SIGTERM/SIGINT, when it exits). nginx would
time such connections out or answer them; this holds 10,000+ of them
without a sound, so a proxy's tunnels to it stay open and idle.

Prints `listening on 127.0.0.1:PORT` on stdout once ready. Needs a file
limit above the number of connections (bench.py raises RLIMIT_NOFILE for
its children). Standard library only; run with /usr/bin/python3.
"""
import selectors
import signal
import socket
import sys


def main() -> int:
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", port))
    lsock.listen(4096)
    lsock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(lsock, selectors.EVENT_READ)
    print(f"listening on 127.0.0.1:{lsock.getsockname()[1]}", flush=True)

    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            if sock is lsock:
                # Accept what is queued, a bounded batch at a time.
                for _ in range(512):
                    try:
                        conn, _addr = lsock.accept()
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError as e:  # EMFILE and the like: say so, go on
                        print(f"sink: accept: {e}", file=sys.stderr, flush=True)
                        break
                    conn.setblocking(False)
                    sel.register(conn, selectors.EVENT_READ)
                continue
            try:
                data = sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError:
                data = b""
            if not data:  # the peer closed (or reset): close ours
                sel.unregister(sock)
                sock.close()


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(0)
