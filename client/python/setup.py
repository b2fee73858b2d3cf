"""Builds the mfserve package with its gRPC stubs generated into the build, never the source.

pyproject.toml holds the metadata. This file adds one step to setuptools' build_py: compile
proto/src/main/proto/mfserve/v1/mfserve.proto (the repository's wire contract, two directories
up, or $MFSERVE_PROTO_DIR) with Debian's protoc and grpc_python_plugin into the build
directory's mfserve/v1/. Debian's protoc 3.21 is used on purpose: code from protoc 4.x needs a
newer Python protobuf runtime than Debian's python3-protobuf. Override the tools with $PROTOC
and $GRPC_PYTHON_PLUGIN.

    python3 -m venv --system-site-packages venv
    venv/bin/pip install --no-build-isolation ./client/python
"""

import os
import pathlib
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = pathlib.Path(__file__).resolve().parent


def _proto_dir() -> pathlib.Path:
    given = os.environ.get("MFSERVE_PROTO_DIR")
    path = pathlib.Path(given) if given else HERE.parent.parent / "proto" / "src" / "main" / "proto"
    if not (path / "mfserve" / "v1" / "mfserve.proto").is_file():
        raise SystemExit(f"mfserve.proto not found under {path}: build from a checkout of the "
                         "mfserve repository, or set MFSERVE_PROTO_DIR to proto/src/main/proto")
    return path


def _tool(env: str, default: str, package: str) -> str:
    path = os.environ.get(env, default)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"{path} not found: install the Debian package {package} (or set {env})")
    return path


class BuildWithStubs(build_py):
    """build_py, then the stubs of mfserve.v1 generated into the build directory."""

    def run(self):
        super().run()
        out = pathlib.Path(self.build_lib)
        protoc = _tool("PROTOC", "/usr/bin/protoc", "protobuf-compiler")
        plugin = _tool("GRPC_PYTHON_PLUGIN", "/usr/bin/grpc_python_plugin",
                       "protobuf-compiler-grpc")
        subprocess.run([protoc, f"-I{_proto_dir()}", f"--python_out={out}",
                        f"--grpc_python_out={out}", f"--plugin=protoc-gen-grpc_python={plugin}",
                        "mfserve/v1/mfserve.proto"], check=True)
        # protoc writes modules, not packages: mark mfserve.v1 as a package.
        (out / "mfserve" / "v1" / "__init__.py").write_text(
            '"""Generated at build time from mfserve/v1/mfserve.proto; not in the source."""\n')


setup(cmdclass={"build_py": BuildWithStubs})
