"""Installing a plugin as pip would, without pip: a ``.dist-info`` folder with its metadata and
entry point, on a path a subprocess puts on ``PYTHONPATH``. ``importlib.metadata`` finds it as
it finds any installed distribution, so the gateway loads it through the entry-point group."""

from __future__ import annotations

from pathlib import Path


def install_plugin(root: Path, *, distribution: str, version: str, entry_point: str, module: str) -> Path:
    """Write ``<distribution>-<version>.dist-info`` under ``root``, registering ``entry_point =
    module`` in the ``sync_gateway`` group; return ``root`` (for ``PYTHONPATH``)."""
    info = root / f"{distribution.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {distribution}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[sync_gateway]\n{entry_point} = {module}\n")
    return root
