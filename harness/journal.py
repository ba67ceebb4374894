"""The journal: one JSON file per drill run, each hash-chained to the one before.

A record's ``hash`` is the sha256 of its canonical JSON (sorted keys, compact,
UTF-8) without the ``hash`` key; ``prev_hash`` is the hash of the record before
it in the directory (``None`` for the first). A file holds exactly the canonical
JSON of the whole record and a newline, so that changing any byte of a file is
detected: either the JSON no longer parses, the content no longer matches its
hash, or the bytes are no longer the canonical encoding. (Records written before
that were indented; they verify in that form.)
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drillbook.harness.atomic import write_atomic
from drillbook.harness.errors import JournalError
from drillbook.harness.records import SIGNOFF_KIND, DrillResult, SignOff, kind_of

_NAME = re.compile(r"^(\d{6,})-[A-Za-z0-9_.-]+\.json$")
LOCK_NAME = ".journal.lock"


def canonical_json(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def file_text(data: dict[str, Any]) -> str:
    return canonical_json(data) + "\n"


def _legacy_file_text(data: dict[str, Any]) -> str:
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def record_hash(data: dict[str, Any]) -> str:
    body = {k: v for k, v in data.items() if k != "hash"}
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


@contextmanager
def _locked(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with open(directory / LOCK_NAME, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def record_files(directory: Path) -> list[Path]:
    """The journal files of ``directory`` in chain order."""
    if not directory.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in directory.iterdir() if (m := _NAME.match(p.name))]
    return [p for _, p in sorted(found)]


def append(directory: Path, result: DrillResult | SignOff) -> Path:
    """Chain ``result`` (a drill's record or a sign-off) to the last record of ``directory``
    and write it durably: the whole file or none (:func:`drillbook.harness.atomic.write_atomic`)."""
    with _locked(directory):
        files = record_files(directory)
        prev_hash = None
        seq = 1
        if files:
            last = read_record(files[-1])
            prev_hash = last.get("hash")
            if not isinstance(prev_hash, str):
                raise JournalError(f"{files[-1]}: the journal's last record has no hash, so the next one "
                                   "cannot be chained to it; `drillbook verify` names the damage")
            seq = int(_NAME.match(files[-1].name).group(1)) + 1  # type: ignore[union-attr]
        result.prev_hash = prev_hash
        result.hash = None
        data = result.to_dict()
        data.pop("hash")
        digest = record_hash(data)
        data["hash"] = digest
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", result.record_id or result.run_id)[:80]
        path = directory / f"{seq:06d}-{slug}.json"
        write_atomic(path, file_text(data))
        result.hash = digest
        return path


def check_appendable(directory: Path) -> None:
    """Raise when the next record could not be chained (the last record is damaged), before a
    run's drills rather than at the end of the first one."""
    try:
        files = record_files(directory)
    except OSError as exc:
        raise JournalError(f"journal directory {directory} cannot be read ({exc.strerror or exc})") from exc
    if files and not isinstance(read_record(files[-1]).get("hash"), str):
        raise damaged(files[-1], "the last record has no hash, so the next one cannot be chained to it")


def damaged(path: Path, problem: str) -> JournalError:
    """The error for a journal file that is not a readable record: the file, what is wrong, the fix."""
    return JournalError(f"{path}: damaged journal record: {problem}; `drillbook verify` names the first "
                        "damaged record: restore it from a copy of the journal")


def parse_record(raw: bytes, path: Path) -> dict[str, Any]:
    """The JSON object of one journal file; anything else raises :func:`damaged`."""
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise damaged(path, f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise damaged(path, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise damaged(path, "not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise damaged(path, f"a JSON {type(data).__name__}, not a record (an object)")
    if not isinstance(data.get("run_id"), str):
        raise damaged(path, "not a journal record (no run_id)")
    return data


def read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise JournalError(f"{path}: cannot read the journal record ({exc.strerror or exc})") from exc


def read_record(path: Path) -> dict[str, Any]:
    """One journal file as a dict, or a :class:`JournalError` naming the file and the damage."""
    return parse_record(read_bytes(path), path)


@dataclass
class ChainReport:
    directory: Path
    records: int
    ok: bool
    broken_at: Path | None = None
    problem: str = ""


#: From this many records on, files are checked by a pool of processes (one per core).
PARALLEL_FROM = 2000


def verify_chain(directory: Path) -> ChainReport:
    """Check every record's hash and link; name the first broken record."""
    files = record_files(directory)
    if len(files) >= PARALLEL_FROM and (os.cpu_count() or 1) > 1:
        checked = _check_parallel(files)
    else:
        checked = [_check_file(path) for path in files]
    prev: str | None = None
    for index, (path, (digest, prev_hash, problem)) in enumerate(zip(files, checked, strict=True)):
        if not problem and prev_hash != prev:
            problem = "prev_hash does not match the record before it (a record was removed or reordered)"
        if problem:
            return ChainReport(directory, index, False, path, problem)
        prev = digest
    return ChainReport(directory, len(files), True)


def _check_parallel(files: list[Path]) -> list[tuple[str | None, str | None, str]]:
    from concurrent.futures import ProcessPoolExecutor

    workers = min(os.cpu_count() or 1, 8)
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_check_file, files, chunksize=max(1, len(files) // (workers * 8))))


def _check_file(path: Path) -> tuple[str | None, str | None, str]:
    """(hash, prev_hash, problem) of one file, checked on its own."""
    data, problem = _check_one(path, None, link=False)
    if data is None:
        return None, None, problem
    return data["hash"], data.get("prev_hash"), ""


def _check_one(path: Path, prev: str | None, *, link: bool = True) -> tuple[dict[str, Any] | None, str]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        return None, f"not valid JSON ({exc})"
    except RecursionError:
        return None, "not valid JSON (nested too deeply)"
    if not isinstance(data, dict) or not isinstance(data.get("hash"), str):
        return None, "not a journal record (no hash)"
    digest = data.pop("hash")
    body = canonical_json(data)
    data["hash"] = digest
    if hashlib.sha256(body.encode("utf-8")).hexdigest() != digest:
        return None, "content does not match its hash (the record was changed)"
    # The file is the canonical JSON of the record with its hash: the body's encoding with
    # the hash entry in its sorted place. Removing that entry must give the body back.
    entry = f'"hash":{json.dumps(digest)}'
    canonical = text.endswith("\n") and (
        text[:-1].replace("," + entry, "", 1) == body or text[:-1].replace(entry + ",", "", 1) == body)
    if not canonical and _legacy_file_text(data) != text:
        return None, "bytes differ from the canonical encoding (the file was edited)"
    if link and data.get("prev_hash") != prev:
        return None, "prev_hash does not match the record before it (a record was removed or reordered)"
    return data, ""


def load(directory: Path) -> list[DrillResult]:
    """Every drill record of ``directory`` in chain order (sign-offs left out)."""
    results = []
    for path in record_files(directory):
        data = read_record(path)
        if kind_of(data) == SIGNOFF_KIND:
            continue
        results.append(to_result(data, path))
    return results


def to_result(data: dict[str, Any], path: Path) -> DrillResult:
    """A :class:`DrillResult` from a record's dict; a record of another shape raises naming the file."""
    try:
        return DrillResult.from_dict(data)
    except (KeyError, ValueError, TypeError, AttributeError) as exc:
        raise damaged(path, f"a journal record of an unknown shape ({exc})") from exc


def load_dicts(directory: Path) -> list[dict[str, Any]]:
    return [read_record(p) for p in record_files(directory)]
