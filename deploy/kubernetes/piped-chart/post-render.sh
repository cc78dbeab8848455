#!/bin/sh
# A Helm post-renderer: the chart's rendered manifests on stdin, the same with the runner sidecar
# (this directory's Kustomization) on stdout. Needs kubectl (kubectl kustomize) or kustomize.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/kustomization.yaml" "$here/runner-patch.yaml" "$here/config-from-git.yaml" "$here/runner.yaml" "$work/"
cat > "$work/chart.yaml"
if command -v kubectl >/dev/null 2>&1; then
  kubectl kustomize "$work"
else
  kustomize build "$work"
fi
