"""What every benchmark under bench/ needs from the project's scripts: the report's output, the generated
state folder ($WORK of scripts/common.sh) and its odoo.conf, and a PostgreSQL connection with its settings.
Imported by the benchmark scripts, which run with bench/ on sys.path (``python bench/NAME.py``)."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parent.parent  # the addon folder (repository root)


def say(text: str = "") -> None:
    """Write one line of the report to standard output (flushed: builds and runs take minutes)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def work_dir() -> Path:
    """$WORK of scripts/common.sh (where setup.sh writes odoo.conf and odoo_src)."""
    out = subprocess.run(
        ["bash", "-c", 'source "$1/scripts/common.sh" && printf %s "$WORK"', "bash", str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
    )
    return Path(out.stdout)


def odoo_options(work: Path) -> dict[str, str]:
    """The [options] of $WORK/odoo.conf."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(work / "odoo.conf")
    return dict(parser["options"])


def connect(options: dict[str, str], dbname: str):
    """A psycopg2 connection with the settings of odoo.conf."""
    kwargs = {"dbname": dbname}
    for key in ("host", "port", "user", "password"):
        value = options.get(f"db_{key}")
        if value and value != "False":
            kwargs[key] = value
    return psycopg2.connect(**kwargs)
