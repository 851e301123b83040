"""Build of mqa's optional compiled fast paths (analyzer/_speedups.c); everything else is in
pyproject.toml.  Without a C compiler and Python's headers the build skips the extension and
mqa runs its pure-Python paths, which give the same results more slowly.  MQA_REQUIRE_SPEEDUPS=1
(set by scripts/test.sh) makes a failed build an error instead."""

import os

from setuptools import Extension, setup

required = os.environ.get("MQA_REQUIRE_SPEEDUPS", "") not in ("", "0")
setup(ext_modules=[Extension("analyzer._speedups", ["analyzer/_speedups.c"], optional=not required)])
