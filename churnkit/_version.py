"""The version of churnkit: read by the build (pyproject.toml) and the package."""

VERSION = "0.1.0.dev0"
