"""Make `import site` find Proofmark's `site/` package instead of the standard library's.

Python imports its own `site` module while starting, so without this `flask --app site`
(and `gunicorn 'site:create_app()'`, and the tests) would be handed the standard library
module from `sys.modules`. scripts/setup.sh copies this file into the virtualenv's
site-packages with a `proofmark.pth` that calls `install(<project root>)` at start-up.

`install` puts a finder for our package first on `sys.meta_path`. The standard module
cannot leave `sys.modules` while it is still running (it runs the .pth files), so an
audit hook moves it aside at the first import after start-up, to
`sys.modules["_stdlib_site"]`. Our package forwards unknown attributes to it, so tools
that call e.g. `site.getsitepackages()` keep working.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import sys
from pathlib import Path

_state = {"done": False}


class _ProofmarkSiteFinder(importlib.abc.MetaPathFinder):
    def __init__(self, root: Path) -> None:
        self.package = root / "site"

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "site" or not (self.package / "__init__.py").is_file():
            return None
        return importlib.util.spec_from_file_location(
            "site", self.package / "__init__.py", submodule_search_locations=[str(self.package)]
        )


def _move_stdlib_site_aside(event: str, args) -> None:
    if _state["done"] or event != "import":
        return
    module = sys.modules.get("site")
    spec = getattr(module, "__spec__", None)
    if module is None or getattr(spec, "_initializing", False):
        return
    _state["done"] = True
    if spec is not None and spec.origin and not spec.origin.endswith("__init__.py"):
        sys.modules["_stdlib_site"] = sys.modules.pop("site")


def install(root: str) -> None:
    if any(isinstance(f, _ProofmarkSiteFinder) for f in sys.meta_path):
        return
    finder = _ProofmarkSiteFinder(Path(root))
    if finder.find_spec("site") is None:
        return
    sys.meta_path.insert(0, finder)
    if root not in sys.path:
        sys.path.append(root)
    sys.addaudithook(_move_stdlib_site_aside)
