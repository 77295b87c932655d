"""Jobs run once each, into folders under one output root, never losing a finished one.

A job's name is its folder under the root: plain names (letters, digits, ``.``, ``_``, ``-``; no leading dot),
joined by ``/`` where a job writes into a subfolder, unique within the batch (ignoring case, as some file systems
do). A job works in a fresh folder under ``ROOT/.synctweedies-work``, which no job name can reach, and that folder
becomes the job's in one rename when it finishes; a failed or refused job leaves nothing behind. A job whose folder
exists finished before and is skipped, so running a batch again after an interruption does only the rest.

Standard library only: the ComfyUI client imports it without torch.
"""
from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, Callable
from urllib.parse import quote

PLAIN_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]{0,99}")
"""One folder name a job may use: no separators, no leading dot, at most 100 characters."""
WORK_FOLDER = ".synctweedies-work"
"""Under the root: where jobs in progress write. It starts with a dot, so no job name can be it."""
STATUSES = ("done", "skipped", "failed", "unreachable")


def job_name(name: str) -> str:
    """``name`` as a job's relative folder (``"a"``, ``"output/mesh/a"``); a ValueError saying what is wrong."""
    text = str(name).replace("\\", "/")
    parts = [part for part in PurePosixPath(text).parts if part != "."]
    if not parts or text.startswith("/") or re.match(r"[A-Za-z]:", text):
        raise ValueError(f"the name {name!r} is not a relative folder name")
    for part in parts:
        if not PLAIN_NAME.fullmatch(part):
            raise ValueError(f"the name {name!r} has {part!r}, which is not a plain name: use letters, digits, "
                             "'.', '_' and '-' (at most 100, not starting with a dot)")
    return "/".join(parts)


def name_under(root: Path, folder: Path | str) -> str:
    """The job name of ``folder`` (relative to ``root``, or absolute) under ``root``; a ValueError when it lies
    elsewhere. Paths are compared as written: :class:`JobRun` refuses symbolic links on the way."""
    path = Path(folder)
    if path.is_absolute():
        try:
            path = Path(os.path.normpath(path)).relative_to(os.path.normpath(root.absolute()))
        except ValueError:
            raise ValueError(f"{folder} is outside the output root {root}") from None
    text = str(path).replace("\\", "/")
    if ".." in PurePosixPath(text).parts:
        raise ValueError(f"{folder} leads out of the output root {root} ('..')")
    return job_name(text)


@dataclass
class Job:
    """A manifest entry: its position, name (folder under the root), what its runner needs, and why it cannot run
    (set before anything runs); ``work`` is its folder in progress while it runs."""

    index: int
    name: str
    spec: Any = None
    problem: str | None = None
    work: Path | None = None


@dataclass
class Outcome:
    status: str  # one of STATUSES
    detail: str = ""
    seconds: float = 0.0


@dataclass
class JobRun:
    """Runs a batch's jobs once under ``root``. Construction checks every job (plain, unique names; no folder that
    is a link, or leads through one; no folder holding something other than a finished run) and reports the
    refused and the finished ones; :meth:`start` gives a pending job its fresh work folder, and :meth:`finish`
    moves it into place (done) or removes it (failed), and reports."""

    jobs: list[Job]
    root: Path
    report: Callable[[Job, Outcome], None]
    finished: Callable[[Path], bool] = Path.is_dir
    outcomes: dict[int, Outcome] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.root = Path(self.root).absolute()
        owners: dict[str, Job] = {}
        for job in self.jobs:
            try:
                if job.problem:
                    raise ValueError(job.problem)
                job.name = job_name(job.name)
                if job.name.casefold() in owners:
                    raise ValueError(f"job {owners[job.name.casefold()].index + 1} writes the same folder "
                                     f"{job.name}; give each job its own name")
                owners[job.name.casefold()] = job
                self.check_folder(job.name)
                folder = self.folder(job)
                if folder.exists() and not self.finished(folder):
                    raise ValueError(f"{folder} holds something that is not a finished run; move it away or give "
                                     "the job another name")
            except ValueError as error:
                job.problem = str(error)
                self.record(job, Outcome("failed", job.problem))
                continue
            if folder.exists():
                self.record(job, Outcome("skipped", "finished before"))

    def folder(self, job: Job) -> Path:
        return self.root.joinpath(*job.name.split("/"))

    def check_folder(self, name: str) -> None:
        """A ValueError when the folder of ``name``, or a folder on the way to it, is a link or not a folder."""
        path = self.root
        for part in name.split("/"):
            path = path / part
            if path.is_symlink():
                raise ValueError(f"{path} is a symbolic link; a job writes only into real folders under {self.root}")
            if path.exists() and not path.is_dir():
                raise ValueError(f"{path} is a file, not a folder")

    @property
    def pending(self) -> list[Job]:
        return [job for job in self.jobs if job.index not in self.outcomes]

    def start(self, job: Job) -> Path:
        """A fresh, empty work folder for ``job`` (an interrupted run's leftovers are removed first)."""
        job.work = self.root / WORK_FOLDER / quote(job.name, safe="")
        if job.work.exists():
            shutil.rmtree(job.work)
        job.work.mkdir(parents=True)
        return job.work

    def finish(self, job: Job, outcome: Outcome) -> None:
        """Record ``outcome``: a done job's work folder becomes its folder in one rename; any other is removed."""
        if outcome.status == "done":
            try:
                self.check_folder(job.name)
                folder = self.folder(job)
                folder.parent.mkdir(parents=True, exist_ok=True)
                if folder.exists():
                    raise ValueError(f"{folder} appeared while the job ran; its run was not moved there")
                job.work.rename(folder)
            except (ValueError, OSError) as error:
                outcome = Outcome("failed", f"cannot move the finished run into place: {error}", outcome.seconds)
        if job.work is not None:
            shutil.rmtree(job.work, ignore_errors=True)
            job.work = None
        self.record(job, outcome)

    def record(self, job: Job, outcome: Outcome) -> None:
        self.outcomes[job.index] = outcome
        self.report(job, outcome)

    def close(self) -> dict[str, int]:
        """Remove the empty work area; the count of jobs by status."""
        work = self.root / WORK_FOLDER
        if work.is_dir() and not any(work.iterdir()):
            work.rmdir()
        return {status: sum(o.status == status for o in self.outcomes.values()) for status in STATUSES}

    def summary(self, counts: dict[str, int]) -> str:
        """One line of :meth:`close`'s ``counts``."""
        return (f"{counts['done']} done, {counts['skipped']} skipped (finished before), "
                f"{counts['failed'] + counts['unreachable']} failed, of {len(self.jobs)} jobs")


def report_line(total: int) -> Callable[[Job, Outcome], None]:
    """A reporter printing ``[i/total] name: what happened``, one line a job."""
    def report(job: Job, outcome: Outcome) -> None:
        line = {"done": f"done in {outcome.seconds:.1f} s" + (f" ({outcome.detail})" if outcome.detail else ""),
                "skipped": "skipped: finished before"}.get(outcome.status, f"FAILED: {outcome.detail}")
        print(f"[{job.index + 1}/{total}] {job.name or 'job ' + str(job.index + 1)}: {line}", flush=True)
    return report
