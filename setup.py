"""Build hook for the optional C inner loop of the cue matcher.

Everything else is declared in pyproject.toml. The extension is ``optional``: where it cannot
be compiled (no C compiler, an unusual interpreter) installation still succeeds and the
pure-Python engine, which gives identical results, is used.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "rapportnotes.extractors._cmatch",
            sources=["rapportnotes/extractors/_cmatch.c"],
            optional=True,
        )
    ]
)
