"""The data side of ``%kounta``: the Parquet dataset ``%kounta sql`` reads, ``--to FILE``, and
``%config Kounta.dataframe = "polars"``.

The dataset lives in ``Kounta.dataset`` (default: ``<cache dir>/dataset``, beside the HTTP cache
and the pull stores), one directory for every company of the notebook: partitions are keyed by
``company_id``, so ``%kounta sql`` sees each company pulled into it and two companies' rows never
mix. Reading goes through :mod:`kounta_nb.dataset` (DuckDB views ``orders``, ``lines``,
``payments``, ``options``, ``listed``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import settings
from .errors import ConfigError, DataFileError

if TYPE_CHECKING:
    from .magic_config import KountaConfig

__all__ = ["DATASET_DIR", "as_dataframe", "check_target", "dataset_line", "dataset_root", "run_sql",
           "write_to"]

#: The dataset's folder in the cache directory when ``Kounta.dataset`` is empty.
DATASET_DIR = "dataset"
_POLARS_MISSING = ("polars is not installed: pip install 'kounta_nb[polars]' (or polars), or go back "
                   "with %config Kounta.dataframe = 'pandas'.")


def dataset_root(options: KountaConfig) -> Path:
    """``Kounta.dataset``, else ``<cache dir>/dataset``."""
    chosen = str(options.dataset).strip()
    return Path(chosen).expanduser() if chosen else settings.cache_dir() / DATASET_DIR


def run_sql(options: KountaConfig, sql: str) -> Any:
    """``sql`` over the dataset → a DataFrame (pandas, or polars per ``Kounta.dataframe``)."""
    from . import dataset

    text = sql.strip()
    if not text:
        raise ConfigError("sql needs a query, e.g. `%kounta sql SELECT site_id, sum(total) FROM orders "
                          "GROUP BY site_id`.")
    root = dataset_root(options)
    if not (root / "manifest.json").is_file():
        raise DataFileError(
            f"There is no dataset in {root} yet: pull orders into it first (`%kounta orders --since 30d "
            "--background --export`), or point %config Kounta.dataset at one.", root)
    con = dataset.connect(root)
    try:
        frame = dataset.query(con, text, dataframe="polars" if options.dataframe == "polars" else "pandas")
    finally:
        con.close()
    if frame is None:
        raise ConfigError("sql runs queries that return rows (SELECT …); the dataset is read-only here.")
    return frame


def as_dataframe(frame: Any, options: KountaConfig) -> Any:
    """``frame`` as the DataFrame kind ``Kounta.dataframe`` asks for (pandas stays as it is)."""
    if options.dataframe != "polars" or type(frame).__module__.startswith("polars"):
        return frame
    try:
        import polars as pl
    except ImportError:
        raise ConfigError(_POLARS_MISSING) from None
    import pyarrow as pa

    # through Arrow: time zones, nullable ints, categoricals (dictionaries) and lists carry over
    table = pa.Table.from_pandas(frame, preserve_index=False)
    return pl.from_arrow(table)


def check_target(path: str) -> Path:
    """``--to FILE`` checked before anything is fetched: a ``.parquet`` or ``.csv`` file name."""
    target = Path(str(path).strip()).expanduser()
    if not str(path).strip() or target.suffix.lower() not in (".parquet", ".csv"):
        raise ConfigError(f"--to needs a file name ending in .parquet or .csv, not {path!r}.")
    if target.is_dir():
        raise ConfigError(f"--to {path}: that is a folder; give a file name ending in {target.suffix}.")
    return target


def write_to(frame: Any, path: str) -> None:
    """``--to FILE``: write ``frame`` to ``.parquet`` or ``.csv`` (lists as JSON) and say so."""
    from . import dataset

    target = dataset.write_frame(frame, check_target(path))
    size = os.path.getsize(target)
    shown = f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"
    print(f"Wrote {frame.shape[0]:,} rows to {target} ({shown}).")


def dataset_line(options: KountaConfig) -> str:
    """``%kounta status``'s line about the dataset ``%kounta sql`` reads."""
    root = dataset_root(options)
    if not (root / "manifest.json").is_file():
        return f"Dataset (%kounta sql): {root} — empty so far; --background --export fills it"
    size = sum(f.stat().st_size for f in root.rglob("*") if f.is_file())
    try:
        from . import dataset

        companies = ", ".join(str(c) for c in sorted(dataset.manifest(str(root)).companies))
    except Exception:  # noqa: BLE001 - the status line never fails over the manifest
        companies = "unreadable manifest"
    return f"Dataset (%kounta sql): {root} ({size / 1e6:.1f} MB; companies {companies or 'none'})"
