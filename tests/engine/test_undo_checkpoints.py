"""A step's checkpoint at the workspace level: what :meth:`Workspace.apply` journals (pre-images and modes, the post
state, the new directories) is enough for :func:`checkpoints.restore` to put back symlinks, binary files, a file that
became a directory and a directory that became a file. Real git repositories, real stagings."""

from __future__ import annotations

import os
from pathlib import Path

from orchestrator.core.records import JournalEntry
from orchestrator.workspace import checkpoints
from orchestrator.workspace.staging import Workspace
from tests.engine.undo_support import fingerprint
from tests.support import make_repo


def test_restore_puts_back_symlinks_binaries_and_file_directory_swaps(tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", {"a.txt": "a\n", "blob.bin": bytes(range(256)), "flat": "file\n",
                                         "tree/leaf.txt": "leaf\n", "target.txt": "t\n"})
    os.symlink("target.txt", repo / "link")
    (repo / "tool").write_text("#!/bin/sh\n")
    start = fingerprint(repo)
    ws = Workspace(repo)
    staging = ws.create_staging(tmp_path / "stagings", "s1")
    tree = staging.tree
    (tree / "link").unlink()
    os.symlink("a.txt", tree / "link")  # retargeted
    os.symlink("blob.bin", tree / "new_link")  # created
    (tree / "blob.bin").write_bytes(bytes(reversed(range(256))))
    (tree / "flat").unlink()
    (tree / "flat").mkdir()
    (tree / "flat" / "inside.txt").write_text("now a directory\n")
    (tree / "tree" / "leaf.txt").unlink()
    (tree / "tree").rmdir()
    (tree / "tree").write_text("now a file\n")
    (tree / "deep" / "er").mkdir(parents=True)
    (tree / "deep" / "er" / "x.txt").write_text("x\n")
    (tree / "tool").chmod(0o755)
    entries: list[JournalEntry] = []
    ws.apply("s1", staging.diff(), staging.changed_files(), entries.append)
    staging.remove()
    assert os.readlink(repo / "link") == "a.txt" and (repo / "flat" / "inside.txt").is_file()
    done = entries[-1]
    assert done.state == "done" and set(done.new_dirs) == {"deep", "deep/er", "flat"}
    assert all(checkpoints.same(done.post[f], checkpoints.image(repo, f)) for f in done.files)

    checkpoints.restore(repo, done)

    assert fingerprint(repo) == start
    assert os.readlink(repo / "link") == "target.txt" and not (repo / "deep").exists()
