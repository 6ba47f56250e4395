"""`hems backup` and `hems restore` as an installer runs them: config and keys back on a new card."""
from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from hems.store import Store

from tests.backup.conftest import PASSPHRASE, fill

SHIPPED = Path(__file__).resolve().parents[2] / "images" / "boot" / "hems" / "config.toml"


def site(tmp_path: Path, name: str, key: bytes | None) -> Path:
    """A site directory with a config (data_dir inside it) and, if key, an aggregator key file."""
    root = tmp_path / name
    root.mkdir()
    text = SHIPPED.read_text().replace('data_dir = "/var/lib/hems"', f'data_dir = "{root / "data"}"')
    if key is not None:
        (root / "agg.key").write_bytes(key)
        (root / "agg.key").chmod(0o600)
        text += ('\n[aggregator]\nhost = "127.0.0.1"\nsite_id = "home-1"\n'
                 f'auth_key_file = "{root / "agg.key"}"\n')
    (root / "config.toml").write_text(text)
    return root


def hems(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hems.cli", *argv], capture_output=True, text=True,
                          input=stdin, timeout=120)


def backed_up_site(tmp_path: Path) -> tuple[Path, Path]:
    """An old site with 3 days of history and its backup (passphrase in tmp_path/pass): (site, backup)."""
    old = site(tmp_path, "old", key=None)
    store = Store(old / "data" / "hems.sqlite")
    fill(store, 3)
    store.close()
    (tmp_path / "pass").write_text(PASSPHRASE)
    made = hems("backup", "--config", str(old / "config.toml"), "-o", str(tmp_path / "b.hemsbackup"),
                "--passphrase-file", str(tmp_path / "pass"))
    assert made.returncode == 0, made.stderr
    return old, tmp_path / "b.hemsbackup"


def test_backup_then_restore_on_a_new_card(tmp_path: Path):
    old = site(tmp_path, "old", key=b"k" * 48)
    store = Store(old / "data" / "hems.sqlite")
    fill(store, 3)
    store.close()
    (tmp_path / "pass").write_text(PASSPHRASE + "\n")

    made = hems("backup", "--config", str(old / "config.toml"), "-o", str(tmp_path),
                "--passphrase-file", str(tmp_path / "pass"))
    assert made.returncode == 0, made.stderr
    backup = Path(re.search(r"backup written: (\S+)", made.stdout).group(1))
    assert backup.name.endswith(".hemsbackup") and backup.parent == tmp_path

    info = hems("restore", str(backup), "--info")
    assert info.returncode == 0 and "schema 3" in info.stdout

    new = site(tmp_path, "new", key=None)
    restored = hems("restore", str(backup), "--config", str(new / "config.toml"), "--passphrase-file",
                    str(tmp_path / "pass"), "--files", "--config-to", str(new / "config.toml"))
    assert restored.returncode == 0, restored.stderr
    assert "schema 3 -> 3" in restored.stdout
    # the config came back (its data_dir still points at the old site's; the installer's copy is kept)
    assert (new / "config.toml").read_text() == (old / "config.toml").read_text()
    assert (new / "config.toml.before-restore").exists()
    # the key file that was beside the old config is beside the new one
    assert (new / "agg.key").read_bytes() == b"k" * 48 and (new / "agg.key").stat().st_mode & 0o777 == 0o600
    db = sqlite3.connect(new / "data" / "hems.sqlite")
    assert db.execute("SELECT COUNT(*) FROM measurements").fetchone() == (100,)
    db.close()

    again = hems("restore", str(backup), "--config", str(tmp_path / "new" / "config.toml.before-restore"),
                 "--passphrase-file", str(tmp_path / "pass"))
    assert again.returncode == 1 and "exists: stop hems and add --force" in again.stderr


def test_restore_refuses_a_wrong_passphrase_and_leaves_the_database(tmp_path: Path):
    old, _ = backed_up_site(tmp_path)
    (tmp_path / "wrong").write_text("another passphrase")
    before = (old / "data" / "hems.sqlite").read_bytes()
    refused = hems("restore", str(tmp_path / "b.hemsbackup"), "--config", str(old / "config.toml"),
                   "--passphrase-file", str(tmp_path / "wrong"), "--force")
    assert refused.returncode == 1
    assert "restore refused: wrong passphrase, or the backup was altered" in refused.stderr
    assert (old / "data" / "hems.sqlite").read_bytes() == before
    assert not list((old / "data").glob("hems-restore-*"))       # no leftovers


def test_backup_without_passphrase_in_a_pipe_says_how(tmp_path: Path):
    old = site(tmp_path, "old", key=None)
    Store(old / "data" / "hems.sqlite").close()
    out = hems("backup", "--config", str(old / "config.toml"), "-o", str(tmp_path), stdin="")
    assert out.returncode == 1 and "give --passphrase-file" in out.stderr


def test_restore_into_a_data_dir_as_the_image_does_at_first_boot(tmp_path: Path):
    """hems-setup restores before any config is valid: it names the data directory."""
    old, _ = backed_up_site(tmp_path)
    boot = tmp_path / "boot"
    boot.mkdir()
    (boot / "config.toml").write_text("# the card's own config\n")
    done = hems("restore", str(tmp_path / "b.hemsbackup"), "--data-dir", str(tmp_path / "fresh"),
                "--passphrase-file", str(tmp_path / "pass"), "--force", "--files",
                "--config-to", str(boot / "config.toml"))
    assert done.returncode == 0, done.stderr
    assert (boot / "config.toml").read_text() == (old / "config.toml").read_text()
    assert (boot / "config.toml.before-restore").read_text() == "# the card's own config\n"
    db = sqlite3.connect(tmp_path / "fresh" / "hems.sqlite")
    assert db.execute("SELECT COUNT(*) FROM measurements").fetchone() == (100,)
    db.close()
