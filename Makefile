# Thin aliases for the scripts the README documents.
.PHONY: install repro test
install:
	scripts/setup-env
repro:
	scripts/repro
test:
	scripts/test
