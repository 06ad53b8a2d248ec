# Copy what you need into instance/config.py. Every key can also be set as an
# environment variable FLASK_<KEY> (JSON values parse: FLASK_SMTP_PORT=587).
SECRET_KEY = "generate with: python -c 'import secrets; print(secrets.token_hex(32))'"
DATABASE = "proofmark.sqlite"          # relative to the instance folder
MAIL_BACKEND = "smtp"                  # or "file" (writes .eml files to instance/outbox)
SMTP_HOST = "smtp.example.com"
SMTP_PORT = 587
SMTP_USERNAME = "proofs@example.com"
SMTP_PASSWORD = "..."
SMTP_STARTTLS = True
MAIL_FROM = "Example Shop <proofs@example.com>"
PUBLIC_URL = "https://proofs.example.com"
EMBED_ALLOWED_ORIGINS = ["https://shop.example.com"]
DEMO = False
