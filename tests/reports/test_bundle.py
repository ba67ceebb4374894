"""``drillbook report --bundle``: one archive whose links all resolve inside it, with the journal's
chain, the drafts, JUnit XML and logs, and a manifest of every file's sha256."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from drillbook.harness.cli import main
from tests.reports.conftest import RUN_C
from tests.reports.test_end_to_end import DRILL

SECRET = "Sup3rS3cretLogPw"
HREF = re.compile(r'href="([^"#][^"]*)"')
MD_LINK = re.compile(r"\]\(([^)#\s]+)\)")


def extract(archive: Path, into: Path) -> Path:
    with zipfile.ZipFile(archive) as z:
        names = z.namelist()
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
        z.extractall(into)
    (root,) = list(into.iterdir())
    return root


def bundle(results: Path, out: Path, run_id: str, *extra: str) -> Path:
    assert (
        main(["report", "--bundle", "--results", str(results), "-o", str(out), "--run", run_id, *extra]) == 0
    )
    (archive,) = out.glob("*.evidence.zip")
    return archive


def test_every_link_of_the_bundle_resolves_inside_it(suite_copy: Path, tmp_path: Path) -> None:
    (suite_copy / "junit-monthly.xml").write_text('<testsuite name="drills"><testcase name="x"/></testsuite>')
    log = tmp_path / "run.log"
    log.write_text(f"connecting to postgresql://app:{SECRET}@db/x\n")
    root = extract(bundle(suite_copy, tmp_path / "out", RUN_C, "--log", str(log)), tmp_path / "x")
    assert root.name == RUN_C
    links = HREF.findall((root / "report.html").read_text())
    for md in ["report.md", *(p.name for p in root.glob("*-*.md"))]:
        links += MD_LINK.findall((root / md).read_text())
    assert len(links) > 10 and "journal" in links
    for link in links:
        assert not Path(link).is_absolute(), link
        target = (root / link).resolve()
        assert target.is_relative_to(root.resolve()) and target.exists(), link
    drafts = sorted(p.name for p in root.glob("*-*.md"))
    assert drafts == sorted(
        f"{kind}-{RUN_C}-{n:03d}.md" for kind in ("comms", "postmortem") for n in (1, 2, 3)
    )
    assert (root / "junit/junit-monthly.xml").is_file() and (root / "logs/run.log").is_file()
    assert len(list((root / "journal").iterdir())) == len(list(suite_copy.glob("0*.json")))


def test_the_manifest_lists_every_files_sha256(suite_copy: Path, tmp_path: Path) -> None:
    log = tmp_path / "run.log"
    log.write_text(f"token={SECRET}\n")
    root = extract(bundle(suite_copy, tmp_path / "out", RUN_C, "--log", str(log)), tmp_path / "x")
    manifest = json.loads((root / "manifest.json").read_text())
    assert manifest["format"] == "drillbook.bundle" and manifest["run_id"] == RUN_C
    assert manifest["sign_off"] == "SIGNED"
    files = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    listed = {f["path"]: f for f in manifest["files"]}
    assert set(listed) == files - {"manifest.json", "SHA256SUMS"}
    for name, entry in listed.items():
        body = (root / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(body).hexdigest() and entry["bytes"] == len(body)
    checked = subprocess.run(
        ["sha256sum", "-c", "--quiet", "SHA256SUMS"], cwd=root, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # no secret in the archive: the log is masked, and so is the pre-1 record a secret leaked into
    for path in root.rglob("*"):
        if path.is_file():
            text = path.read_text(errors="replace")
            assert SECRET not in text and "s3cr3t-pw" not in text and "hunter2-old" not in text, path
    old = listed["journal/000001-2025-10-06-quarterly.json"]
    original = suite_copy / "000001-2025-10-06-quarterly.json"
    assert old["redacted"] and old["original_sha256"] == hashlib.sha256(original.read_bytes()).hexdigest()
    assert not any(e.get("redacted") for n, e in listed.items() if n != old["path"])


def test_a_bundles_journal_verifies_on_its_own(pytester: pytest.Pytester, tmp_path: Path) -> None:
    pytester.makepyfile(test_drill=DRILL)
    junit = pytester.path / "drill-results" / "junit.xml"
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--drill-quiet", "--drill-allow-partial", "--drill-run-id", "bundled",
        f"--junitxml={junit}",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    results = pytester.path / "drill-results"
    root = extract(bundle(results, tmp_path / "out", "bundled"), tmp_path / "x")
    assert "testcase" in (root / "junit/junit.xml").read_text()
    verified = subprocess.run(
        [sys.executable, "-m", "drillbook", "verify", str(root / "journal")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    shutil.rmtree(results)  # the bundle stands alone: its report still opens with every link
    for link in HREF.findall((root / "report.html").read_text()):
        assert (root / link).exists(), link


def test_log_without_bundle_is_a_clear_error(
    suite_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "run.log"
    log.write_text("x\n")
    assert main(["report", "--results", str(suite_copy), "-o", str(tmp_path), "--log", str(log)]) == 2
    assert "--log adds a file to the bundle: use it with --bundle" in capsys.readouterr().err
    assert (
        main(["report", "--bundle", "--results", str(suite_copy), "-o", str(tmp_path), "--log", "nope"]) == 2
    )
    assert "--log: no such file: nope" in capsys.readouterr().err
