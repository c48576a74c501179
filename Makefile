# The two commands of the README, plus the benchmark. Each works on a fresh Debian 12 machine as root.
.PHONY: serve test bench bench-compare bench-bundles bench-stats bench-console migrate package test-packages test-containers fuzz

serve:  ## install what is missing, build, start PostgreSQL + the gateway on 127.0.0.1:8080
	bash .ci/serve

test:   ## every test tier (see .ci/test)
	bash .ci/test

bench:  ## the update-check benchmark recorded in the README (see .ci/bench)
	bash .ci/bench

bench-compare:  ## this tree against a baseline commit (BENCH_BASELINE), as ratios, in one run (see .ci/bench-compare)
	bash .ci/bench-compare

bench-bundles:  ## bundle upload, download, delta and storage figures (see .ci/bench-bundles)
	bash .ci/bench-bundles

bench-stats:  ## statistics aggregation rate, freshness and query latency (see .ci/bench-stats)
	bash .ci/bench-stats

bench-console:  ## the web console's render times with 1,000,000 devices and its first-load size (see .ci/bench-console)
	bash .ci/bench-console

migrate:  ## apply migrations/ to DATABASE_URL (see .ci/migrate)
	bash .ci/migrate

package:  ## Debian packages in target/packages: postgresql-<N>-liveupdate, liveupdate (see .ci/package)
	bash .ci/package

test-packages:  ## install the packages into fresh Debian roots and check they work (see .ci/test-packages)
	bash .ci/test-packages

test-containers:  ## build the container images and run the compose stack with podman (see .ci/test-containers)
	bash .ci/test-containers

fuzz:  ## coverage-guided fuzzing of the request, stats, channel, archive and management parsers (see .ci/fuzz)
	bash .ci/fuzz
