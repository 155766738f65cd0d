#!/usr/bin/env bash
# make demo: the main job on the bundled defaults. Everything it writes goes to out/demo/.
set -euo pipefail
bin=${1:-.build/release/rehearse}
out=out/demo
mkdir -p "$out"
say() { printf '\n== %s\n' "$*"; }

say "1. The event kernel against queueing theory: M/M/8 at utilisation 0.9, a million customers"
"$bin" bench kernel --model mmc --seed 42

say "2. The bundled fleet: 3 Gitaly nodes behind 3 Praefects (models/gitaly-cluster-3.yaml)"
"$bin" model check models/gitaly-cluster-3.yaml

say "3. Six minutes of synthetic traffic from the bundled 10k-user profile, stored in SQLite ($out/traces.sqlite)"
"$bin" trace generate --profile models/traffic/reference-10k-users.yaml --hours 0.1 --seed 42 --out "$out/traffic.csv"
rm -f "$out/traces.sqlite"
"$bin" trace import "$out/traffic.csv" --db "$out/traces.sqlite"
"$bin" trace stats --db "$out/traces.sqlite" --top 5 | sed '/^by hour of day/,$d'

say "4. The same traffic fitted back into a profile ($out/profile.yaml); its first method:"
"$bin" trace fit --db "$out/traces.sqlite" --out "$out/profile.yaml" --seed 42
sed -n '/^methods:/,/^  errorRatio/p' "$out/profile.yaml"
echo "   (the bundled profile it came from: models/traffic/reference-10k-users.yaml)"

say "5. The stored trace replayed through the simulated cluster (routing, limiter, cores, Praefect)"
"$bin" simulate --model models/gitaly-cluster-3.yaml --db "$out/traces.sqlite" --seed 42

say "6. The same cluster under twice that traffic from the profile, for the same six minutes"
"$bin" simulate --model models/gitaly-cluster-3.yaml --profile models/traffic/reference-10k-users.yaml --hours 0.1 --rate 2 --seed 42

say "7. A migration rehearsal: 300 repositories from VMs onto Kubernetes pods in the blueprint's phases (pre, gstg, gprd-cny, gprd)"
"$bin" inventory generate --model models/vms-and-pods.yaml --repositories 300 --seed 42 --out "$out/inventory.csv"
"$bin" plan --inventory "$out/inventory.csv" --model models/vms-and-pods.yaml --policy models/policies/vm-to-k8s.yaml --out "$out/plan.json"

say "8. The rehearsal as a Monte Carlo experiment (experiments/vm-to-k8s-300.yaml): every replication plans and runs the migration under its own traffic and draws"
rm -f "$out/results.sqlite"
"$bin" run experiments/vm-to-k8s-300.yaml --db "$out/results.sqlite"
"$bin" report "$out/results.sqlite" --html "$out/report.html"
echo "   (open $out/report.html in a browser; the plan: $out/plan.json)"
