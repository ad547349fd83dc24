"""The version of gandsl: a leaf, so that what reports it (`gandsl --version`, the compile
cache's key, a generated file's header) need not import the package's lazy front door."""

__version__ = "0.1.0"
