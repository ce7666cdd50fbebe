"""Re-fetch the vendored front-end files from npm, exactly as ``vendor.json`` names them.

The page and GraphiQL load only files shipped in this package (no CDN: it must work with no
internet). Each vendored file is one file of a published npm release, copied as is, beside that
release's licence. ``vendor.json`` records package, version, the file's path in the tarball and its
sha256; ``tests/web/test_vendor.py`` checks the committed bytes against it.

    python -m gateway.web.vendor          # fetch with `npm pack`, check, write static/vendor/
    python -m gateway.web.vendor --check  # only compare the committed files with vendor.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).parent
MANIFEST = HERE / "vendor.json"
VENDOR_DIR = HERE / "static" / "vendor"


@dataclass(frozen=True)
class VendoredFile:
    package: str
    version: str
    source: str  # the path inside the npm tarball (under package/)
    file: str  # the name under static/vendor/
    sha256: str


def manifest() -> list[VendoredFile]:
    return [VendoredFile(**entry) for entry in json.loads(MANIFEST.read_text())["files"]]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mismatches(directory: Path = VENDOR_DIR) -> list[str]:
    """One line per vendored file that is missing or differs from its release."""
    problems = []
    for entry in manifest():
        path = directory / entry.file
        if not path.is_file():
            problems.append(f"{entry.file}: missing")
        elif (digest := sha256(path)) != entry.sha256:
            problems.append(f"{entry.file}: sha256 {digest}, {entry.package}@{entry.version} has {entry.sha256}")
    return problems


def fetch(directory: Path = VENDOR_DIR) -> None:
    """``npm pack`` each release into a temporary folder and copy the named files out of it."""
    entries = manifest()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for spec in sorted({f"{e.package}@{e.version}" for e in entries}):
            subprocess.run(["npm", "pack", "--silent", spec], cwd=work, check=True, stdout=subprocess.DEVNULL)
        for entry in entries:
            tarball = work / f"{entry.package.lstrip('@').replace('/', '-')}-{entry.version}.tgz"
            with tarfile.open(tarball) as archive:
                member = archive.extractfile(f"package/{entry.source}")
                if member is None:
                    raise SystemExit(f"{entry.package}@{entry.version} has no {entry.source}")
                target = directory / entry.file
                with target.open("wb") as out:
                    shutil.copyfileobj(member, out)
    problems = mismatches(directory)
    if problems:
        raise SystemExit("\n".join(problems))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare the committed files")
    args = parser.parse_args(argv)
    if not args.check:
        fetch()
    problems = mismatches()
    print("\n".join(problems) or f"{len(manifest())} vendored files match vendor.json")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
