"""The few pieces of Linux's ``bpf()`` system call the kernel splice needs, through ctypes.

No compiler and no libbpf: programs are assembled here from instructions (each
program's module writes its C beside them), maps are created and updated with the
raw commands. Only what ``splice.py`` uses is here; every call raises
:class:`BpfError` (an ``OSError`` with the kernel's errno) when the kernel refuses it,
and a refused program carries the verifier's log.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import platform
import struct

#: ``__NR_bpf`` by machine; elsewhere there is no splice.
NR_BPF = {"x86_64": 321, "aarch64": 280}

MAP_CREATE, MAP_LOOKUP, MAP_UPDATE, MAP_DELETE, PROG_LOAD, PROG_ATTACH, LINK_CREATE = 0, 1, 2, 3, 5, 8, 28
HASH, ARRAY, LRU_HASH, SOCKMAP, SOCKHASH = 1, 2, 9, 15, 18
PROG_SOCK_OPS, PROG_SK_MSG = 13, 16
ATTACH_CGROUP_SOCK_OPS, ATTACH_SK_MSG_VERDICT = 3, 7
F_MMAPABLE = 1 << 10
#: Map update flags.
ANY, NOEXIST = 0, 1
#: Helper functions, by number.
MAP_LOOKUP_ELEM, MAP_UPDATE_ELEM, MAP_DELETE_ELEM, MSG_REDIRECT_MAP, SOCK_HASH_UPDATE = 1, 2, 3, 60, 70
SOCK_OPS_CB_FLAGS_SET = 59

# Registers and the instructions the programs use.
R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, FP = range(11)
MOV, MOVI, ADDI, LSHI, BE, CALL, EXIT = 0xBF, 0xB7, 0x07, 0x67, 0xDC, 0x85, 0x95
LDXW, LDXDW, STXW, STXDW, XADDDW = 0x61, 0x79, 0x63, 0x7B, 0xDB
JA, JEQI, JNEI, JNE = 0x05, 0x15, 0x55, 0x5D

#: A line of a program: instructions, a label, or a jump to a label ``(code, dst, src or imm, label)``.
Line = bytes | str | tuple[int, int, int, str]


class BpfError(OSError):
    pass


def insn(code: int, dst: int = 0, src: int = 0, off: int = 0, imm: int = 0) -> bytes:
    return struct.pack("<BBhi", code, (src << 4) | dst, off, imm)


def map_fd(dst: int, fd: int) -> bytes:
    """``dst = map`` (a 64-bit load of a map by its descriptor: two instructions)."""
    return insn(0x18, dst, 1, imm=fd) + insn(0)


def assemble(lines: list[Line]) -> bytes:
    at: dict[str, int] = {}
    pc = 0
    for line in lines:
        if isinstance(line, str):
            at[line] = pc
        else:
            pc += 1 if isinstance(line, tuple) else len(line) // 8
    out, pc = [], 0
    for line in lines:
        if isinstance(line, str):
            continue
        if isinstance(line, tuple):
            code, dst, other, label = line
            off = at[label] - pc - 1
            # A register-to-register jump (BPF_X) names a source register; else an immediate.
            out.append(insn(code, dst, other, off) if code & 0x08 else insn(code, dst, 0, off, other))
            pc += 1
        else:
            out.append(line)
            pc += len(line) // 8
    return b"".join(out)


class Bpf:
    """The system call, and the descriptors made through it (closed by :meth:`close`)."""

    def __init__(self) -> None:
        machine = platform.machine()
        if machine not in NR_BPF:
            raise BpfError(0, f"no bpf() system call known on {machine}")
        self._libc = ctypes.CDLL(None, use_errno=True)
        self._nr = NR_BPF[machine]
        self.fds: list[int] = []

    def call(self, cmd: int, attr: bytes) -> int:
        buf = ctypes.create_string_buffer(attr, 128)
        result = int(self._libc.syscall(self._nr, cmd, buf, 128))
        if result < 0:
            err = ctypes.get_errno()
            raise BpfError(err, os.strerror(err))
        return result

    def _keep(self, fd: int) -> int:
        self.fds.append(fd)
        return fd

    def create_map(self, kind: int, key: int, value: int, entries: int, flags: int = 0) -> int:
        return self._keep(self.call(MAP_CREATE, struct.pack("=IIIII", kind, key, value, entries, flags)))

    def load(self, kind: int, code: bytes, attach: int, name: bytes) -> int:
        insns = ctypes.create_string_buffer(code, len(code))
        license_ = ctypes.create_string_buffer(b"GPL")
        log = ctypes.create_string_buffer(65536)
        attr = struct.pack(
            "=IIQQIIQII16sII", kind, len(code) // 8, ctypes.addressof(insns), ctypes.addressof(license_),
            1, len(log), ctypes.addressof(log), 0, 0, name[:15], 0, attach,
        )  # fmt: skip
        try:
            return self._keep(self.call(PROG_LOAD, attr))
        except BpfError as exc:
            verifier = log.value.decode(errors="replace").strip()[-600:]
            raise BpfError(exc.errno, f"{exc.strerror}: {verifier}" if verifier else exc.strerror) from None

    def attach_to_map(self, prog: int, map_: int, attach: int) -> None:
        self.call(PROG_ATTACH, struct.pack("=IIII", map_, prog, attach, 0))

    def link_to_cgroup(self, prog: int, cgroup: str, attach: int) -> None:
        """Attach ``prog`` to ``cgroup`` through a BPF link: detached when the descriptor
        closes, so when this process ends, however it ends."""
        fd = os.open(cgroup, os.O_RDONLY | os.O_DIRECTORY)
        try:
            self._keep(self.call(LINK_CREATE, struct.pack("=IIII", prog, fd, attach, 0)))
        finally:
            os.close(fd)

    def update(self, map_: int, key: bytes, value: bytes, flags: int = ANY) -> None:
        k = ctypes.create_string_buffer(key, len(key))
        v = ctypes.create_string_buffer(value, len(value))
        self.call(MAP_UPDATE, struct.pack("=IIQQQ", map_, 0, ctypes.addressof(k), ctypes.addressof(v), flags))

    def delete(self, map_: int, key: bytes) -> None:
        """Remove ``key`` from ``map_`` (no error if it is not there)."""
        k = ctypes.create_string_buffer(key, len(key))
        with contextlib.suppress(BpfError):
            self.call(MAP_DELETE, struct.pack("=IIQQQ", map_, 0, ctypes.addressof(k), 0, 0))

    def lookup(self, map_: int, key: bytes, size: int) -> bytes | None:
        k = ctypes.create_string_buffer(key, len(key))
        v = ctypes.create_string_buffer(size)
        try:
            self.call(MAP_LOOKUP, struct.pack("=IIQQQ", map_, 0, ctypes.addressof(k), ctypes.addressof(v), 0))
        except BpfError:
            return None
        return v.raw

    def close(self) -> None:
        for fd in reversed(self.fds):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds.clear()
