"""Scratch directories of killed processes are swept; those of living ones are kept."""

import os
import signal
import subprocess
import sys
import time

from mailroom.workdirs import WorkDir, WorkDirs

HOLD = (
    "import sys, time; from pathlib import Path; from mailroom.workdirs import WorkDir; "
    "d = WorkDir(Path(sys.argv[1])); (d.path / 'page.pgm').write_bytes(b'x' * 1000); "
    "print(d.path, flush=True); time.sleep(60)"
)


def hold_work_dir(parent) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(parent)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def test_the_directory_of_a_killed_process_is_removed_at_the_next_start(tmp_path):
    killed, killed_dir = hold_work_dir(tmp_path)
    living, living_dir = hold_work_dir(tmp_path)
    try:
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=10)
        mine = WorkDir(tmp_path)
        assert [str(p) for p in mine.removed] == [killed_dir]
        assert os.path.isdir(living_dir) and not os.path.exists(killed_dir)
        mine.release()
        assert not mine.path.exists()
    finally:
        living.kill()
        living.wait(timeout=10)


def test_a_directory_being_claimed_right_now_is_left_alone(tmp_path):
    claiming = tmp_path / "123-abcdef12"
    claiming.mkdir()  # no lock file yet: another process is between mkdir and flock
    WorkDir(tmp_path).release()
    assert claiming.exists()
    old = time.time() - 3600
    os.utime(claiming, (old, old))
    WorkDir(tmp_path).release()
    assert not claiming.exists()


def test_work_dirs_are_claimed_once_per_parent_and_released_together(tmp_path):
    dirs = WorkDirs()
    first = dirs.claim(tmp_path / "ocr")
    assert dirs.claim(tmp_path / "ocr") == first
    spool = dirs.claim(tmp_path / "spool")
    dirs.release_all()
    assert not first.exists() and not spool.exists()


def test_building_a_mailroom_sweeps_what_a_killed_ocr_process_left(settings):
    from mailroom.bootstrap import build

    parent = settings.work_dir / "ocr"
    killed, killed_dir = hold_work_dir(parent)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=10)
    build(settings).stop()
    assert not os.path.exists(killed_dir)
