"""The kernel splice: a toxic-free connection between two local processes skips the proxy.

A proxied connection has four sockets: the client's (C), the proxy's two (A, accepted
from C; B, connected to the upstream) and the upstream server's (P). Relayed in user
space, each byte crosses twice: C -> A, a wake-up of the proxy, B -> P. Spliced, C's
``send()`` puts its bytes straight on B's send path, in C's own system call, and P's
on A's: the proxy is neither woken nor paid, and a query costs about what it costs
without a proxy (issue #16; docs/toxiproxy.md has the figures).

How, with two BPF programs (no compiler: they are assembled below, with their C):

* a ``sock_ops`` program, attached to the root of the cgroup v2 hierarchy through a
  BPF link (so it goes when this process goes, however it goes), sees every TCP
  connection of the machine being established. It takes those whose far end is one
  of our listening proxies (that is C), and those whose far end is one of our upstream
  sockets (that is P: B, tagged by its ``SO_PRIORITY``, is established just before P
  and the program notes its address then). It puts the socket in a ``SOCKHASH`` and
  starts its ``passed`` count at 0. A short connection costs nothing more in the proxy
  (one ``setsockopt``): the proxy splices a connection only once it has relayed
  ``PROMOTE_AFTER`` chunks, as it would hand it to relay threads;
* an ``sk_msg`` program on that ``SOCKHASH`` runs on each ``send()`` of C and P. It
  redirects the bytes to B (or A) when the direction is in kernel mode and every byte
  it ever passed to the proxy the proxy has written on (``passed == forwarded``), so
  that redirected bytes can only come after them: splicing never reorders a stream.
  Otherwise it passes them to their own socket, as if it were not there, and counts
  them.

The proxy keeps the say. Adding a toxic to a direction turns its kernel mode off, and
the next bytes go through the proxy and the toxic; when the last toxic is gone it is
turned back on, and the kernel takes over again once the proxy has written what it
held. A direction whose destination has more than ``CONGESTED`` bytes unsent (its
reader is slow) goes back to the proxy until the backlog is under ``UNCONGESTED``:
a redirected ``send()`` that finds the destination full fails with EAGAIN while the
sender's own socket polls writable, so a non-blocking sender would spin; through the
proxy it gets TCP's back-pressure again (the proxy's ``Proxy._guard`` checks every
``GUARD_INTERVAL``).

Linux only (kernel 5.7 or later for the BPF link), and only
where the process may use BPF and a cgroup v2 hierarchy is mounted: the local
environment's proxy runs as root on these machines. Elsewhere, or with
``DRILLBOOK_TOXIPROXY_SPLICE=0``, :func:`splicer` returns None and every byte is
relayed in user space, as before. Only IPv4 connections are spliced, and only
sockets of this machine: a remote client or upstream is relayed as usual.
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import fcntl
import logging
import mmap
import os
import socket
import struct
import sys
import threading
from pathlib import Path

from drillbook.harness.toxiproxy import bpf
from drillbook.harness.toxiproxy.bpf import (
    ADDI,
    BE,
    CALL,
    EXIT,
    FP,
    JA,
    JEQI,
    JNE,
    JNEI,
    LDXDW,
    LDXW,
    LSHI,
    MAP_DELETE_ELEM,
    MAP_LOOKUP_ELEM,
    MAP_UPDATE_ELEM,
    MOV,
    MOVI,
    MSG_REDIRECT_MAP,
    R0,
    R1,
    R2,
    R3,
    R4,
    R6,
    R7,
    R8,
    SOCK_HASH_UPDATE,
    SOCK_OPS_CB_FLAGS_SET,
    STXDW,
    STXW,
    XADDDW,
    insn,
    map_fd,
)

log = logging.getLogger("drillbook.toxiproxy")

ENV = "DRILLBOOK_TOXIPROXY_SPLICE"
#: Directions (one per destination socket) that may be spliced at once.
SLOTS = 8192
#: A direction's record, in an array the proxy maps into its memory: kernel mode (u32
#: at 0) and the bytes the proxy has written to the destination (u64 at 8).
RECORD = 16
MODE, FORWARDED = 0, 8
#: Unsent bytes on a destination above which its direction goes back to the proxy, and
#: below which it may come back to the kernel.
CONGESTED = 256 * 1024
UNCONGESTED = 64 * 1024
#: How often a proxy with spliced connections checks their destinations' backlogs (s).
GUARD_INTERVAL = 0.01
#: ``SO_PRIORITY`` of a process's upstream sockets to this machine's loopback is this plus
#: its pid (mod 2**16): its sock_ops program knows them by it, and no other process's
#: program takes them (no qdisc acts on loopback's packets; only a process that may use
#: BPF, and so set any priority, splices).
PRIORITY_BASE = 0x64620000
#: ``ioctl`` for the bytes a socket holds and has not sent (Linux).
SIOCOUTQNSD = 0x894B

# sock_ops callbacks, and the context's fields (struct bpf_sock_ops, struct sk_msg_md).
_ACTIVE_ESTABLISHED, _PASSIVE_ESTABLISHED, _STATE_CB = 4, 5, 10
_STATE_CB_FLAG, _TCP_CLOSE, _OPS_NEW_STATE = 4, 7, 8
_OPS_OP, _OPS_FAMILY, _OPS_REMOTE_IP4, _OPS_LOCAL_IP4 = 0, 20, 24, 28
_OPS_REMOTE_PORT, _OPS_LOCAL_PORT, _OPS_SK = 64, 68, 184
_SOCK_PRIORITY = 20  # struct bpf_sock
_MSG_FAMILY, _MSG_REMOTE_IP4, _MSG_LOCAL_IP4 = 16, 20, 24
_MSG_REMOTE_PORT, _MSG_LOCAL_PORT, _MSG_SIZE = 60, 64, 68
_AF_INET = 2
_SK_PASS = 1


def sockops_program(listening: int, dialing: int, passed: int, slots: int, captured: int, tag: int) -> bytes:
    """Take the established connections whose far end is ours (the comments are its C)."""
    return bpf.assemble([
        insn(MOV, R6, R1),
        insn(LDXW, R1, R6, _OPS_FAMILY),
        (JNEI, R1, _AF_INET, "out"),                   # if (family != AF_INET) return 1
        insn(LDXW, R1, R6, _OPS_OP),
        (JEQI, R1, _STATE_CB, "state"),
        insn(LDXW, R1, R6, _OPS_REMOTE_IP4),
        insn(STXW, FP, R1, -8),
        insn(LDXW, R1, R6, _OPS_REMOTE_PORT),
        insn(STXW, FP, R1, -4),                        # far = {remote_ip4, remote_port}
        insn(LDXW, R1, R6, _OPS_OP),
        (JEQI, R1, _PASSIVE_ESTABLISHED, "passive"),
        (JNEI, R1, _ACTIVE_ESTABLISHED, "out"),
        # A client's socket, connected to one of our proxies?
        map_fd(R1, listening),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-8),
        insn(CALL, imm=MAP_LOOKUP_ELEM),
        (JNEI, R0, 0, "take"),                         # if (listening[far]) goto take
        insn(MOVI, R1, imm=0),
        insn(STXW, FP, R1, -8),
        map_fd(R1, listening),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-8),
        insn(CALL, imm=MAP_LOOKUP_ELEM),
        (JNEI, R0, 0, "take"),                         # a proxy listening on 0.0.0.0
        # A proxy's own upstream socket (tagged by its priority)? Note its address, by
        # which the upstream's end is known when it is established, just after.
        insn(LDXDW, R1, R6, _OPS_SK),
        (JEQI, R1, 0, "out"),
        insn(LDXW, R1, R1, _SOCK_PRIORITY),
        (JNEI, R1, tag, "out"),                        # if (ctx->sk->priority != TAG) return 1
        insn(LDXW, R1, R6, _OPS_LOCAL_IP4),
        insn(STXW, FP, R1, -8),
        insn(LDXW, R1, R6, _OPS_LOCAL_PORT),
        insn(BE, R1, imm=16),
        insn(LSHI, R1, imm=16),
        insn(STXW, FP, R1, -4),                        # near = {local_ip4, htons(local_port) << 16}
        insn(MOVI, R1, imm=1),
        insn(STXW, FP, R1, -12),
        map_fd(R1, dialing),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-8),
        insn(MOV, R3, FP), insn(ADDI, R3, imm=-12),
        insn(MOVI, R4, imm=bpf.ANY),
        insn(CALL, imm=MAP_UPDATE_ELEM),               # dialing[near] = 1
        (JEQI, R0, 0, "out"),
        "passive",
        # The upstream's end of a proxy's connection?
        map_fd(R1, dialing),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-8),
        insn(CALL, imm=MAP_LOOKUP_ELEM),
        (JEQI, R0, 0, "out"),                          # if (!dialing[far]) return 1
        map_fd(R1, dialing),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-8),
        insn(CALL, imm=MAP_DELETE_ELEM),               # delete dialing[far]: it has served
        "take",
        insn(LDXW, R1, R6, _OPS_LOCAL_IP4), insn(STXW, FP, R1, -24),
        insn(LDXW, R1, R6, _OPS_REMOTE_IP4), insn(STXW, FP, R1, -20),
        insn(LDXW, R1, R6, _OPS_LOCAL_PORT), insn(STXW, FP, R1, -16),
        insn(LDXW, R1, R6, _OPS_REMOTE_PORT), insn(STXW, FP, R1, -12),   # key = the 4-tuple
        insn(MOVI, R1, imm=0),
        insn(STXDW, FP, R1, -32),
        map_fd(R1, passed),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-24),
        insn(MOV, R3, FP), insn(ADDI, R3, imm=-32),
        insn(MOVI, R4, imm=bpf.ANY),
        insn(CALL, imm=MAP_UPDATE_ELEM),               # passed[key] = 0
        (JNEI, R0, 0, "out"),                          # no room: no count, no splice
        insn(MOV, R1, R6),
        insn(MOVI, R2, imm=_STATE_CB_FLAG),
        insn(CALL, imm=SOCK_OPS_CB_FLAGS_SET),         # tell us when it closes (below)
        map_fd(R1, slots),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-24),
        insn(CALL, imm=MAP_DELETE_ELEM),               # delete slots[key]: an earlier connection's
        insn(MOV, R1, R6),
        map_fd(R2, captured),
        insn(MOV, R3, FP), insn(ADDI, R3, imm=-24),
        insn(MOVI, R4, imm=bpf.ANY),
        insn(CALL, imm=SOCK_HASH_UPDATE),              # bpf_sock_hash_update(ctx, &captured, &key, BPF_ANY)
        (JEQI, R0, 0, "out"),
        (JA, 0, 0, "forget"),                          # not put in the map: forget its count
        "state",
        insn(LDXW, R1, R6, _OPS_NEW_STATE),
        (JNEI, R1, _TCP_CLOSE, "out"),                 # a taken socket closed:
        "forget",
        insn(LDXW, R1, R6, _OPS_LOCAL_IP4), insn(STXW, FP, R1, -24),    # delete passed[key]
        insn(LDXW, R1, R6, _OPS_REMOTE_IP4), insn(STXW, FP, R1, -20),
        insn(LDXW, R1, R6, _OPS_LOCAL_PORT), insn(STXW, FP, R1, -16),
        insn(LDXW, R1, R6, _OPS_REMOTE_PORT), insn(STXW, FP, R1, -12),
        map_fd(R1, passed),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-24),
        insn(CALL, imm=MAP_DELETE_ELEM),
        "out",
        insn(MOVI, R0, imm=1),
        insn(EXIT),
    ])  # fmt: skip


def msg_program(passed: int, slots: int, records: int, targets: int) -> bytes:
    """The verdict on each ``send()`` of a taken socket (the comments are its C)."""
    return bpf.assemble([
        insn(MOV, R6, R1),
        insn(LDXW, R1, R6, _MSG_FAMILY),
        (JNEI, R1, _AF_INET, "pass"),
        insn(LDXW, R1, R6, _MSG_LOCAL_IP4), insn(STXW, FP, R1, -16),
        insn(LDXW, R1, R6, _MSG_REMOTE_IP4), insn(STXW, FP, R1, -12),
        insn(LDXW, R1, R6, _MSG_LOCAL_PORT), insn(STXW, FP, R1, -8),
        insn(LDXW, R1, R6, _MSG_REMOTE_PORT), insn(STXW, FP, R1, -4),    # key = the 4-tuple
        map_fd(R1, passed),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-16),
        insn(CALL, imm=MAP_LOOKUP_ELEM),
        (JEQI, R0, 0, "pass"),                         # count = passed[key], or pass
        insn(MOV, R7, R0),
        insn(LDXW, R8, R6, _MSG_SIZE),
        map_fd(R1, slots),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-16),
        insn(CALL, imm=MAP_LOOKUP_ELEM),
        (JEQI, R0, 0, "count"),                        # slot = slots[key], or count and pass
        insn(LDXW, R1, R0, 0),
        insn(STXW, FP, R1, -20),
        map_fd(R1, records),
        insn(MOV, R2, FP), insn(ADDI, R2, imm=-20),
        insn(CALL, imm=MAP_LOOKUP_ELEM),
        (JEQI, R0, 0, "count"),                        # rec = records[slot]
        insn(LDXW, R1, R0, MODE),
        (JEQI, R1, 0, "count"),                        # if (!rec->mode) goto count
        insn(LDXDW, R1, R7, 0),
        insn(LDXDW, R2, R0, FORWARDED),
        (JNE, R1, R2, "count"),                        # if (*count != rec->forwarded) goto count
        insn(LDXW, R3, FP, -20),
        insn(MOV, R1, R6),
        map_fd(R2, targets),
        insn(MOVI, R4, imm=0),
        insn(CALL, imm=MSG_REDIRECT_MAP),              # if (bpf_msg_redirect_map(msg, &targets, slot, 0)
        (JNEI, R0, _SK_PASS, "count"),                 #     == SK_PASS) return SK_PASS
        insn(EXIT),
        "count",
        insn(XADDDW, R7, R8, 0),                       # *count += msg->size (atomic)
        "pass",
        insn(MOVI, R0, imm=_SK_PASS),
        insn(EXIT),
    ])  # fmt: skip


def _far(ip: str, port: int) -> bytes:
    """A far end as the programs read it: the address in network order, the port in
    network order in the upper half of a 32-bit word (how ``remote_port`` is given)."""
    return socket.inet_aton(ip) + struct.pack("=I", socket.htons(port) << 16)


def _key(local: tuple[str, int], remote: tuple[str, int]) -> bytes:
    """The 4-tuple of a socket as the programs key it (``local_port`` in host order)."""
    return (
        socket.inet_aton(local[0])
        + socket.inet_aton(remote[0])
        + struct.pack("=II", local[1], socket.htons(remote[1]) << 16)
    )


def cgroup2_root() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (its root), or None."""
    try:
        lines = Path("/proc/self/mountinfo").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(" - ")
        if len(fields) == 2 and fields[1].split(" ")[0] == "cgroup2":
            parts = fields[0].split(" ")
            if parts[3] == "/":
                return parts[4]
    return None


class Lane:
    """One direction of one spliced connection: the record of its destination's slot."""

    def __init__(self, splicer: Splicer, slot: int, *, forwarded: int, toxic_free: bool) -> None:
        self.slot = slot
        self._splicer = splicer
        at = slot * RECORD
        self._mode = ctypes.c_uint32.from_buffer(splicer.memory, at + MODE)
        # An aligned 64-bit store: the program never sees half of an update.
        self._forwarded = ctypes.c_uint64.from_buffer(splicer.memory, at + FORWARDED)
        self._count = forwarded
        self._forwarded.value = forwarded
        self.toxic_free = toxic_free
        self.congested = False
        self.released = False
        self._apply()

    def _apply(self) -> None:
        self._mode.value = 1 if self.toxic_free and not self.congested and not self.released else 0

    def sent(self, n: int) -> None:
        """The proxy wrote ``n`` more bytes on the destination (from the loop, or the
        relay thread that has the direction)."""
        if not self.released:
            self._count += n
            self._forwarded.value = self._count

    def set_toxic_free(self, free: bool) -> None:
        self.toxic_free = free
        self._apply()

    def check(self, sock: socket.socket) -> None:
        """Hand the direction to the proxy while the destination's backlog is large."""
        try:
            unsent = struct.unpack("=i", fcntl.ioctl(sock.fileno(), SIOCOUTQNSD, b"\0\0\0\0"))[0]
        except OSError:
            return
        congested = unsent > CONGESTED or (self.congested and unsent > UNCONGESTED)
        if congested != self.congested:
            self.congested = congested
            self._apply()

    def release(self) -> None:
        if not self.released:
            self.released = True
            self._apply()
            self._splicer.free(self.slot)


class Spliced:
    """A connection's two lanes: client -> upstream and upstream -> client."""

    def __init__(self, splicer: Splicer, to_upstream: Lane, to_client: Lane) -> None:
        self.to_upstream = to_upstream
        self.to_client = to_client
        #: The client's and the upstream's keys this connection put in ``slots``.
        self.keys: list[bytes] = []
        self._splicer = splicer

    def close(self) -> None:
        """The connection is over: the client may still send on its socket, which must
        then find no slot (a slot goes to another connection later). Its sockets leave
        the other maps as they close; their counts go to make room (LRU)."""
        for key in self.keys:
            self._splicer.bpf.delete(self._splicer.slots, key)
        self.keys = []
        self.to_upstream.release()
        self.to_client.release()


class Splicer:
    """The maps and programs; one per process, shared by its servers and proxies."""

    def __init__(self, cgroup: str) -> None:
        self.bpf = b = bpf.Bpf()
        self.tag = PRIORITY_BASE + os.getpid() % 0x10000
        try:
            self.listening = b.create_map(bpf.HASH, 8, 4, 1024)
            self.dialing = b.create_map(bpf.LRU_HASH, 8, 4, SLOTS)
            self.passed = b.create_map(bpf.HASH, 16, 8, SLOTS * 4)
            self.slots = b.create_map(bpf.HASH, 16, 4, SLOTS * 2)
            self.records = b.create_map(bpf.ARRAY, 4, RECORD, SLOTS, bpf.F_MMAPABLE)
            self.captured = b.create_map(bpf.SOCKHASH, 16, 4, SLOTS * 2)
            self.targets = b.create_map(bpf.SOCKMAP, 4, 4, SLOTS)
            self.memory = mmap.mmap(self.records, SLOTS * RECORD)
            msg = b.load(
                bpf.PROG_SK_MSG,
                msg_program(self.passed, self.slots, self.records, self.targets),
                bpf.ATTACH_SK_MSG_VERDICT,
                b"drillbook_msg",
            )
            b.attach_to_map(msg, self.captured, bpf.ATTACH_SK_MSG_VERDICT)
            ops = b.load(
                bpf.PROG_SOCK_OPS,
                sockops_program(
                    self.listening, self.dialing, self.passed, self.slots, self.captured, self.tag
                ),
                bpf.ATTACH_CGROUP_SOCK_OPS,
                b"drillbook_ops",
            )
            b.link_to_cgroup(ops, cgroup, bpf.ATTACH_CGROUP_SOCK_OPS)
        except BaseException:
            b.close()
            raise
        # First in, first out: a slot comes back into use thousands of connections after
        # it was freed, long after any relay thread of its last connection has ended.
        self._free = collections.deque(range(SLOTS))
        self._lock = threading.Lock()

    # -- far ends -------------------------------------------------------------------

    def listen(self, sock: socket.socket) -> bytes | None:
        """Take the clients of a listening socket from now on; the key for :meth:`unlisten`."""
        if sock.family != socket.AF_INET:
            return None
        ip, port = sock.getsockname()[:2]
        key = _far(ip, port)
        self.bpf.update(self.listening, key, b"\1\0\0\0")
        return key

    def unlisten(self, key: bytes) -> None:
        self.bpf.delete(self.listening, key)

    def dialing_from(self, sock: socket.socket, upstream: tuple[object, ...]) -> None:
        """Before ``sock`` connects to ``upstream``: if that is this machine's loopback, tag
        the socket, so that the upstream's end of the connection is taken."""
        if sock.family == socket.AF_INET and str(upstream[0]).startswith("127."):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_PRIORITY, self.tag)

    # -- connections -----------------------------------------------------------------

    def open(
        self,
        client: socket.socket,
        upstream: socket.socket,
        *,
        forwarded: tuple[int, int],
        toxic_free: tuple[bool, bool],
    ) -> Spliced | None:
        """Splice a connection whose client or upstream end the program took; None if
        neither was (a remote or IPv6 peer) or no slot is left. Both pairs are (client ->
        upstream, upstream -> client): the bytes the proxy has written each way so far,
        and whether the direction has no toxic."""
        if client.family != socket.AF_INET or upstream.family != socket.AF_INET:
            return None
        try:
            c_key = _key(client.getpeername()[:2], client.getsockname()[:2])
            p_key = _key(upstream.getpeername()[:2], upstream.getsockname()[:2])
        except OSError:
            return None
        taken = [key for key in (c_key, p_key) if self.bpf.lookup(self.passed, key, 8) is not None]
        if not taken:
            return None
        with self._lock:
            if len(self._free) < 2:
                return None
            to_upstream, to_client = self._free.popleft(), self._free.popleft()
        spliced = Spliced(
            self,
            Lane(self, to_upstream, forwarded=forwarded[0], toxic_free=toxic_free[0]),
            Lane(self, to_client, forwarded=forwarded[1], toxic_free=toxic_free[1]),
        )
        try:
            for slot, sock in ((to_upstream, upstream), (to_client, client)):
                self.bpf.update(self.targets, struct.pack("=I", slot), struct.pack("=I", sock.fileno()))
            for key, slot in ((c_key, to_upstream), (p_key, to_client)):
                if key in taken:
                    spliced.keys.append(key)
                    self.bpf.update(self.slots, key, struct.pack("=I", slot))
        except OSError as exc:
            log.debug("toxiproxy: connection not spliced: %s", exc)
            spliced.close()
            return None
        return spliced

    def free(self, slot: int) -> None:
        with self._lock:
            self._free.append(slot)


_splicer: Splicer | None = None
_tried = False
_lock = threading.Lock()


def wanted() -> bool:
    """False if ``DRILLBOOK_TOXIPROXY_SPLICE`` turns the splice off (0, false, no, off)."""
    return os.environ.get(ENV, "").strip().lower() not in ("0", "false", "no", "off")


def splicer() -> Splicer | None:
    """The process's splicer, made on first use; None where the splice is off or cannot
    be (the reason is logged once, at info level: relaying in user space is the fallback)."""
    global _splicer, _tried
    if not wanted():
        return None
    with _lock:
        if not _tried:
            _tried = True
            reason = ""
            root = cgroup2_root()
            if not sys.platform.startswith("linux"):
                reason = f"not on {sys.platform}"
            elif root is None:
                reason = "no cgroup v2 hierarchy mounted"
            else:
                try:
                    _splicer = Splicer(root)
                except (OSError, ValueError, AttributeError) as exc:
                    reason = str(exc) or type(exc).__name__
            if reason:
                log.info("toxiproxy: no kernel splice (%s); relaying in user space", reason)
        return _splicer
