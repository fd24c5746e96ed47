"""Many simultaneous tunnels."""

import hashlib
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

from conftest import connect_via, exchange, recv_until_eof

N_TUNNELS = 200
PAYLOAD = 32 * 1024


def payload_for(i):
    seed = hashlib.sha256(b"tunnel-%d" % i).digest()
    return (seed * (PAYLOAD // len(seed) + 1))[:PAYLOAD]


def test_200_concurrent_tunnels(proxy, echo_origin):
    barrier = threading.Barrier(N_TUNNELS)
    ports = [None] * N_TUNNELS

    def one(i):
        sock = None
        try:
            sock, status, leftover = connect_via(proxy, echo_origin.target, timeout=30)
            ports[i] = sock.getsockname()[1]
            assert status == 200, status
            assert leftover == b""
            # all tunnels are open at the same time before any data flows
            barrier.wait(timeout=60)
            data = payload_for(i)
            got = exchange(sock, data, timeout=60)
            assert got == data, f"tunnel {i}: wrong data"
            sock.shutdown(socket.SHUT_WR)
            assert recv_until_eof(sock, timeout=30) == b""
            return None
        except BaseException as e:  # noqa: BLE001
            barrier.abort()
            return f"tunnel {i}: {type(e).__name__}: {e}"
        finally:
            if sock is not None:
                sock.close()

    with ThreadPoolExecutor(max_workers=N_TUNNELS) as ex:
        results = list(ex.map(one, range(N_TUNNELS), timeout=120))
    errors = [r for r in results if r]
    # BrokenBarrierError in the others is only a consequence of the first failure
    first = [e for e in errors if "BrokenBarrierError" not in e]
    assert not errors, f"{len(errors)} tunnels failed; first: {(first or errors)[:5]}"

    recs = echo_origin.wait_conns(N_TUNNELS)
    assert len(recs) == N_TUNNELS
    by_sha = {hashlib.sha256(payload_for(i)).hexdigest() for i in range(N_TUNNELS)}
    for r in recs:
        assert r.done.wait(10)
        assert r.received == PAYLOAD
        assert r.sha.hexdigest() in by_sha
    assert len({r.sha.hexdigest() for r in recs}) == N_TUNNELS

    port_set = {str(p) for p in ports}
    entries = proxy.wait_access(
        lambda e: e.client.rsplit(":", 1)[-1] in port_set, count=N_TUNNELS,
        what="access lines of the 200 tunnels")
    for e in entries:
        assert e.int("status") == 200, e
        assert e.int("up") == PAYLOAD and e.int("down") == PAYLOAD, e
        assert e.fields.get("end") == "done", e
