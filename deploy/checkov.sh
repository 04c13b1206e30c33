#!/usr/bin/env bash
# Static security scan of the Terraform in deploy/.
#
# checkov's own dependency pins conflict with the project's, so it lives in a separate virtualenv,
# .venv-tools at the repository root, created here on first use from requirements-tools.txt and
# recreated whenever that file changes (a fresh machine needs about a minute or two for that).
#
#   deploy/checkov.sh           scan and print the compact report; exit 1 when any check fails
#   deploy/checkov.sh --json    scan and print the full JSON report (passed, failed, skipped)
#   deploy/checkov.sh --setup   only make sure .venv-tools holds the pinned checkov
#
# A check that does not apply to this product is skipped inside the resource it concerns, with
# its reason (`#checkov:skip=CKV_…:reason`), never on the command line, so the reason sits next
# to the code a reviewer reads.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${JOBTRIAGE_TOOLS_VENV:-$root/.venv-tools}"
requirements="$root/requirements-tools.txt"
stamp="$venv/.requirements-tools.txt"

if ! cmp -s "$requirements" "$stamp" 2>/dev/null || [ ! -x "$venv/bin/checkov" ]; then
  python="${PYTHON:-python3}"
  echo "checkov.sh: installing $(grep -v '^#' "$requirements" | xargs) into $venv" >&2
  "$python" -m venv "$venv"
  # pip prints one warning per package for package-index locations configured on some machines
  # but absent; they say nothing about this install.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" \
    2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
  cp "$requirements" "$stamp"
fi

cd "$root"
scan=("$venv/bin/checkov" -d deploy --framework terraform --compact --skip-download)
case "${1:-}" in
  --setup) exit 0 ;;
  --json) exec "${scan[@]}" --output json ;;
  "") exec "${scan[@]}" --quiet ;;
  *) echo "usage: deploy/checkov.sh [--json | --setup]" >&2; exit 2 ;;
esac
