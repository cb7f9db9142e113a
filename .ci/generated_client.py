"""Drives the API with a client that openapi-python-client generated from openapi.json:
register -> create an account -> record a transaction -> read the month, checking each answer.

Usage: generated_client.py DIR API_URL, where DIR holds the generated package `budget_client`.
"""

import datetime
import sys
import uuid

sys.path.insert(0, sys.argv[1])
api = sys.argv[2]

from budget_client import AuthenticatedClient, Client  # noqa: E402
from budget_client.api.accounts import accounts_create  # noqa: E402
from budget_client.api.auth import auth_register  # noqa: E402
from budget_client.api.months import months_get  # noqa: E402
from budget_client.api.transactions import transactions_create  # noqa: E402
from budget_client.models import (  # noqa: E402
    Account,
    AccountKind,
    MonthBudget,
    NewAccount,
    NewTransaction,
    Registration,
    Session,
    Transaction,
)

today = datetime.date.today()
session = auth_register.sync(
    client=Client(base_url=api),
    body=Registration(
        email=f"client-{uuid.uuid4()}@example.com",
        password="correct horse battery",
        display_name="Generated Client",
    ),
)
assert isinstance(session, Session), session
client = AuthenticatedClient(base_url=api, token=session.access_token)

opening = 250_000
account = accounts_create.sync(
    client=client,
    body=NewAccount(name="Checking", kind=AccountKind.CHECKING, opening_balance=opening),
)
assert isinstance(account, Account), account

spent = -42_500
transaction = transactions_create.sync(
    client=client,
    body=NewTransaction(account_id=account.id, date=today, amount=spent, payee_name="Corner Shop"),
)
assert isinstance(transaction, Transaction), transaction
assert transaction.amount == spent and transaction.payee_name == "Corner Shop"

month = months_get.sync(month=today.strftime("%Y-%m"), client=client)
assert isinstance(month, MonthBudget), month
# The opening balance is this month's income; nothing is assigned yet, so all of it is ready.
assert month.income == opening, month
assert month.ready_to_assign == opening, month
print(f"generated client: registered, account {account.id}, transaction {transaction.id}, "
      f"month {month.month}: income {month.income}, ready to assign {month.ready_to_assign}")
