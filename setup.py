"""Build hook for the optional C accelerator of the binary codec; metadata is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "mautrix_whatsapp_py.whatsapp.binary._speedups",
            ["mautrix_whatsapp_py/whatsapp/binary/_speedups.c"],
            extra_compile_args=["-O2"],
            # Without a compiler the pure-Python codec is used; nothing else changes.
            optional=True,
        )
    ]
)
