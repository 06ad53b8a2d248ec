"""Only one build step beyond pyproject.toml: the translations (site/translations/*/LC_MESSAGES/
messages.po) are compiled to .mo files into the wheel, so the .mo files are never committed.
scripts/setup.sh compiles them in place for a checkout."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithTranslations(build_py):
    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("site/translations").glob("*/LC_MESSAGES/messages.po")):
            target = Path(self.build_lib) / "proofmark" / po.relative_to("site").with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source:
                catalog = read_po(source)
            with target.open("wb") as out:
                write_mo(out, catalog)


setup(cmdclass={"build_py": BuildWithTranslations})
