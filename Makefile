# The two commands the README opens with.
.PHONY: run test demo lint messages bench-smoke

PY := .venv/bin/python

run:  ## install, migrate, load demo data, run web + worker + scheduler (Ctrl-C stops all)
	scripts/bootstrap.sh app
	$(PY) manage.py migrate --noinput
	$(PY) manage.py demo_seed
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py up

test:  ## install what tests need and run the whole suite on SQLite and on a throwaway PostgreSQL 15
	scripts/bootstrap.sh test
	$(PY) tools/run_tests.py

lint:  ## ruff, import-linter's layer contracts, and mypy (django-stubs) on the modules listed in pyproject.toml
	$(PY) -m ruff check src tests tools bench
	.venv/bin/lint-imports
	$(PY) -m mypy

messages:  ## re-extract and compile the translations
	cd src/refill && ../../$(PY) ../../manage.py makemessages -l zh_Hans --no-obsolete && ../../$(PY) ../../manage.py compilemessages -l zh_Hans
