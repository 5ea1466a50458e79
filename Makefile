# The README's commands. Each one runs the idempotent setup first.
.PHONY: run test setup deb bench
run:
	@scripts/kassa.sh run
test:
	@scripts/kassa.sh test
setup:
	@scripts/kassa.sh setup
deb:
	@scripts/kassa.sh deb
bench:
	@scripts/kassa.sh bench
