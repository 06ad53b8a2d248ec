"""Staff access: accounts, sign-in, rate limiting, sessions, CSRF, and that every /staff
route refuses anonymous visitors."""

from __future__ import annotations

import re

import pytest

from proofmark.db import get_db
from proofmark.staff import accounts
from tests.staff_support import STAFF_EMAIL, STAFF_PASSWORD, StaffLogin, make_app, make_staff


@pytest.fixture
def staff_app(app):
    make_staff(app)
    return app


def _concrete(rule) -> str:
    return re.sub(r"<(?:int:)?[^>]+>", "1", rule.rule)


def test_every_staff_route_sends_anonymous_visitors_to_login(staff_app):
    client = staff_app.test_client()
    rules = [
        r
        for r in staff_app.url_map.iter_rules()
        if r.rule.startswith("/staff") and r.endpoint != "staff.login"
    ]
    assert len(rules) >= 15
    for rule in rules:
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(_concrete(rule), method=method, data={"note": "x", "reason": "x"})
            assert response.status_code == 302, (rule.rule, method)
            assert response.headers["Location"].startswith("/staff/login"), rule.rule
            assert b"A-1001" not in response.data
    # htmx requests get a redirect instruction instead of a page fragment.
    response = client.get("/staff/proofs?q=x", headers={"HX-Request": "true"})
    assert response.headers["HX-Redirect"].startswith("/staff/login")


def test_login_logout_and_next(staff_app, client):
    response = client.get("/staff/proofs?q=Sophie")
    assert response.headers["Location"] == "/staff/login?next=/staff/proofs?q%3DSophie"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" value="/staff/proofs?q=Sophie"' in page
    response = client.post(
        "/staff/login",
        data={"email": STAFF_EMAIL.upper(), "password": STAFF_PASSWORD, "next": "/staff/proofs?q=Sophie"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/staff/proofs?q=Sophie"
    assert client.get("/staff/proofs").status_code == 200
    client.post("/staff/logout")
    assert client.get("/staff/proofs").status_code == 302


def test_login_never_redirects_off_site(staff_app, client):
    for target in ("https://evil.test/", "//evil.test/staff", "/approve/x"):
        response = client.post(
            "/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "next": target}
        )
        assert response.headers["Location"] == "/staff/proofs"


def test_wrong_password_and_unknown_account_look_the_same(staff_app, client):
    wrong = client.post("/staff/login", data={"email": STAFF_EMAIL, "password": "nope"})
    unknown = client.post("/staff/login", data={"email": "who@shop.test", "password": "nope"})
    assert wrong.status_code == unknown.status_code == 401
    assert b"do not match a staff account" in wrong.data and b"do not match a staff account" in unknown.data


def test_failed_logins_slow_guessing_with_growing_delays(clock, staff_app, client):
    free = staff_app.config["STAFF_LOGIN_MAX_FAILURES"]
    for _ in range(free):
        assert StaffLogin(client).login(password="wrong password").status_code == 401
    slowed = StaffLogin(client).login()  # even the right password waits out the delay
    assert slowed.status_code == 429 and slowed.headers["Retry-After"] == "2"
    assert b"Too many failed sign-ins. Try again in 2 seconds." in slowed.data
    # Another address waits on this account too (per-account delay) ...
    other_ip = StaffLogin(staff_app.test_client()).login(environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert other_ip.status_code == 429
    # ... and each further failure doubles the wait: 2, 4, 8 seconds (move the clock, don't sleep).
    waits = []
    for _ in range(3):
        clock.advance(seconds=60)
        assert StaffLogin(client).login(password="wrong password").status_code == 401
        waits.append(int(StaffLogin(client).login().headers["Retry-After"]))
    assert waits == [4, 8, 16]
    clock.advance(seconds=16)
    with staff_app.app_context():
        assert accounts.blocked_for(get_db(), STAFF_EMAIL, "127.0.0.1", staff_app.config) is None
    assert StaffLogin(client).login().status_code == 302


def test_a_stranger_cannot_lock_a_staff_member_out(clock, staff_app):
    """Guesses from many addresses slow the account down, never for longer than
    STAFF_LOGIN_MAX_ACCOUNT_DELAY_SECONDS: the staff member waits at most that long."""
    cap = staff_app.config["STAFF_LOGIN_MAX_ACCOUNT_DELAY_SECONDS"]
    attacker = staff_app.test_client()
    for n in range(40):
        clock.advance(seconds=cap)
        response = StaffLogin(attacker).login(
            password=f"guess {n}", environ_base={"REMOTE_ADDR": f"203.0.113.{n}"}
        )
        assert response.status_code == 401
    staff_member = StaffLogin(staff_app.test_client())
    waiting = staff_member.login(environ_base={"REMOTE_ADDR": "192.0.2.10"})
    assert waiting.status_code == 429 and int(waiting.headers["Retry-After"]) <= cap
    clock.advance(seconds=cap)
    assert staff_member.login(environ_base={"REMOTE_ADDR": "192.0.2.10"}).status_code == 302


def test_failed_logins_lock_an_address_across_accounts(app, client):
    app.config["STAFF_LOGIN_MAX_FAILURES_PER_IP"] = 3
    make_staff(app, "other@shop.test")
    for n in range(3):
        client.post("/staff/login", data={"email": f"guess{n}@shop.test", "password": "x"})
    response = client.post("/staff/login", data={"email": "other@shop.test", "password": STAFF_PASSWORD})
    assert response.status_code == 429
    # The limit lives in the database, so a second app (another worker) sees it too.
    with app.app_context():
        assert accounts.blocked_for(get_db(), "anyone@shop.test", "127.0.0.1", app.config) is not None


def test_session_cookie_flags(tmp_path, monkeypatch):
    app = make_app(tmp_path / "https", monkeypatch, PUBLIC_URL="https://proofs.example.com")
    make_staff(app)
    response = StaffLogin(app.test_client()).login()
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie


def test_http_local_use_keeps_cookie_usable(staff_app, client):
    cookie = StaffLogin(client).login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_password_change_ends_old_sessions(staff_app, client):
    StaffLogin(client).login()
    assert client.get("/staff/proofs").status_code == 200
    with staff_app.app_context():
        accounts.set_password(get_db(), STAFF_EMAIL, "a brand new password")
    assert client.get("/staff/proofs").status_code == 302


def test_csrf_refuses_posts_without_token(tmp_path, monkeypatch):
    app = make_app(tmp_path / "csrf", monkeypatch, WTF_CSRF_ENABLED=True)
    make_staff(app)
    client = app.test_client()
    # Sign-in itself needs the token from the form.
    assert (
        client.post("/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD}).status_code
        == 400
    )
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post(
        "/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    # Signed in, an action without the token is still refused.
    assert client.post("/staff/logout").status_code == 400
    assert client.get("/staff/proofs").status_code == 200


def test_every_staff_post_needs_the_csrf_token(tmp_path, monkeypatch):
    app = make_app(tmp_path / "csrf-all", monkeypatch, WTF_CSRF_ENABLED=True)
    make_staff(app)
    client = app.test_client()
    page = client.get("/staff/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    client.post("/staff/login", data={"email": STAFF_EMAIL, "password": STAFF_PASSWORD, "csrf_token": token})
    posts = [r for r in app.url_map.iter_rules() if r.rule.startswith("/staff") and "POST" in r.methods]
    assert {
        "staff.note",
        "staff.cancel",
        "staff.resend",
        "staff.new_claim",
        "staff.decide",
        "staff.revise",
        "staff.new_proof",
        "staff.preview_partial",
        "staff.logout",
    } <= {r.endpoint for r in posts}
    for rule in posts:
        form = {
            "note": "x",
            "reason": "x",
            "resolution": "remake",
            "kind": "quality",
            "description": "x",
            "action": "record",
        }
        response = client.post(_concrete(rule), data=form)
        assert response.status_code == 400, rule.rule
        # htmx requests carry it in a header instead; a wrong one is refused just the same.
        response = client.post(
            _concrete(rule), data=form, headers={"X-CSRFToken": "forged", "HX-Request": "true"}
        )
        assert response.status_code == 400, rule.rule
    with app.app_context():
        assert get_db().execute("SELECT count(*) FROM events").fetchone()[0] == 0
    # With the token of the signed-in session (sign-in starts a fresh session, so the login
    # page's token is spent) the same request reaches the view: there is no proof #1, a 404.
    page = client.get("/staff/proofs").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    assert client.post("/staff/proofs/1/notes", data={"note": "x", "csrf_token": token}).status_code == 404
    assert client.get("/staff/proofs").status_code == 200  # still signed in


def test_parallel_guesses_cannot_exceed_the_account_limit(staff_app):
    """The check and the attempt's row are written together: a burst of simultaneous guesses
    gets no more tries than the limit, however slow the password hash is."""
    import threading

    from proofmark.db import connect, database_path

    limit = staff_app.config["STAFF_LOGIN_MAX_FAILURES"]
    results, lock = [], threading.Lock()
    start = threading.Barrier(limit * 3)

    def guess(n):
        db = connect(database_path(staff_app))
        try:
            start.wait()
            result = accounts.authenticate(db, STAFF_EMAIL, f"guess {n}", f"198.51.100.{n}", staff_app.config)
        finally:
            db.conn.close()
        with lock:
            results.append(result)

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(limit * 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    checked = [r for r in results if r.retry_after_seconds is None]
    assert len(results) == limit * 3 and len(checked) == limit
    assert all(r.staff is None for r in results)


def test_create_staff_command(runner, app):
    result = runner.invoke(
        args=["create-staff", "New@Shop.test", "--password-stdin"], input="long enough pw\n"
    )
    assert result.exit_code == 0, result.output
    assert "new@shop.test created" in result.output
    again = runner.invoke(
        args=["create-staff", "new@shop.test", "--password-stdin"], input="long enough pw\n"
    )
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["create-staff", "x@shop.test", "--password-stdin"], input="short\n")
    assert short.exit_code != 0 and "at least 10 characters" in short.output
    reset = runner.invoke(
        args=["create-staff", "new@shop.test", "--password-stdin", "--reset-password"],
        input="another long pw\n",
    )
    assert reset.exit_code == 0 and "Password changed" in reset.output
    prompted = runner.invoke(
        args=["create-staff", "p@shop.test"], input="prompted password\nprompted password\n"
    )
    assert prompted.exit_code == 0, prompted.output
    with app.app_context():
        row = get_db().execute("SELECT password_hash FROM staff WHERE email = 'p@shop.test'").fetchone()
    assert row["password_hash"].startswith("scrypt:")


def test_demo_seed_creates_staff_once_and_production_never(tmp_path, monkeypatch):
    from proofmark import demo

    app = make_app(tmp_path / "demo", monkeypatch, DEMO=True)
    with app.app_context():
        first = list(demo.seed(get_db()))
        second = list(demo.seed(get_db()))
    shown = [line for line in first if "(shown once)" in line]
    assert len(shown) == 1 and demo.DEMO_STAFF_EMAIL in shown[0]
    password = shown[0].split(" / ")[1].split(" ")[0]
    assert not any(password in line for line in second)
    response = StaffLogin(app.test_client(), demo.DEMO_STAFF_EMAIL, password).login()
    assert response.status_code == 302
    prod = make_app(tmp_path / "prod", monkeypatch, DEMO=False)
    with prod.app_context():
        list(demo.seed(get_db()))
        assert accounts.find(get_db(), demo.DEMO_STAFF_EMAIL) is None


def test_production_hashes_staff_passwords_with_scrypt_at_its_full_cost(tmp_path):
    """The tests' cheap scrypt (TEST_CONFIG) is theirs alone: the default is werkzeug's full cost,
    and an unknown address is checked against a hash of that same cost."""
    from proofmark.config import DEFAULTS
    from proofmark.staff import accounts

    assert DEFAULTS["STAFF_PASSWORD_HASH"] == accounts.DEFAULT_HASH_METHOD == "scrypt:32768:8:1"
    app = make_app(tmp_path / "instance", STAFF_PASSWORD_HASH=DEFAULTS["STAFF_PASSWORD_HASH"])
    with app.app_context():
        account = accounts.create(get_db(), "cost@shop.test", "long enough password")
        row = get_db().execute("SELECT password_hash FROM staff WHERE id = ?", (account.id,)).fetchone()
    assert row["password_hash"].startswith("scrypt:32768:8:1$")
    assert accounts._dummy_hash("scrypt:32768:8:1").startswith("scrypt:32768:8:1$")
