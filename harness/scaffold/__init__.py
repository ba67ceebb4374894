"""``drillbook init``: a project's first drill suite, configuration and CI workflows.

It writes ``drillbook.toml`` (the local environment, and a staging profile in comments with
every key documented), ``drills/test_example.py`` (a drill against the user's service, or a
self-contained one that passes anywhere) and the CI workflows of the three cadences (monthly,
quarterly, the hourly check for a sealed unannounced drill). It never overwrites a file
unless told to.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import jinja2

from drillbook.harness.errors import DrillbookError, InvalidDrillConfig

CI_CHOICES = ("github", "gitlab", "none")
SUITE = "drills"
#: The CI templates install drillbook's own checkout; a project installs drillbook.
_INSTALL_SELF = "python -m pip install -e ."
_INSTALL = "python -m pip install drillbook"
_VARIABLE = re.compile(r"^(?:\$\{?|env:)?([A-Za-z_][A-Za-z0-9_]*)\}?$")


class FilesExist(DrillbookError):
    """``drillbook init`` would overwrite files."""


@dataclass(frozen=True)
class Options:
    service_url: str | None = None
    database_env: str | None = None
    ci: str = "github"


def database_variable(value: str) -> str:
    """The environment variable named by ``--database-url`` (``$NAME``, ``${NAME}``, ``env:NAME``
    or ``NAME``); a URL itself is refused: it would be written into the drill file."""
    match = _VARIABLE.match(value.strip())
    if match is None:
        raise InvalidDrillConfig(
            "--database-url takes the name of an environment variable holding the database URL, "
            "e.g. --database-url '$STAGING_DATABASE_URL', never the URL itself (it would be written "
            "into drills/test_example.py)"
        )
    return match.group(1)


def service_url(value: str) -> str:
    url = urllib.parse.urlsplit(value.strip())
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InvalidDrillConfig(
            f"--service-url {value!r}: give the service's URL with http:// or https://, "
            "e.g. --service-url https://staging.example.com/health"
        )
    if url.password or url.username:
        raise InvalidDrillConfig(
            "--service-url must not hold credentials; give the URL without user:password@"
        )
    return value.strip()


def planned(options: Options) -> dict[str, str]:
    """Each file to write (a path relative to the project) and its content."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("drillbook.harness.scaffold", "templates"),
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        autoescape=False,
    )
    url = options.service_url or "https://staging.example.com/health"
    parts = urllib.parse.urlsplit(url)
    values = {
        "suite": SUITE,
        "service_url": options.service_url,
        "database_env": options.database_env,
        "health_url": url,
        "app_url": f"{parts.scheme}://{parts.netloc}",
    }
    drill = "test_example_service.py.j2" if options.service_url else "test_example_local.py.j2"
    out = {
        "drillbook.toml": env.get_template("drillbook.toml.j2").render(values),
        f"{SUITE}/test_example.py": env.get_template(drill).render(values),
    }
    out.update(_ci_files(options.ci))
    return out


def _ci_files(ci: str) -> dict[str, str]:
    if ci == "none":
        return {}
    root = files("drillbook").joinpath("ci_templates", ci)
    out = {}
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith((".yml", ".yaml")):
            continue
        text = entry.read_text().replace(_INSTALL_SELF, _INSTALL)
        where = f".github/workflows/{entry.name}" if ci == "github" else entry.name
        out[where] = text
    return out


def write(target: Path, options: Options, *, force: bool = False) -> list[Path]:
    """Write the scaffold into ``target``; refuses (naming them) files that exist unless ``force``."""
    if options.ci not in CI_CHOICES:
        raise InvalidDrillConfig(f"--ci {options.ci!r}: choose one of {', '.join(CI_CHOICES)}")
    if target.exists() and not target.is_dir():
        raise InvalidDrillConfig(f"{target} is a file; give a directory to write the project into")
    content = planned(options)
    if not force:
        exist = [name for name in content if (target / name).exists()]
        pyproject = target / "pyproject.toml"
        if pyproject.is_file() and "[tool.drillbook]" in pyproject.read_text(errors="replace"):
            exist.append("pyproject.toml ([tool.drillbook])")
        if exist:
            raise FilesExist(
                f"{target} already has {', '.join(exist)}; nothing was written. "
                "Move them aside, or pass --force to overwrite them"
            )
    written = []
    for name, text in content.items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".drillbook-init")
        tmp.write_text(text)
        tmp.replace(path)
        written.append(path)
    return written
