# The two commands: `make run` sets up and runs Berth locally; `make test` sets up and runs every test.
.PHONY: run test chaos bench build migrate stop clean

run:
	scripts/run.sh

test:
	scripts/test.sh

# The fault suite at full size: three rounds of each scenario at 2.5 times the load.
chaos:
	scripts/chaos.sh full

# Every benchmark beside its baseline, in one table (about 10 minutes, after make test's set-up).
bench:
	scripts/bench.sh

build:
	scripts/deps.sh
	swift build

migrate:
	scripts/postgres.sh start
	eval "$$(scripts/postgres.sh env)" && swift run berth migrate

# Stops the local PostgreSQL cluster and the Docker fleet.
stop:
	-[ -x scripts/fleet.sh ] && scripts/fleet.sh stop
	scripts/postgres.sh stop

clean: stop
	scripts/postgres.sh destroy
	rm -rf .local .build .build-release
