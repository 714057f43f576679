"""The reports a workspace has: one folder per report under ``templates/reports/``.

    templates/reports/compliance/
        report.yaml             # the manifest: title, default period, formats
        report.md.j2            # Markdown (Jinja)
        report.sheets.yaml.j2   # Excel and CSV: a Jinja-rendered sheet specification

A workspace's own folders come first; a bundled report the workspace lacks is
still offered (marked "bundled"), so an old workspace gets new reports. Copy a
folder under a new name to make a new report: no Python involved.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cmtool.errors import DataError, NotFound, UsageError
from cmtool.store.yamlio import load

FORMATS = ("md", "xlsx", "csv", "html")
PERIOD_KINDS = ("month", "quarter", "half", "year")
MANIFEST = "report.yaml"
BUNDLED_TEMPLATES = Path(__file__).resolve().parent.parent / "bundled" / "templates"


@dataclass(frozen=True)
class ReportTemplate:
    name: str
    folder: Path
    source: str  # "workspace" or "bundled"
    title: str
    description: str
    period: str  # default period kind
    formats: dict[str, str]  # format -> template file in the folder
    csv_sheet: str | None
    language: str
    running: bool = False  # the default period is the one running now, not the last complete one

    @property
    def shown_folder(self) -> str:
        return f"templates/reports/{self.name}" + (" (bundled)" if self.source == "bundled" else "")

    def sha256(self) -> str:
        """A hash over every file of the report folder (includes count too)."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file() or p.is_symlink()):
            digest.update(str(path.relative_to(self.folder)).encode() + b"\0")
            # A link is hashed as the link, never followed out of the folder.
            content = os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            digest.update(content + b"\0")
        return digest.hexdigest()


def report_folders(templates_dir: Path) -> list[tuple[Path, str]]:
    """(folder, source) of every report, workspace first, then bundled extras."""
    found: dict[str, tuple[Path, str]] = {}
    for base, source in (
        (templates_dir / "reports", "workspace"),
        (BUNDLED_TEMPLATES / "reports", "bundled"),
    ):
        if base.is_dir():
            for folder in sorted(base.iterdir()):
                if (folder / MANIFEST).is_file() and folder.name not in found:
                    found[folder.name] = (folder, source)
    return sorted(found.values(), key=lambda item: item[0].name)


def list_reports(templates_dir: Path) -> list[ReportTemplate]:
    return [load_manifest(folder, source) for folder, source in report_folders(templates_dir)]


def find_report(templates_dir: Path, name: str) -> ReportTemplate:
    for folder, source in report_folders(templates_dir):
        if folder.name == name:
            return load_manifest(folder, source)
    known = ", ".join(folder.name for folder, _ in report_folders(templates_dir)) or "none"
    raise NotFound(f"no report named {name!r} (reports: {known})", hint="see them with: cmtool report --list")


def load_manifest(folder: Path, source: str) -> ReportTemplate:
    from jinja2 import TemplateNotFound

    from cmtool.reports.sandbox import confine_folder, read_confined

    where = f"templates/reports/{folder.name}/{MANIFEST}"
    # The workspace (or the bundled templates) is the boundary a report folder and
    # its manifest must stay inside, symbolic links resolved.
    confine_folder(
        folder, BUNDLED_TEMPLATES if source == "bundled" else folder.parents[2], where.rsplit("/", 1)[0]
    )
    try:
        data = load(read_confined(folder, folder / MANIFEST, where), where) or {}
    except (OSError, TemplateNotFound) as exc:
        raise DataError(f"{where}: cannot read: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise DataError(f"{where}: must be a mapping (title, period, formats)")
    problems = []
    formats = data.get("formats") or {}
    if not isinstance(formats, dict) or not formats:
        problems.append("formats: map md/xlsx/csv to template files")
        formats = {}
    for fmt, file in formats.items():
        if fmt not in FORMATS:
            problems.append(f"formats: unknown format {fmt!r} (use {', '.join(FORMATS)})")
        elif not isinstance(file, str) or "/" in file or "\\" in file or file.startswith("."):
            problems.append(f"formats.{fmt}: a file name in the report folder")
        elif not (folder / file).is_file():
            problems.append(f"formats.{fmt}: {file} does not exist")
    period = str(data.get("period", "month"))
    if period not in PERIOD_KINDS:
        problems.append(f"period: one of {', '.join(PERIOD_KINDS)}")
    if problems:
        raise DataError(f"{where}: " + "; ".join(problems))
    return ReportTemplate(
        name=folder.name,
        folder=folder,
        source=source,
        title=str(data.get("title") or folder.name),
        description=str(data.get("description") or ""),
        period=period,
        formats={str(k): str(v) for k, v in formats.items()},
        csv_sheet=data.get("csv_sheet"),
        language=str(data.get("language") or "en"),
        running=data.get("running") is True,
    )


def check_format(template: ReportTemplate, fmt: str) -> str:
    if fmt not in template.formats:
        raise UsageError(
            f"report {template.name} has no {fmt} format (it has: {', '.join(template.formats)})"
        )
    return template.formats[fmt]
