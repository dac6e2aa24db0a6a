"""Package discovery for the wheel: every folder with an ``__init__.py`` under the four
top-level source folders is installed as ``polychrome.<folder>.<sub>``.

A hand-written list in pyproject.toml forgot ``core/imageio`` and ``desktop/model``;
discovery cannot. Everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

TOP_LEVEL = ("core", "desktop", "models", "resources")

setup(
    packages=[
        f"polychrome.{name}"
        for name in find_packages(include=[*TOP_LEVEL, *(f"{top}.*" for top in TOP_LEVEL)])
    ],
    package_dir={f"polychrome.{top}": top for top in TOP_LEVEL},
)
