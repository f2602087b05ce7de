#!/usr/bin/env bash
# Installs pyradiomics 3.1.0 into the Python given as $1 (default: python3).
#
# Why a script: PyPI has no wheel of pyradiomics 3.1.0, and its source archive cannot be built
# as published: it omits the two C headers (cmatrices.h, cshape.h) that its extension sources
# include, and versioneer reports a wrong version ("3.0.1a1") so a pinned `pip install` refuses it.
# We fetch the archive from PyPI, check its SHA-256, write the headers from the prototypes of the
# C sources themselves, and build without isolation (the build imports the numpy already installed).
set -euo pipefail
PY=${1:-python3}
VERSION=3.1.0
URL=https://files.pythonhosted.org/packages/03/c1/20fc2c50ab1e3304da36d866042a1905a2b05a1431ece35448ab6b4578f2/pyradiomics-3.1.0.tar.gz
SHA256=24722c962a6bbd09bc39c1c67dbffe92435f9692a421fabaae8a6b4511eb48e4

if "$PY" -c "import radiomics, sys; sys.exit(0 if radiomics.__version__.lstrip('v') == '$VERSION' else 1)" 2>/dev/null; then
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cache=${PIP_CACHE_DIR:-$HOME/.cache}/osteoscreen
mkdir -p "$cache"
archive=$cache/pyradiomics-$VERSION.tar.gz
if [ ! -f "$archive" ] || ! echo "$SHA256  $archive" | sha256sum -c --status; then
  curl -fsSL --retry 3 -o "$archive.part" "$URL"
  echo "$SHA256  $archive.part" | sha256sum -c --status || { echo "pyradiomics archive checksum mismatch" >&2; exit 1; }
  mv "$archive.part" "$archive"
fi
tar -xzf "$archive" -C "$work"
src=$work/pyradiomics-$VERSION
# Headers: every top-level function definition of the C file, as a prototype.
for name in cmatrices cshape; do
  "$PY" - "$src/radiomics/src/$name.c" "$src/radiomics/src/$name.h" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
protos = re.findall(r"^((?:int|double|void)\s+\w+\s*\([^)]*\))\s*\{", text, flags=re.M)
open(sys.argv[2], "w").write("#include <stddef.h>\n" + "".join(" ".join(p.split()) + ";\n" for p in protos))
PYEOF
done
# versioneer misreads the tag "v3.1.0"; state the version plainly.
sed -i 's/"version": "v3.1.0"/"version": "3.1.0"/' "$src/radiomics/_version.py"
"$PY" -m pip install -q setuptools wheel versioneer
"$PY" -m pip install -q --no-build-isolation --no-deps "$src"
"$PY" -c "import radiomics; from radiomics import cMatrices, cShape; print('pyradiomics', radiomics.__version__)"
