"""Render the assessment workbook headless, to look at it: a sample document (tests/builders.py's
`a_report_document`, a county month, or with --empty a month with nothing in it, or with --scope a
department's own report) written by `minyi.reports.workbook.render_xlsx`, converted by LibreOffice to
PDF, and the PDF's pages to PNG (pdftoppm). Prints the paths. Without LibreOffice it says so and exits
0 (the tests never need it); without pdftoppm it stops at the PDF.

    python bench/render_workbook.py [--out /tmp/minyi-workbook] [--empty] [--scope 区城管局]

Chinese glyphs need a CJK font (Debian: fonts-noto-cjk), or the PDF shows boxes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]

from minyi.models.report import ReportDocument, ViewRow  # noqa: E402
from minyi.reports.workbook import render_csv, render_json, render_xlsx  # noqa: E402
from tests.builders import a_report_document  # noqa: E402


def empty_document() -> ReportDocument:
    return a_report_document().model_copy(update={
        "total": ViewRow(name="合计", label="合计"), "departments": [], "townships": [], "channels": [],
        "matters": [], "daily": [], "hotspots": [], "details": []})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="/tmp/minyi-workbook")
    parser.add_argument("--empty", action="store_true")
    parser.add_argument("--scope", default=None)
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    doc = empty_document() if args.empty else a_report_document(scope=args.scope)
    stem = "empty" if args.empty else "report" if args.scope is None else "department"
    xlsx = out / f"{stem}.xlsx"
    xlsx.write_bytes(render_xlsx(doc))
    (out / f"{stem}.csv").write_bytes(render_csv(doc))
    (out / f"{stem}.json").write_bytes(render_json(doc))
    print(f"workbook {xlsx}\ncsv      {out / f'{stem}.csv'}\njson     {out / f'{stem}.json'}")
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        print("LibreOffice (soffice) is not installed: no PDF or PNG. "
              "apt-get install --no-install-recommends libreoffice-calc fonts-noto-cjk poppler-utils")
        return 0
    subprocess.run([office, "--headless", f"-env:UserInstallation=file://{out / 'lo-profile'}",
                    "--convert-to", "pdf", "--outdir", str(out), str(xlsx)],
                   check=True, capture_output=True, timeout=300)
    pdf = out / f"{stem}.pdf"
    print(f"pdf      {pdf}")
    if shutil.which("pdftoppm") is None:
        print("pdftoppm (poppler-utils) is not installed: no PNG")
        return 0
    for old in out.glob(f"{stem}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", "80", str(pdf), str(out / stem)], check=True, timeout=300)
    for page in sorted(out.glob(f"{stem}-*.png")):
        print(f"page     {page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
