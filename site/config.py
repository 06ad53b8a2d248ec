"""Default settings. Each key can be overridden by `instance/config.py` or by an
environment variable `FLASK_<KEY>` (values parsed as JSON where they parse, so
`FLASK_SMTP_PORT=2525` is an int and `FLASK_EMBED_ALLOWED_ORIGINS='["https://a"]'` a list).
The README documents every key."""

from __future__ import annotations

DEFAULTS: dict = {
    # Signing key for sessions, design tokens and approval links. Generated into
    # instance/config.py by `flask --app proofmark init-instance`; never hard-coded.
    "SECRET_KEY": None,
    # SQLite file; relative paths are inside the instance folder.
    "DATABASE": "proofmark.sqlite",
    # Idle connections a worker keeps for its next requests (0: close each after its request).
    "DB_POOL_SIZE": 8,
    # Decisions and their confirmations commit through one writer thread per process, many in
    # one transaction (one fsync); each caller returns once its own write is committed.
    "DB_GROUP_COMMIT": True,
    # "file" writes each message as .eml into OUTBOX_DIR; "smtp" delivers via SMTP_*.
    "MAIL_BACKEND": "file",
    "OUTBOX_DIR": "outbox",
    "SMTP_HOST": "127.0.0.1",
    "SMTP_PORT": 25,
    "SMTP_USERNAME": "",
    "SMTP_PASSWORD": "",
    "SMTP_STARTTLS": False,
    "SMTP_TIMEOUT": 10,
    "MAIL_FROM": "Proofmark <proofs@localhost>",
    # Base for links in emails (approval links are absolute).
    "PUBLIC_URL": "http://127.0.0.1:5000",
    # Request size ceilings (bytes), checked before anything is read: the whole site, the
    # shopper's forms (a few lines of text), and the part of an address after the `?`.
    "MAX_CONTENT_LENGTH": 512 * 1024,
    "SHOPPER_FORM_MAX_BYTES": 64 * 1024,
    "MAX_QUERY_STRING_BYTES": 8192,
    # Compression (flask-compress) of pages, styles, scripts and JSON: brotli where the browser
    # takes it, else gzip. Images are compressed already.
    "COMPRESS_ALGORITHM": ["br", "gzip"],
    # Streamed responses are not compressed (proofmark.assets buffers small text files instead).
    "COMPRESS_STREAMS": False,
    "COMPRESS_MIMETYPES": [
        "text/html",
        "text/css",
        "text/javascript",
        "application/javascript",
        "application/json",
        "image/svg+xml",
    ],
    # Origins allowed to frame /embed/* (CSP frame-ancestors) and to receive postMessage.
    "EMBED_ALLOWED_ORIGINS": [],
    # Stored images (preview cache, proof images), relative to the instance folder.
    "IMAGE_DIR": "images",
    # Width in px of the PNG each revision is rendered to (what the customer approves).
    "PROOF_IMAGE_WIDTH": 2400,
    # The folder whose node_modules/ holds htmx and the font packages (`npm ci`). Empty:
    # $PROOFMARK_ASSET_ROOT, else the source checkout, else the working directory.
    "ASSET_ROOT": "",
    # Demo mode: seeds a demo shop and staff login and shows /dev/outbox (to signed-in staff).
    # `make run` serves it on 127.0.0.1 only.
    "DEMO": False,
    # The demo shop's anonymous "Place order" (POST /orders) outside demo and debug mode: off
    # unless turned on, and then at most SHOP_ORDERS_PER_HOUR orders per client address.
    "SHOP_ORDERS": False,
    "SHOP_ORDERS_PER_HOUR": 10,
    "SHOP_NAME": "Proofmark Demo Shop",
    # The shop's look (proofmark.theme, README "The shop's look"): accent, ink, background (CSS
    # colours), font (the page chrome's font-family), button_radius (e.g. "0px", "999px") and
    # logo (a .png/.jpg/.svg file in the instance folder), each optional.
    "SHOP_THEME": {},
    # The disclosure shown before ordering and approving (EU CRD Art. 6(1)(k), 16(c)).
    # Its version is recorded with every confirmation and approval.
    "DISCLOSURE_VERSION": "2026-11-01",
    "DISCLOSURE_TEXT": (
        "This item is made to your specifications and personalised with the text you provide. "
        "Personalised items cannot be returned or exchanged for a change of mind: the 14-day "
        "right of withdrawal does not apply (EU Directive 2011/83/EU, Art. 16(c); UK Consumer "
        "Contracts Regulations 2013). If we make a mistake, we remake the item at our cost."
    ),
    # The shop's language for every shopper page and email (README, "Languages"): empty lets the
    # embed's data-lang, then the browser, choose among en, de, fr, es, nl. Staff pages use it too.
    "SHOP_LANGUAGE": "",
    # The disclosure in the other languages, shop configuration like DISCLOSURE_TEXT (which is the
    # English one): {language: {"version": ..., "text": ...}}. Each confirmation and approval
    # records the text's hash, version and the language it was shown in.
    "DISCLOSURES": {
        "de": {
            "version": "2026-11-01",
            "text": (
                "Dieser Artikel wird nach Ihren Vorgaben angefertigt und mit dem von Ihnen angegebenen "
                "Text personalisiert. Personalisierte Artikel sind von Rückgabe und Umtausch "
                "ausgeschlossen, wenn Sie es sich nur anders überlegen: Das 14-tägige Widerrufsrecht "
                "besteht nicht (§ 312g Abs. 2 Nr. 1 BGB; Art. 16 Buchst. c der Richtlinie 2011/83/EU). "
                "Wenn uns ein Fehler unterläuft, fertigen wir den Artikel auf unsere Kosten neu an."
            ),
        },
        "fr": {
            "version": "2026-11-01",
            "text": (
                "Cet article est fabriqué selon vos spécifications et personnalisé avec le texte que "
                "vous fournissez. Un article personnalisé ne peut être ni retourné ni échangé si vous "
                "changez d’avis : le droit de rétractation de 14 jours ne s’applique pas (directive "
                "2011/83/UE, art. 16, point c ; Code de la consommation, art. L221-28, 3°). Si nous "
                "commettons une erreur, nous refaisons l’article à nos frais."
            ),
        },
        "es": {
            "version": "2026-11-01",
            "text": (
                "Este artículo se fabrica según sus especificaciones y se personaliza con el texto que "
                "usted nos indica. Los artículos personalizados no admiten devolución ni cambio por "
                "haber cambiado de opinión: no se aplica el derecho de desistimiento de 14 días "
                "(Directiva 2011/83/UE, art. 16, letra c; Real Decreto Legislativo 1/2007, art. 103, "
                "letra c). Si cometemos un error, volvemos a fabricar el artículo a nuestro cargo."
            ),
        },
        "nl": {
            "version": "2026-11-01",
            "text": (
                "Dit artikel wordt volgens uw specificaties gemaakt en gepersonaliseerd met de tekst "
                "die u opgeeft. Gepersonaliseerde artikelen kunnen niet worden geretourneerd of "
                "geruild omdat u van gedachten bent veranderd: het herroepingsrecht van 14 dagen is "
                "niet van toepassing (Richtlijn 2011/83/EU, art. 16, onder c; art. 6:230p, onder f, "
                "BW). Als wij een fout maken, maken wij het artikel op onze kosten opnieuw."
            ),
        },
    },
    # Approval links and reminders.
    "APPROVAL_LINK_MAX_AGE_DAYS": 14,
    "REMINDER_AFTER_DAYS": 3,
    "EXPIRE_AFTER_DAYS": 14,
    # Proofs and mail. The statements a customer ticks to approve; their exact
    # wording is recorded with each approval, so change the id when the meaning changes.
    "APPROVAL_STATEMENTS": [
        {"id": "spelling", "text": "I have checked the spelling of every name and word, letter by letter."},
        {"id": "dates", "text": "I have checked every date and number as it is written out above."},
        {"id": "exact", "text": "I understand the item will be made exactly as shown in this proof."},
        {
            "id": "returns",
            "text": "I understand this personalised item cannot be returned for a change of mind.",
        },
    ],
    # The statements in the other languages, by id (the shop's own wording, like the English).
    "APPROVAL_STATEMENTS_TRANSLATED": {
        "de": {
            "spelling": "Ich habe die Schreibweise jedes Namens und Wortes Buchstabe für Buchstabe geprüft.",
            "dates": "Ich habe jedes Datum und jede Zahl so geprüft, wie sie oben ausgeschrieben sind.",
            "exact": "Mir ist bewusst, dass der Artikel genau so angefertigt wird, wie er in diesem Abzug zu sehen ist.",
            "returns": "Mir ist bewusst, dass dieser personalisierte Artikel nicht zurückgegeben werden kann, "
            "nur weil ich es mir anders überlege.",
        },
        "fr": {
            "spelling": "J’ai vérifié l’orthographe de chaque nom et de chaque mot, lettre par lettre.",
            "dates": "J’ai vérifié chaque date et chaque nombre tels qu’ils sont écrits en toutes lettres ci-dessus.",
            "exact": "Je comprends que l’article sera fabriqué exactement comme sur cette épreuve.",
            "returns": "Je comprends que cet article personnalisé ne peut pas être retourné si je change d’avis.",
        },
        "es": {
            "spelling": "He revisado la ortografía de cada nombre y cada palabra, letra por letra.",
            "dates": "He revisado cada fecha y cada número tal como aparecen escritos arriba.",
            "exact": "Entiendo que el artículo se fabricará exactamente como se muestra en esta prueba.",
            "returns": "Entiendo que este artículo personalizado no se puede devolver por cambiar de opinión.",
        },
        "nl": {
            "spelling": "Ik heb de spelling van elke naam en elk woord letter voor letter gecontroleerd.",
            "dates": "Ik heb elke datum en elk getal gecontroleerd zoals ze hierboven voluit staan.",
            "exact": "Ik begrijp dat het artikel precies zo wordt gemaakt als op deze proef te zien is.",
            "returns": "Ik begrijp dat dit gepersonaliseerde artikel niet kan worden geretourneerd omdat ik "
            "van gedachten verander.",
        },
    },
    # Mail sender: retries with exponential backoff (base * 2^(attempt-1), capped). While the
    # server is unreachable (or refuses the login) a message waits however long it takes; one
    # that the server refuses temporarily (4xx) is given up after MAIL_MAX_ATTEMPTS attempts
    # and MAIL_GIVE_UP_AFTER_HOURS, one it refuses for good (5xx) at once.
    "MAIL_MAX_ATTEMPTS": 8,
    "MAIL_GIVE_UP_AFTER_HOURS": 72,
    "MAIL_RETRY_BASE_SECONDS": 60,
    "MAIL_RETRY_MAX_SECONDS": 3600,
    # A row left in 'sending' (sender crashed mid-delivery) is retried after this long.
    "MAIL_SENDING_TIMEOUT_SECONDS": 900,
    # How the web process sends after a commit: "thread" (background), "inline", or "off"
    # (cron runs `send-mail`). None: "inline" under TESTING, else "thread".
    "MAIL_SEND_AFTER_REQUEST": None,
    # The background sender also wakes this often to retry due messages.
    "MAIL_POLL_SECONDS": 30,
    # Who builds and queues a customer's decision's confirmation email: "thread" (the web
    # process's confirmation thread, after the customer has the answer; several decisions'
    # emails queued in one write) or "inline" (before the answer). None: "inline" under
    # TESTING, else "thread". Either way exactly once; the mail worker's sweep queues one
    # left behind by a stopped process.
    "PROOF_CONFIRM_AFTER_DECISION": None,
    # --- proof images, rendered after the order is answered (proofmark.proofs.render_jobs) ---
    # "thread" (the web process's background worker), "inline" (in the request: tests), or
    # "off" (`proofmark render-proofs` runs them). None: "inline" under TESTING, else "thread".
    "RENDER_AFTER_REQUEST": None,
    # The background worker also wakes this often (jobs left by a stopped process, retries).
    "RENDER_POLL_SECONDS": 5,
    # A worker holds a job this long; a job whose worker died is claimed again after it.
    "RENDER_LEASE_SECONDS": 300,
    # Attempts before a job is left 'failed' for staff; waits between them double from the base.
    "RENDER_MAX_ATTEMPTS": 4,
    "RENDER_RETRY_BASE_SECONDS": 10,
    "RENDER_RETRY_MAX_SECONDS": 600,
    # A customer may ask for a fresh approval link at most this often per proof.
    "RESEND_MIN_INTERVAL_SECONDS": 300,
    # --- the keyed log and its anchoring (proofmark.ledger, proofmark.anchoring) ---
    # Record keys (HMAC of every log entry), never stored in the database: {key id: hex secret}.
    # Empty: one key derived from SECRET_KEY. RECORD_KEY_ID names the key new entries use;
    # keep older keys here so that their entries can still be checked (README: key rotation).
    "RECORD_KEYS": {},
    "RECORD_KEY_ID": None,
    # Ed25519 seed (64 hex digits) that signs tree heads; None: derived from SECRET_KEY.
    # Public keys of earlier signing keys, base64, so that heads they signed still count.
    "LOG_SIGNING_KEY": None,
    "LOG_PREVIOUS_PUBLIC_KEYS": [],
    # RFC 3161 time-stamping authorities, tried in order by `proofmark anchor` (hourly).
    "TSA_URLS": [],
    # PEM files of TSA root certificates to check tokens against when they arrive (optional).
    "TSA_ROOTS": [],
    "TSA_TIMEOUT_SECONDS": 10,
    # Replication (`proofmark replicate`, README: replication and restore): Litestream copies the
    # database to REPLICA_URL (S3-compatible, e.g. "s3://bucket/proofmark") or, when that is
    # empty, to REPLICA_DIR/db; proof images are copied to REPLICA_DIR/images every
    # REPLICA_IMAGE_SECONDS. REPLICA_DIR is relative to the instance folder unless absolute:
    # put it on another disk.
    "REPLICA_DIR": "replica",
    "REPLICA_URL": "",
    "REPLICA_IMAGE_SECONDS": 10,
    # --- personalizer ---
    # Live previews and the confirmation view's large preview: width in px (JPEG).
    "PREVIEW_WIDTH": 1000,
    "CONFIRM_PREVIEW_WIDTH": 1600,
    # Rendered previews are cached in memory (per worker process) and on disk under
    # IMAGE_DIR/previews (shared); the disk cache is pruned, oldest first, past its size.
    "PREVIEW_MEMORY_CACHE_MB": 64,
    # Product scenes (the picture without text, per product version and width) held per
    # worker: every product at 600, 900, 1000, 1200, 1600 and 2400 px is about 450 MB, so at
    # this budget the least used 2400-px ones give way first. Built scenes are kept in
    # instance/scenes (SCENE_STORE) so other workers and restarts load them in milliseconds.
    "SCENE_CACHE_MB": 448,
    "SCENE_STORE": True,
    "PREVIEW_DISK_CACHE_MB": 1024,
    # Number of reverse proxies in front of the app whose X-Forwarded-For/-Proto/-Host to trust
    # (0: none). Recorded IP addresses are evidence, so set this only to what is really there.
    "TRUSTED_PROXIES": 0,
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    # --- staff ---
    # How staff passwords are hashed (werkzeug method string); see proofmark.staff.accounts.
    "STAFF_PASSWORD_HASH": "scrypt:32768:8:1",
    # Failed staff sign-ins allowed per account and per IP address within the window,
    # counted in the database so that every worker sees them.
    "STAFF_LOGIN_MAX_FAILURES": 5,
    "STAFF_LOGIN_MAX_FAILURES_PER_IP": 20,
    "STAFF_LOGIN_WINDOW_MINUTES": 15,
    # After STAFF_LOGIN_MAX_FAILURES failures each further attempt waits 2, 4, 8, ... seconds;
    # on an account never longer than this, so guessing cannot lock a staff member out.
    "STAFF_LOGIN_MAX_ACCOUNT_DELAY_SECONDS": 60,
    # A staff session ends after this many hours.
    "STAFF_SESSION_HOURS": 12,
    # The shop's written refund policy, quoted in evidence packs (Stripe: refund_policy).
    "REFUND_POLICY_TEXT": (
        "Personalised items are made to the customer's approved proof and cannot be returned for a "
        "change of mind. If an item does not match the proof the customer approved, we remake it at "
        "our cost or refund it in full."
    ),
    # What staff can decide on a return claim. `for` lists the assessed outcomes a resolution
    # is offered for (shop_error, customer_responsibility, not_approved, needs_inspection);
    # `explain` means the decision needs a written explanation for the customer.
    "CLAIM_RESOLUTIONS": [
        {
            "id": "remake",
            "label": "Remake at our cost",
            "for": ["shop_error", "not_approved", "needs_inspection"],
        },
        {
            "id": "full_refund",
            "label": "Full refund",
            "for": ["shop_error", "not_approved", "needs_inspection"],
        },
        {
            "id": "partial_refund",
            "label": "Partial refund (goodwill)",
            "for": ["customer_responsibility", "needs_inspection", "not_approved"],
        },
        {
            "id": "store_credit",
            "label": "Store credit (goodwill)",
            "for": ["customer_responsibility", "needs_inspection", "not_approved"],
        },
        {
            "id": "decline",
            "label": "Decline with explanation",
            "for": ["customer_responsibility"],
            "explain": True,
        },
    ],
    # --- connecting the shop ---
    # Webhook signing secrets per platform (a list, so that a secret can be rotated: any
    # listed one is accepted). Shopify: the app's client secret / the "Webhooks" signing
    # secret shown under Settings > Notifications; WooCommerce: each webhook's Secret.
    "SHOPIFY_WEBHOOK_SECRETS": [],
    "WOOCOMMERCE_WEBHOOK_SECRETS": [],
    # Largest webhook body accepted (bytes); larger is refused with 413 before it is read.
    "WEBHOOK_MAX_BODY_BYTES": 2 * 1024 * 1024,
    # Received orders: attempts and backoff (base * 2^(attempt-1), capped) before a delivery
    # that keeps failing is given up (it stays visible to staff with its error).
    "INBOUND_MAX_ATTEMPTS": 8,
    "INBOUND_RETRY_BASE_SECONDS": 30,
    "INBOUND_RETRY_MAX_SECONDS": 3600,
    "INBOUND_PROCESSING_TIMEOUT_SECONDS": 600,
    # Webhooks out (Standard Webhooks): seconds to wait before each retry; after the last
    # one the delivery is marked failed and staff can resend it. The default follows the
    # specification's schedule (5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h: about 27.5 hours).
    "WEBHOOK_RETRY_SCHEDULE_SECONDS": [5, 300, 1800, 7200, 18000, 36000, 36000],
    "WEBHOOK_TIMEOUT_SECONDS": 10,
    "WEBHOOK_SENDING_TIMEOUT_SECONDS": 300,
    # How the web process works both queues after a request: "thread", "inline" or "off"
    # (cron runs `proofmark webhooks run`). None: "inline" under TESTING, else "thread".
    "INTEGRATIONS_WORK_AFTER_REQUEST": None,
    "INTEGRATIONS_POLL_SECONDS": 15,
    # Photos of the received item on a return claim: largest upload, and largest image in
    # pixels (checked from the header, before decoding: a decompression bomb is refused).
    "CLAIM_PHOTO_MAX_BYTES": 15 * 1024 * 1024,
    "CLAIM_PHOTO_MAX_PIXELS": 50_000_000,
    # A shop product's photo (staff "Products"): the same checks as claim photos.
    "PRODUCT_PHOTO_MAX_BYTES": 15 * 1024 * 1024,
    "PRODUCT_PHOTO_MAX_PIXELS": 40_000_000,
    # The shop's time zone (IANA name) for times shown to staff; evidence keeps UTC.
    "SHOP_TIMEZONE": "UTC",
}
