import gzip
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
EXTERNAL = SHARED / "external"


def external(relative: str) -> Path:
    """A path under ../shared/external, or skip the test where ../shared is absent."""
    path = EXTERNAL / relative
    if not path.exists():
        pytest.skip(f"../shared/external/{relative} is not available here")
    return path


def write_json(path: Path, document, *, gz: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(document).encode()
    path.write_bytes(gzip.compress(data, mtime=0) if gz else data)
    return path


def write_lines(path: Path, records: list, *, raw_lines: dict[int, str] | None = None) -> Path:
    """JSON Lines; ``raw_lines`` replaces given 0-based lines with raw text (to plant broken lines)."""
    lines = [json.dumps(r) for r in records]
    for index, text in (raw_lines or {}).items():
        lines.insert(index, text)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def _configure_hypothesis() -> None:
    """Property tests keep no example database in the repository: tests write only under tmp_path."""
    try:
        from hypothesis import settings
    except ImportError:
        return
    settings.register_profile("overreach", database=None, deadline=None)
    settings.load_profile("overreach")


_configure_hypothesis()
