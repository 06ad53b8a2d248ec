.PHONY: run test dev bench

run:   ## set up and serve the site on http://127.0.0.1:5000 (gunicorn)
	bash scripts/run.sh

test:  ## set up and run the whole test suite (ruff, unit, integration, e2e)
	bash scripts/test.sh

dev:   ## Flask's development server with reload and debugger
	bash scripts/setup.sh && .venv/bin/flask --app proofmark run --debug
