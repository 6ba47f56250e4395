"""Write the console scripts of the packages in a site-packages directory for another root.

    console_scripts.py SITE_PACKAGES VENV_IN_IMAGE BIN_DIR

pip on the build host installs the arm64 wheels with --target, which writes scripts for the
host's Python; this writes them for the image's venv, as pip would inside it.
"""
from __future__ import annotations

import configparser
import sys
from pathlib import Path

TEMPLATE = """#!{venv}/bin/python3
import sys
from {module} import {attr}
if __name__ == "__main__":
    sys.exit({call}())
"""


def main(site: Path, venv: str, bin_dir: Path) -> int:
    written = []
    for entry_points in sorted(site.glob("*.dist-info/entry_points.txt")):
        parser = configparser.ConfigParser(delimiters=("=",))
        parser.optionxform = str
        parser.read(entry_points)
        if not parser.has_section("console_scripts"):
            continue
        for name, target in parser.items("console_scripts"):
            module, _, attr = target.strip().partition(":")
            attr = attr.split("[")[0].strip()
            script = bin_dir / name
            script.write_text(TEMPLATE.format(venv=venv, module=module.strip(),
                                              attr=attr.split(".")[0], call=attr))
            script.chmod(0o755)
            written.append(name)
    print("console scripts:", " ".join(written), file=sys.stderr)
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])))
