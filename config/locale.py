"""The project's own message catalogs: `python -m config.locale` compiles locale/*/django.po into
the .mo files Django reads, with polib (pure Python: no system gettext needed). The .mo files are
committed, and a test checks they match their .po (tests/config/test_contract_languages.py)."""

from __future__ import annotations

from pathlib import Path

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compiled_catalogs() -> dict[Path, bytes]:
    """Each .po file's .mo path and the bytes it compiles to."""
    # A development tool: the runtime reads the committed .mo files.
    import polib

    compiled: dict[Path, bytes] = {}
    for po_path in sorted(LOCALE_DIR.glob("*/LC_MESSAGES/*.po")):
        mo_path = po_path.with_suffix(".mo")
        compiled[mo_path] = bytes(polib.pofile(str(po_path)).to_binary())
    return compiled


def main() -> None:
    for mo_path, content in compiled_catalogs().items():
        mo_path.write_bytes(content)
        print(f"compiled {mo_path.relative_to(LOCALE_DIR.parent)}")  # noqa: T201


if __name__ == "__main__":
    main()
