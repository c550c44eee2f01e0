"""The Jitsi deployment docs: the anchor the console warning links to, links that resolve, and a
plugin fetch that refuses a file whose checksum does not match."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

REPO = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/deploy.md", "deploy/jitsi/README.md", "deploy/jitsi/debian/CHECKLIST.md"]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def test_the_console_warning_anchor_is_in_deploy_md():
    """The moderator console links to docs/deploy.md#jitsi-host-rights: renaming it breaks the link."""
    text = (REPO / "docs" / "deploy.md").read_text(encoding="utf-8")
    assert text.count('<a id="jitsi-host-rights"></a>') == 1


@pytest.mark.parametrize("doc", DOCS)
def test_relative_links_and_anchors_resolve(doc):
    page = REPO / doc
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if target.startswith(("http://", "https://")):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.is_relative_to(REPO):  # outside the repository (the project's shared/ folder): not ours to check
            continue
        if not file.exists():
            broken.append(target)
        elif anchor and f'id="{anchor}"' not in file.read_text(encoding="utf-8"):
            broken.append(target)
    assert broken == []


def test_fetch_plugins_refuses_a_file_with_another_checksum(tmp_path):
    """A download that is not the pinned file is never installed (curl stands in: no network here)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    curl = bin_dir / "curl"
    curl.write_text('#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --output ] && out=$2; shift; done\n'
                    'echo "not the module" > "$out"\n')
    curl.chmod(0o755)
    target = tmp_path / "plugins"
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["sh", str(REPO / "deploy" / "jitsi" / "fetch-plugins.sh"), str(target)],
                          env=env, capture_output=True, text=True, timeout=30)
    assert done.returncode == 1
    assert "refused" in done.stderr and "nothing was installed" in done.stderr
    assert list(target.iterdir()) == []
