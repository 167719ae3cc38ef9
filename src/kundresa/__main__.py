"""``python -m kundresa``: the ``kundresa`` command.

>>> import subprocess, sys
>>> subprocess.run([sys.executable, "-m", "kundresa", "--help"], capture_output=True).returncode
0
"""

from kundresa.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
