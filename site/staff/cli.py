"""Staff commands: `flask --app site create-staff EMAIL` and `flask --app site verify-records`."""
from __future__ import annotations

import json
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from site.db import get_db
from site.staff import accounts
from site.verification import verify_all


@click.command("create-staff")
@click.argument("email")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (one line).")
@click.option("--reset-password", is_flag=True, help="Set a new password for an existing account.")
@with_appcontext
def create_staff_command(email: str, password_stdin: bool, reset_password: bool) -> None:
    """Create a staff account (or, with --reset-password, change its password)."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    db = get_db()
    try:
        if reset_password:
            staff = accounts.set_password(db, email, password)
            click.echo(f"Password changed for {staff.email}; their open sessions are signed out.")
        else:
            staff = accounts.create(db, email, password)
            click.echo(f"Staff account {staff.email} created. Sign in at {current_app.config['PUBLIC_URL']}/staff/login")
    except accounts.AccountError as exc:
        raise click.ClickException(str(exc)) from exc


@click.command("verify-records")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per proof instead of text.")
@click.option("--quiet", is_flag=True, help="Only report tampered proofs and the summary.")
@with_appcontext
def verify_records_command(as_json: bool, quiet: bool) -> None:
    """Recompute every proof's hash chain and every stored image hash; exit 1 on tampering."""
    checked = tampered = 0
    for result in verify_all(get_db(), current_app):
        checked += 1
        tampered += not result.intact
        if as_json:
            click.echo(json.dumps(result.to_dict(), ensure_ascii=False))
            continue
        if result.intact:
            if not quiet:
                click.echo(f"proof {result.proof_id} ({result.order_ref}): intact "
                           f"({result.events} events, {result.images} images)")
            continue
        click.secho(f"proof {result.proof_id} ({result.order_ref}): TAMPERED", fg="red")
        for problem in result.problems:
            click.echo(f"  - {problem.describe()}")
    summary = f"{checked} proof(s) checked: {checked - tampered} intact, {tampered} tampered."
    click.echo(summary, err=as_json)
    if tampered:
        sys.exit(1)
