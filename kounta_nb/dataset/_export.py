"""``export_orders``: stage every chunk, merge partition by partition, commit through a journal.

Crash safety. Every live file is replaced by ``os.replace`` of a complete, fsynced hidden file, so
no reader ever sees half a file. The renames of one export are listed first in a journal
(``root/.kounta/journal-<company>-<token>.json``); a crash between the renames leaves the journal,
and the next export of that company (or :func:`kounta_nb.dataset.connect`) finishes them before
doing anything else, so an export is all or nothing. Leftovers of an export that died before its
journal (staging files, hidden ``.tmp`` files) are removed by the next export of that company.

Concurrency. An export holds its company's lock (``.kounta/locks/company-<id>.lock``) from start
to end: two exports of one company queue, two companies run side by side (their partitions never
overlap). The manifest is read and replaced under a separate, briefly held lock, so both
companies' entries survive.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .. import frames
from ..errors import ConfigError, DataFileError
from ..files import write_private_text
from ..frames.arrow import zone_name
from ._layout import DATA_FILE, SCHEMA_VERSION, TABLES, fsync_dir, internal_dir, make_dir
from ._lock import exclusive
from ._manifest import CompanyEntry, Manifest, load_manifest, save_manifest
from ._merge import Plan, merge_all
from ._stage import Stage, iter_chunks

__all__ = ["export_orders", "recover"]


def _company_lock(root: Path, company_id: int) -> Path:
    return internal_dir(root, "locks") / f"company-{company_id}.lock"


def _manifest_lock(root: Path) -> Path:
    return internal_dir(root, "locks") / "manifest.lock"


def export_orders(
    root: str | os.PathLike[str],
    chunks: Iterable[Any],
    *,
    company_id: int,
    tz: Any,
    pull_id: str | None = None,
    listed: Iterable[Any] | None = None,
) -> Manifest:
    """Write full orders (and optionally the abridged ``listed`` ones) into the dataset at ``root``.

    ``chunks``: lists of full order records (e.g. ``PullStore.iter_bodies()``), or a flat list
    of records. ``company_id``: the company they belong to (the ``company_id=`` partition).
    ``tz``: the company's time zone (IANA name or tzinfo): timestamps are stored in it and it
    decides each order's local day and ``month=`` partition. ``pull_id``: recorded in the manifest.

    Returns the updated :class:`Manifest`; its ``written`` / ``unchanged`` name the partitions
    this export rewrote and those it left alone because no order in them had changed.
    """
    base = _root(root)
    cid = _company(company_id)
    zone = frames.resolve_tz(tz)
    if zone is None:
        raise ConfigError(
            "export_orders needs the company's time zone (tz=…, e.g. client.tz): it decides each "
            "order's local day and month."
        )
    token = secrets.token_hex(6)
    with exclusive(_company_lock(base, cid), what=f"company {cid}'s part of the dataset"):
        recover(base, cid)
        before = load_manifest(base)
        _check_compatible(before, cid, zone_name(zone), base)
        staging = internal_dir(base, "staging") / f"{cid}-{token}"
        make_dir(staging)
        stage = Stage(staging, zone)
        plan: Plan | None = None
        journal: Path | None = None
        try:
            for chunk in iter_chunks(chunks):
                stage.add_orders(chunk)
            for chunk in iter_chunks(listed):
                stage.add_listed(chunk)
            stage.close()
            plan = merge_all(stage, base, cid, token)
            update = {"tz": zone_name(zone), "stats": plan.stats, "pull_id": pull_id,
                      "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}  # fmt: skip
            journal = _journal(base, cid, token, plan, update)
            manifest = _apply(base, cid, journal, plan.renames, update)
        except BaseException:
            stage.close()
            if plan is not None and journal is None:  # not committed: nothing of it may stay
                for tmp, _ in plan.renames:
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
            raise  # once journaled, the next export (or connect) finishes the commit
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    manifest.written = tuple(plan.written)
    manifest.unchanged = tuple(plan.unchanged)
    return manifest


def _root(root: Any) -> Path:
    if not isinstance(root, (str, os.PathLike)) or not str(root).strip():
        raise ConfigError(f"The dataset root must be a directory path, not {root!r}.")
    path = Path(root).expanduser()
    if path.exists() and not path.is_dir():
        raise ConfigError(f"The dataset root {str(path)!r} is a file, not a directory.")
    return make_dir(path)


def _company(company_id: Any) -> int:
    try:
        cid = int(company_id)
    except (TypeError, ValueError):
        cid = -1
    if isinstance(company_id, bool) or cid <= 0:
        raise ConfigError(f"company_id must be a Kounta company id (a positive whole number), not {company_id!r}.")
    return cid


def _check_compatible(manifest: Manifest, company_id: int, zone: str, root: Path) -> None:
    if manifest.companies and manifest.schema_version != SCHEMA_VERSION:
        raise DataFileError(
            f"The dataset at {root} was written with schema version {manifest.schema_version}; "
            f"this kounta_nb writes version {SCHEMA_VERSION}: export into a new directory.",
            root,
        )
    entry = manifest.companies.get(company_id)
    if entry is not None and entry.tz != zone:
        raise ConfigError(
            f"Company {company_id} is in this dataset in time zone {entry.tz}, not {zone}: its "
            "months and local days would not match. Export with the same tz."
        )


def _journal(root: Path, company_id: int, token: str, plan: Plan, update: Mapping[str, Any]) -> Path:
    """Write down the commit (renames + manifest update) before carrying it out."""
    journal = internal_dir(root) / f"journal-{company_id}-{token}.json"
    write_private_text(journal, json.dumps({"company_id": company_id, "renames": plan.renames,
                                            "update": update}))  # fmt: skip
    fsync_dir(journal.parent)
    return journal


def _apply(
    root: Path,
    company_id: int,
    journal: Path,
    renames: list[tuple[str, str]] | list[list[str]],
    update: Mapping[str, Any],
) -> Manifest:
    """Carry out a journal: the renames (those not done yet), then the manifest; then drop it."""
    dirs = set()
    for tmp, final in renames:
        if os.path.exists(tmp):
            os.replace(tmp, final)
            dirs.add(os.path.dirname(final))
    for d in dirs:
        fsync_dir(Path(d))
    with exclusive(_manifest_lock(root), what="the dataset manifest"):
        manifest = load_manifest(root)
        entry = manifest.companies.get(company_id) or CompanyEntry(company_id, str(update["tz"]))
        for key, stats in dict(update["stats"]).items():
            entry.partitions[key] = {**entry.partitions.get(key, {}), **stats}
        for table in TABLES:  # every partition lists every table, 0 where it has no rows
            for stats in entry.partitions.values():
                stats.setdefault(table, 0)
        pull_id = update.get("pull_id")
        if pull_id and pull_id not in entry.pull_ids:
            entry.pull_ids.append(str(pull_id))
        entry.exported_at = str(update["exported_at"])
        manifest.companies[company_id] = entry
        manifest.schema_version = SCHEMA_VERSION
        manifest.updated_at = entry.exported_at
        save_manifest(manifest)
    journal.unlink(missing_ok=True)
    return manifest


def recover(root: Path, company_id: int) -> None:
    """Finish the journals of ``company_id`` a crashed export left, then remove its leftovers.

    Call with the company's lock held (as :func:`export_orders` does).
    """
    internal = root / ".kounta"
    if not internal.is_dir():
        return
    for journal in sorted(internal.glob(f"journal-{company_id}-*.json")):
        try:
            data = json.loads(journal.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            journal.unlink(missing_ok=True)  # written atomically, so only a stray copy is bad
            continue
        _apply(root, company_id, journal, data["renames"], data["update"])
    for staging in (internal / "staging").glob(f"{company_id}-*"):
        shutil.rmtree(staging, ignore_errors=True)
    for table in TABLES:
        for tmp in root.glob(f"{table}/company_id={company_id}/*/*/.{DATA_FILE}.tmp-*"):
            tmp.unlink(missing_ok=True)


def recover_all(root: Path) -> None:
    """:func:`recover` every company whose export is not running (its lock is free)."""
    internal = root / ".kounta"
    if not internal.is_dir():
        return
    companies = {int(p.name.split("-")[1]) for p in internal.glob("journal-*-*.json")
                 if p.name.split("-")[1].isdigit()}  # fmt: skip
    for cid in sorted(companies):
        with contextlib.suppress(DataFileError), exclusive(_company_lock(root, cid), timeout=0):
            recover(root, cid)
