"""Evaluation help centers built from two real customer-query data sets.

    .venv/bin/python bench/datasets.py banking77 --out /tmp/b77 [--questions 10] [--seed 13] [--ood 500]
    .venv/bin/python bench/datasets.py bitext --out /tmp/bitext

Each data set labels customer queries with intents. For every intent this module writes one kb article
(hand-written help text, kept in this module, plus `--questions` of that intent's real queries as the
article's `questions`), and an evaluation file of every remaining query with the article that answers it,
followed by out-of-scope queries taken from the *other* data set, which the help center has no article for:

    DIR/articles/categories.yml
    DIR/articles/<category>/<intent-id>.md
    DIR/eval.jsonl      {"query": ..., "expected": "<intent-id>" | null, "category": "<category-id>" | null}
    DIR/README.md       data set, licence, seed and counts

The in-scope rows of eval.jsonl are shuffled with the seed (both CSVs are sorted by intent, so the first rows
of the file are a fair sample of all intents); the out-of-scope rows follow them. Everything is deterministic
for a given seed. The data stays where it is (`../shared/data` from the project root, or `--data DIR`):
nothing is copied into the repository, and nothing is written outside `--out DIR`.

Data sets
---------
* banking77: PolyAI's Banking77 train split (Casanueva et al. 2020, "Efficient Intent Detection with Dual
  Sentence Encoders"), CC BY 4.0: 10,003 online-banking queries in 77 intents. The help center is a fictional
  online bank, "Northwind Bank"; the 77 intents are grouped into the 10 categories of BANKING77_CATEGORIES.
* bitext: Bitext's customer-service sample data set, CDLA-Sharing-1.0: 8,175 e-commerce utterances in
  27 intents and the data set's own 11 categories. The help center is a fictional online shop, "Meadowlane".

Queries are put on one line (whitespace, including line breaks inside CSV cells, collapsed) and identical
queries are kept once: the Bitext utterances, and four Banking77 texts that differ from another only by
surrounding line breaks (each pair has the same intent).

Out-of-scope exclusions
-----------------------
An out-of-scope query must have no answer in the help center, so intents of the other data set that the help
center does answer are left out of the out-of-scope pool.

For the banking77 center (out-of-scope queries come from Bitext), these Bitext intents are excluded:

* refunds: `check_refund_policy`, `get_refund`, `track_refund` -- Northwind answers refund requests and
  missing refunds (request-refund, refund-not-showing-up).
* payments and invoices: `payment_issue`, `check_payment_methods`, `check_invoice`, `get_invoice` -- card
  payments, declined or pending payments, accepted cards and statements are what a bank help center is about.
* account: `create_account`, `delete_account`, `edit_account`, `recover_password`, `registration_problems`,
  `switch_account` -- Northwind answers opening and closing an account, editing personal details, a forgotten
  passcode and identity checks; a generic "I can't sign up / log in / switch account" question is in scope.
* contact and feedback: `contact_customer_service`, `contact_human_agent`, `complaint`, `review` -- every help
  center answers "how do I reach you" and "how do I complain"; they are not out of scope for a bank.

For the bitext center (out-of-scope queries come from Banking77), these Banking77 intents are excluded:

* refunds: `request_refund`, `Refund_not_showing_up`, `reverted_card_payment?` (a payment sent back to the
  customer), `transaction_charged_twice` (the customer wants the duplicate charge back) -- Meadowlane answers
  getting, tracking and the policy of refunds.
* payments: `card_payment_fee_charged`, `card_payment_not_recognised`, `card_payment_wrong_exchange_rate`,
  `declined_card_payment`, `pending_card_payment`, `direct_debit_payment_not_recognised`,
  `extra_charge_on_statement`, `apple_pay_or_google_pay`, `card_acceptance`, `supported_cards_and_currencies`
  -- a shop answers payment problems, unexpected charges and which cards and wallets it accepts.
* account creation and closure: `age_limit` (who may open an account), `country_support` (where one can
  sign up), `terminate_account`, `edit_personal_details` -- Meadowlane answers creating, editing and deleting
  an account.
* password and passcode: `passcode_forgotten` -- Meadowlane answers recovering a password.
* contact: no Banking77 intent is about contacting the bank, so none is excluded for that reason.

Other intents stay in the pool even when their wording is close to the other domain (a card that has not
arrived, cancelling a transfer): the help center has no article that answers them, which makes them useful
hard negatives.
"""
from __future__ import annotations

import argparse
import csv
import json
import random
import re
import shutil
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
DEFAULT_QUESTIONS = 10
DEFAULT_SEED = 13
DEFAULT_OOD = 500
DATASETS = ("banking77", "bitext")
MARKER = ".kb-bench-dataset"  # written into DIR/articles, so a rerun may replace a folder it generated itself


@dataclass(frozen=True)
class Intent:
    """Hand-written help text for one intent: the article's title, one-line description, intro and steps."""

    category: str
    title: str
    description: str
    summary: str
    steps: tuple[str, ...]


@dataclass(frozen=True)
class Query:
    """One labelled query of a data set."""

    text: str
    intent: str  # the data set's own label


@dataclass(frozen=True)
class Dataset:
    """A data set and the help center written for it."""

    name: str
    title: str
    brand: str
    source: str  # path under the data folder
    licence: str
    citation: str
    categories: dict[str, tuple[str, str]]  # category id -> (title, description)
    intents: dict[str, Intent]  # the data set's intent label -> help text
    ood_source: str  # the other data set's name
    ood_excluded: frozenset[str]  # the other data set's intents left out of the out-of-scope pool


@dataclass
class Summary:
    """What `generate` wrote."""

    dataset: str
    out: Path
    articles: int
    categories: int
    questions: int
    in_scope: int
    out_of_scope: int
    seed: int
    per_category: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "out": str(self.out), "articles": self.articles,
                "categories": self.categories, "questions": self.questions, "in_scope": self.in_scope,
                "out_of_scope": self.out_of_scope, "seed": self.seed, "per_category": self.per_category}


def _i(category: str, title: str, description: str, summary: str, *steps: str) -> Intent:
    return Intent(category, title, description, summary, tuple(steps))


# ----------------------------------------------------------------------------------------------------------
# Banking77: Northwind Bank
# ----------------------------------------------------------------------------------------------------------

BANKING77_CATEGORIES: dict[str, tuple[str, str]] = {
    "cards": ("Cards", "Ordering, activating, renewing and managing physical, virtual and disposable cards."),
    "card-payments": ("Card payments",
                      "Paying with your card or phone: declined, pending and reverted payments."),
    "transfers": ("Transfers", "Sending and receiving bank transfers, timings, failures and cancellations."),
    "top-ups": ("Top-ups", "Adding money to your account by card, bank transfer, cash or cheque."),
    "cash-withdrawals": ("Cash withdrawals", "Using ATMs: declined, pending and short cash withdrawals."),
    "exchange-and-currencies": ("Exchange and currencies",
                                "Supported currencies, exchanging money in the app and exchange rates."),
    "fees-and-charges": ("Fees and charges",
                         "What we charge for payments, withdrawals, top-ups and exchanges."),
    "account-and-verification": ("Account and verification",
                                 "Opening, editing and closing your account, passcodes and identity checks."),
    "security-and-fraud": ("Security and fraud",
                           "Lost or stolen cards and phones, PINs and transactions you don't recognise."),
    "refunds-and-disputes": ("Refunds and disputes",
                             "Getting your money back for purchases and double charges."),
}

BANKING77_INTENTS: dict[str, Intent] = {
    # cards
    "activate_my_card": _i(
        "cards", "Activate your new card",
        "Switch on a newly delivered Northwind Bank card in the app before its first use.",
        "New cards arrive inactive so that a card lost in the post cannot be used. Activation takes a minute "
        "in the Northwind app and needs only the card itself.",
        "Open the Northwind app and tap **Cards**, then the card marked *Not activated*.",
        "Tap **Activate card** and enter the last four digits of the card number.",
        "Make a first chip-and-PIN payment or ATM withdrawal; contactless switches on after it."),
    "card_arrival": _i(
        "cards", "Card arrival: where is my new card?",
        "Follow the delivery of a card you ordered and replace one that never arrived.",
        "The app shows when your card was posted and to which address. Most cards arrive within five working "
        "days of dispatch; after ten working days we treat the card as lost in the post.",
        "Open **Cards > Track delivery** to see the dispatch date and the delivery address.",
        "If the address is wrong, update it in **Profile > Personal details** and order a new card.",
        "After ten working days without a card, tap **Report not received**: we cancel it and send a "
        "replacement free of charge."),
    "card_delivery_estimate": _i(
        "cards", "Card delivery times",
        "How long a new or replacement card takes to reach you, by country and delivery option.",
        "Standard delivery is free and takes 3-5 working days in the UK and up to 10 working days to other "
        "supported countries. Express delivery reaches most addresses in 1-2 working days for a fee.",
        "Choose **Standard** or **Express** delivery when you order the card.",
        "See the estimated delivery date under **Cards > Track delivery** once the card is posted.",
        "Cards are posted on working days only, so an order placed on Friday evening leaves on Monday."),
    "card_about_to_expire": _i(
        "cards", "Your card is about to expire",
        "How automatic card renewal works and what to do when the new card arrives.",
        "We send a replacement free of charge about four weeks before the expiry date printed on your card. "
        "The new card has a new expiry date and security code but keeps your PIN.",
        "Check that your address in **Profile > Personal details** is up to date.",
        "Activate the new card in the app when it arrives; the old card stops working at the same moment.",
        "Update the card details saved with subscriptions and online shops."),
    "order_physical_card": _i(
        "cards", "Order a physical card",
        "Request a plastic Northwind card to go with your account, and what it costs.",
        "Your first physical card is free; you can order it at any time in the app and it is posted to the "
        "address on your profile.",
        "Open **Cards** and tap **Get a physical card**.",
        "Confirm your delivery address and choose standard or express delivery.",
        "Pay the delivery fee, if any, and activate the card in the app when it arrives."),
    "get_physical_card": _i(
        "cards", "Find the PIN of your physical card",
        "Where to see the PIN of a new physical card; it is never sent by post.",
        "For your security we do not print or post PINs. The PIN of each physical card is shown in the app, "
        "behind your passcode or fingerprint.",
        "Open **Cards**, select the card and tap **Show PIN**.",
        "Confirm with your passcode, fingerprint or face ID.",
        "Memorise the PIN; if you want a different one, change it at any ATM that offers PIN services."),
    "getting_spare_card": _i(
        "cards", "Order an additional card",
        "Get a spare or extra physical card on the same account, for yourself or to use as a backup.",
        "You can hold up to three physical cards on one account. Every card draws on the same balance and "
        "can be frozen on its own; each additional card costs £5 including standard delivery.",
        "Open **Cards** and tap **Add a card > Physical card**.",
        "Pick a colour, confirm the delivery address and pay the £5 fee.",
        "Activate the card in the app when it arrives; it gets its own PIN."),
    "getting_virtual_card": _i(
        "cards", "Get a virtual card",
        "Create a virtual card for online payments that is ready to use in seconds.",
        "A virtual card has its own number, expiry date and security code and works for online and in-app "
        "payments straight away; nothing is posted. Each account can hold up to five virtual cards for free.",
        "Open **Cards** and tap **Add a card > Virtual card**.",
        "Give the card a name and choose whether it should also work with Apple Pay or Google Pay.",
        "Tap **Show details** to copy the number into the shop's checkout."),
    "get_disposable_virtual_card": _i(
        "cards", "Disposable virtual cards",
        "What a disposable virtual card is and how to create one for a single online payment.",
        "A disposable virtual card works for exactly one payment: once it has been used we destroy it and "
        "issue a fresh number, so the details are worthless to anyone who copies them.",
        "Verify your identity; disposable cards are available on verified accounts only.",
        "Open **Cards**, tap **Add a card > Disposable virtual card**.",
        "Use the card details at checkout; after the payment the app shows the card's new number."),
    "disposable_card_limits": _i(
        "cards", "Limits on disposable virtual cards",
        "How many disposable virtual cards you can create and how much you can spend with them.",
        "You can create up to 20 disposable virtual cards a day. Each card can be used for one payment, and "
        "the usual spending limits of your account apply to it.",
        "See your remaining disposable cards for today under **Cards > Disposable virtual card**.",
        "Check the spending limits of your plan in **Account > Limits**.",
        "If you need more disposable cards, use a regular virtual card for trusted merchants instead."),
    "virtual_card_not_working": _i(
        "cards", "Virtual card not working",
        "Fix online payments declined on a virtual or disposable virtual card.",
        "Most virtual card payments fail because the card was frozen, a disposable card was already used, or "
        "the merchant does not accept virtual cards, for example for car hire or hotel deposits.",
        "Check in **Cards** that the card is not frozen and, for a disposable card, that you use its latest "
        "number.",
        "Make sure online payments are enabled under the card's **Security** settings.",
        "Retype the expiry date and security code exactly as the app shows them.",
        "If the merchant needs a physical card, pay with your physical card instead."),
    "card_linking": _i(
        "cards", "Link a found card back to the app",
        "Reactivate a card you reported lost and then found, or add a card to the app.",
        "If you froze a card you had misplaced, unfreeze it to use it again. If you already reported it lost "
        "or stolen, it was cancelled for good and cannot be linked again.",
        "Open **Cards** and select the card.",
        "Tap **Unfreeze**: the card works again immediately.",
        "If the card shows *Cancelled*, destroy it and use the replacement we sent you."),
    "visa_or_mastercard": _i(
        "cards", "Visa or Mastercard?",
        "Which card network Northwind cards use and whether you can choose.",
        "Northwind physical cards are Visa debit cards; virtual cards are Mastercard. Both are accepted "
        "wherever the logo is shown, and you cannot choose the network of a card.",
        "See the network of each card in **Cards > Card details**.",
        "If a merchant accepts only one network, pay with the card that matches it."),
    # card payments
    "card_not_working": _i(
        "card-payments", "Card not working",
        "What to check when your physical card does not work in shops or online.",
        "A card stops working when it is frozen, expired, damaged, blocked after wrong PINs, or when a "
        "payment is over your limits. The app shows the reason for every declined payment.",
        "Open **Cards** and check the card is active, not frozen and not expired.",
        "Tap the declined payment in your transactions to see why it was declined.",
        "If the chip or magnetic strip is damaged, order a replacement in **Cards > Replace card**."),
    "contactless_not_working": _i(
        "card-payments", "Contactless payments not working",
        "Why a tap payment fails and how to get contactless working.",
        "Contactless is switched on after your first chip-and-PIN payment with a new card. For security, "
        "after several tap payments in a row the terminal may ask you to insert the card and enter the PIN.",
        "Make a chip-and-PIN payment or ATM withdrawal to enable contactless on a new card.",
        "Check that **Contactless** is switched on under the card's **Security** settings.",
        "If the terminal still does not react, insert the card; a damaged antenna needs a replacement card."),
    "declined_card_payment": _i(
        "card-payments", "Card payment declined",
        "Find out why a card payment was declined and how to make it go through.",
        "A payment can be declined for a low balance, a frozen card, a wrong PIN, a spending limit, a "
        "location or online-payment setting, or because our fraud checks stopped it.",
        "Tap the declined payment in the app to see the reason we give.",
        "Top up if your balance was too low, or unfreeze the card in **Cards**.",
        "Check the card's **Security** settings for blocked online, magstripe or location payments.",
        "If the payment was blocked as suspicious, confirm it in the app notification and try again."),
    "pending_card_payment": _i(
        "card-payments", "Pending card payments",
        "What a pending payment means and how long it takes to complete.",
        "When you pay, the merchant reserves the amount and the payment shows as pending until the merchant "
        "collects it, usually within a few days. The money is held, not yet sent.",
        "Wait up to 7 days: most merchants complete the payment within 1-3 working days.",
        "If the merchant never collects it, the amount is released back to your balance automatically.",
        "For hotels and car hire, deposits can stay pending for up to 30 days."),
    "reverted_card_payment?": _i(
        "card-payments", "A card payment was reverted",
        "Why a card payment came back to your account and what to do if the seller says it was not paid.",
        "A payment is reverted when the merchant cancels the reservation or never collects it; the money "
        "returns to your balance. The seller then has not been paid, even if the amount first left your "
        "account.",
        "Check the payment in the app: a reverted payment is marked *Reverted* with the amount returned.",
        "Ask the merchant to take the payment again, or pay with another card.",
        "If the money left your account and did not come back within 7 days, contact us in the app chat."),
    "card_acceptance": _i(
        "card-payments", "Where can I use my card?",
        "Shops, websites and countries where Northwind cards are accepted.",
        "Your card works wherever Visa (physical cards) or Mastercard (virtual cards) is accepted, online "
        "and in shops, in over 200 countries. Some merchants such as car hire firms may not accept debit "
        "cards.",
        "Look for the Visa or Mastercard logo at the till or checkout.",
        "Make sure the relevant payment types are enabled in the card's **Security** settings.",
        "For gambling and some other merchant types, check the blocked categories in **Cards > Security**."),
    "apple_pay_or_google_pay": _i(
        "card-payments", "Apple Pay and Google Pay",
        "Add your card to Apple Pay or Google Pay and top up with them.",
        "Every Northwind card can be added to Apple Pay and Google Pay on a phone or watch. You can also top "
        "up your account with a card stored in Apple Pay or Google Pay.",
        "Open **Cards**, select the card and tap **Add to Apple Wallet** or **Add to Google Pay**.",
        "Follow the wallet's prompts and confirm with the code we send to the app.",
        "To top up, choose **Add money > Apple Pay** or **Google Pay** and select the card to pay with."),
    # transfers
    "balance_not_updated_after_bank_transfer": _i(
        "transfers", "Incoming bank transfer not in my balance",
        "What to do when money sent to your account by bank transfer has not arrived.",
        "Transfers from UK accounts usually arrive within two hours; SEPA transfers take up to one working "
        "day and international SWIFT transfers up to five. Transfers with wrong details are returned to the "
        "sender.",
        "Check the sender used the account details shown under **Account > Account details**, including the "
        "reference if one is given.",
        "Allow the normal time for the transfer type, counting working days only.",
        "If it is still missing, ask the sender for the payment confirmation and send it to us in the app "
        "chat."),
    "beneficiary_not_allowed": _i(
        "transfers", "Transfer to a beneficiary not allowed",
        "Why a transfer to a particular recipient is blocked and what you can do.",
        "We block a transfer when the recipient's bank or country is not supported, when the details do not "
        "match, or when our checks flag the recipient as a risk.",
        "Check the recipient's name, account number or IBAN, and bank code with the recipient.",
        "Delete and re-add the beneficiary in **Payments > Recipients** and try again.",
        "If the error persists, contact us in the app chat; we cannot always tell you why a payee is "
        "blocked."),
    "cancel_transfer": _i(
        "transfers", "Cancel a transfer",
        "Stop a transfer you have just sent, scheduled or sent to the wrong account.",
        "A transfer can be cancelled while it is still pending or scheduled. Once it has been sent, only the "
        "recipient's bank can return the money.",
        "Open the transfer in your transactions; if it is pending or scheduled, tap **Cancel transfer**.",
        "If it was already sent to the wrong account, tap **Report a problem > Wrong recipient** and we ask "
        "the receiving bank to recall it.",
        "Recalls are not guaranteed and can take up to 20 working days."),
    "declined_transfer": _i(
        "transfers", "Transfer declined",
        "Reasons an outgoing transfer is declined and how to send it successfully.",
        "We decline a transfer when the balance is too low, a limit is reached, the recipient's details are "
        "invalid, or our security checks need more information from you.",
        "Tap the declined transfer in the app to see the reason.",
        "Check your balance and the transfer limits under **Account > Limits**.",
        "Complete any verification request in the app, then send the transfer again."),
    "failed_transfer": _i(
        "transfers", "Transfer failed",
        "What happens to your money when a transfer fails and how to retry it.",
        "A transfer fails when the recipient's bank rejects it, for example because the account is closed or "
        "the name does not match. The money comes back to your balance, usually within two working days.",
        "Open the transfer to see the status and the reason given by the receiving bank.",
        "Confirm the account details with the recipient and correct them in **Payments > Recipients**.",
        "Send the transfer again once the returned money is back in your balance."),
    "pending_transfer": _i(
        "transfers", "Transfer still pending",
        "Why an outgoing transfer shows as pending and how long it stays that way.",
        "Transfers stay pending while we process them or carry out a routine security check. Most leave "
        "within a working day; weekends and bank holidays add time.",
        "Check the expected arrival date shown on the transfer in the app.",
        "Make sure you have answered any verification request in the app.",
        "If it has been pending for more than two working days, contact us in the app chat."),
    "receiving_money": _i(
        "transfers", "Receive money into your account",
        "How other people and employers can send money to your Northwind account.",
        "Anyone can pay you by bank transfer using your account details, and Northwind customers can send "
        "you money instantly with your phone number. You can receive your salary in any currency we support.",
        "Share the details from **Account > Account details** (sort code and account number, or IBAN).",
        "For another Northwind customer, share your phone number or **Payment link**.",
        "Incoming money appears in your balance and in your transactions as soon as it arrives."),
    "transfer_into_account": _i(
        "transfers", "Transfer money into your account",
        "Move money from another bank account into Northwind by bank transfer.",
        "A bank transfer from your own account elsewhere is free to receive and is the cheapest way to add "
        "large amounts.",
        "Copy your account details from **Account > Account details**.",
        "In your other bank's app, add them as a new payee in your own name.",
        "Send the transfer; UK transfers usually arrive within two hours."),
    "transfer_not_received_by_recipient": _i(
        "transfers", "Recipient has not received my transfer",
        "Check a transfer that left your account but has not reached the person you paid.",
        "Once a transfer has left Northwind, the time to arrive depends on the receiving bank: up to two "
        "hours in the UK, one working day for SEPA and up to five working days for international transfers.",
        "Open the transfer and check it is marked *Sent* and that the recipient's details are correct.",
        "Share the **Payment confirmation** from the app with the recipient so their bank can trace it.",
        "If it has not arrived after five working days, contact us in the app chat to start a trace."),
    "transfer_timing": _i(
        "transfers", "How long do transfers take?",
        "Expected arrival times for UK, SEPA and international transfers, in and out.",
        "UK transfers usually arrive within two hours, SEPA transfers in euros within one working day, and "
        "international SWIFT transfers within 1-5 working days depending on the banks involved.",
        "See the estimated arrival date before you confirm a transfer in the app.",
        "Send before 4 pm UK time on a working day for same-day processing.",
        "Allow extra time for weekends, bank holidays and first payments to a new recipient."),
    # top-ups
    "automatic_top_up": _i(
        "top-ups", "Automatic top-ups",
        "Set up Auto top-up so your balance never runs low.",
        "Auto top-up adds money from a linked card whenever your balance falls below an amount you choose, "
        "or on a schedule. You can change or switch it off at any time.",
        "Open **Add money > Auto top-up**.",
        "Choose the card, the threshold and the amount to add (up to £1,000 per top-up).",
        "Save; each automatic top-up appears in your transactions like a normal one."),
    "pending_top_up": _i(
        "top-ups", "Top-up pending",
        "Why a top-up has not completed yet and how long it can stay pending.",
        "Card top-ups are usually instant, but the first top-up with a new card, or one that needs 3D "
        "Secure, may stay pending for up to a few hours while the card's bank confirms it.",
        "Complete any 3D Secure prompt from your card's bank.",
        "Wait up to 24 hours before trying again, so you are not charged twice.",
        "If it is still pending after a day, contact us in the app chat with the top-up's date and amount."),
    "top_up_failed": _i(
        "top-ups", "Top-up failed",
        "What to do when adding money to your account does not work.",
        "Top-ups fail when the card's bank declines them, the card details or 3D Secure check are wrong, or "
        "the amount is above your top-up limit. A failed top-up is never charged.",
        "Check the card details and that the card is in your name.",
        "Try a smaller amount, or ask your card's bank to allow the payment.",
        "Top up by bank transfer instead if the card keeps being declined."),
    "top_up_limits": _i(
        "top-ups", "Top-up limits",
        "The maximum you can add by card, bank transfer and cash, and how to raise it.",
        "Card top-ups are limited to £2,000 per day and your balance to £40,000. Bank transfers have no "
        "top-up limit. Verified accounts have higher limits than new ones.",
        "See your current limits in **Account > Limits**.",
        "Verify your identity to lift the limits of a new account.",
        "For larger amounts, use a bank transfer."),
    "top_up_reverted": _i(
        "top-ups", "Top-up reverted or disappeared",
        "Why a top-up that went through was cancelled and the money removed.",
        "We reverse a top-up when the card's bank withdraws the payment or our checks find a problem with "
        "the card. The money goes back to the card you topped up with, usually within 5 working days.",
        "Open the top-up in your transactions to see the reversal and its reason.",
        "Check your card's statement for the returned amount.",
        "Top up again with another card or by bank transfer."),
    "topping_up_by_card": _i(
        "top-ups", "Top up with a debit or credit card",
        "Add money to your account instantly using a card from another bank.",
        "Card top-ups arrive instantly. You can use a Visa or Mastercard debit or credit card in your own "
        "name.",
        "Tap **Add money** on the home screen and choose **Card**.",
        "Enter the card number, expiry date and security code, or pick a saved card.",
        "Enter the amount and complete the 3D Secure check from your card's bank."),
    "top_up_by_cash_or_cheque": _i(
        "top-ups", "Top up with cash or a cheque",
        "Whether you can pay in cash or cheques, and the alternatives.",
        "Northwind is an app-only bank: we do not accept cheques, and cash can be paid in only at partner "
        "shops that offer PayPoint, for a small fee.",
        "To pay in cash, open **Add money > Cash** and show the barcode at a PayPoint counter.",
        "To use a cheque, pay it into another bank account and transfer the money to Northwind."),
    "verify_top_up": _i(
        "top-ups", "Verify a card used for top-ups",
        "Confirm that a card you top up with is yours, using the code in its statement.",
        "To stop stolen cards being used, we sometimes ask you to verify a top-up card. We make a small "
        "charge to the card with a code in its description, then refund it.",
        "Find the Northwind charge on the card's statement or banking app; the description includes a "
        "6-digit code.",
        "Open **Add money > Cards**, select the card and tap **Verify**.",
        "Enter the code; the charge is refunded within a few days."),
    "balance_not_updated_after_cheque_or_cash_deposit": _i(
        "top-ups", "Cash or cheque deposit not in my balance",
        "What to do when a cash or cheque deposit does not show in your balance.",
        "Cash paid in at a PayPoint counter normally appears within an hour. Cheques paid into another bank "
        "must clear there before you can transfer the money on, which takes up to six working days.",
        "Keep the PayPoint receipt and check its barcode matches the one in your app.",
        "For a cheque, check with the bank you paid it into that it has cleared.",
        "If a cash deposit is missing after 24 hours, send a photo of the receipt in the app chat."),
    # cash withdrawals
    "atm_support": _i(
        "cash-withdrawals", "Which ATMs can I use?",
        "Use your card at cash machines at home and abroad, and find one nearby.",
        "Your physical card works at any ATM that shows the Visa logo, worldwide. The app's map shows nearby "
        "ATMs, and free withdrawals up to your monthly allowance.",
        "Open **Cards > ATM map** to find a cash machine near you.",
        "Insert your physical card; virtual cards cannot withdraw cash.",
        "Decline the ATM's own currency conversion abroad and let us convert at our rate."),
    "card_swallowed": _i(
        "cash-withdrawals", "ATM kept my card",
        "What to do when a cash machine swallows your card.",
        "ATMs keep a card after several wrong PINs, a fault or a timeout. Retained cards are destroyed by "
        "the ATM's owner and never returned, so we replace it.",
        "Freeze the card straight away in **Cards**.",
        "Tap **Replace card > Retained by ATM**; the replacement has a new number and is free.",
        "Use a virtual card or Apple Pay or Google Pay until the new card arrives."),
    "declined_cash_withdrawal": _i(
        "cash-withdrawals", "Cash withdrawal declined",
        "Why an ATM refused to give you cash and how to fix it.",
        "A withdrawal is declined for a wrong PIN, a low balance, a daily withdrawal limit, a frozen card, "
        "or because ATM withdrawals are switched off in the card's security settings.",
        "Check the reason on the declined withdrawal in the app.",
        "Make sure **ATM withdrawals** is switched on under the card's **Security** settings.",
        "Check your daily limit under **Account > Limits**, or try another ATM."),
    "pending_cash_withdrawal": _i(
        "cash-withdrawals", "Cash withdrawal pending",
        "Why a withdrawal still shows as pending, including one where you got no cash.",
        "A withdrawal stays pending until the ATM's bank settles it, normally within a few days. If the ATM "
        "gave you no cash, the reservation is released automatically.",
        "Wait up to 7 days for the pending amount to settle or drop off.",
        "If you received no cash and the amount is taken, tap the transaction and choose **Report a "
        "problem**.",
        "Keep any receipt the ATM printed."),
    "wrong_amount_of_cash_received": _i(
        "cash-withdrawals", "ATM gave me the wrong amount",
        "Report a withdrawal where the cash machine gave less money than it charged.",
        "If an ATM pays out less than it records, its owner can see the shortfall when the machine is "
        "balanced. We dispute the difference with the ATM's bank for you.",
        "Note the ATM's location, the time and the amount you actually received.",
        "Open the withdrawal in the app and tap **Report a problem > Wrong amount of cash**.",
        "We refund the difference once the ATM's bank confirms it, usually within 15 working days."),
    # exchange and currencies
    "exchange_rate": _i(
        "exchange-and-currencies", "Our exchange rates",
        "Where Northwind's exchange rates come from and when they change.",
        "On weekdays we exchange at the interbank rate, updated continuously while markets are open. At "
        "weekends, when markets are closed, a small mark-up protects against price swings.",
        "See the live rate for any currency pair in **Exchange** before you confirm.",
        "Exchange on weekdays to avoid the weekend mark-up.",
        "Compare the rate with the published interbank rate at the time of the exchange."),
    "exchange_via_app": _i(
        "exchange-and-currencies", "Exchange currencies in the app",
        "Convert money between currencies in the app and hold it in several currencies.",
        "You can hold and exchange over 25 currencies in the app. Exchanged money is available immediately, "
        "and your card spends from the balance that matches the payment's currency.",
        "Tap **Exchange** on the home screen.",
        "Pick the currency to sell and the one to buy, and enter the amount.",
        "Check the rate and any fee, then tap **Exchange now**."),
    "fiat_currency_support": _i(
        "exchange-and-currencies", "Supported currencies",
        "Which currencies you can hold, exchange and spend with Northwind.",
        "You can hold and exchange over 25 currencies, including GBP, EUR, USD, CHF, JPY and PLN, and spend "
        "in over 150 currencies with your card, converted at our rate.",
        "Open **Exchange > All currencies** to see the full list.",
        "Add a currency balance with **Accounts > Add currency**.",
        "Spending in a currency you don't hold is converted from your main balance automatically."),
    "supported_cards_and_currencies": _i(
        "exchange-and-currencies", "Cards and currencies accepted for top-ups",
        "Which card types and currencies you can use to add money.",
        "You can top up with Visa and Mastercard debit and credit cards in your name, in most major "
        "currencies. American Express is not supported.",
        "Check the card network on the card you want to use.",
        "Top up in the currency of the card to avoid a conversion by the card's bank.",
        "If your card is not accepted, top up by bank transfer instead."),
    "card_payment_wrong_exchange_rate": _i(
        "exchange-and-currencies", "Wrong exchange rate on a card payment",
        "Why a foreign-currency card payment was converted at an unexpected rate.",
        "Card payments in a currency you don't hold are converted at our rate when the merchant settles the "
        "payment, which can be a day or two after you pay. Paying in the local currency avoids the "
        "merchant's own, usually worse, conversion.",
        "Open the payment to see the rate applied and the time of the conversion.",
        "If the merchant charged you in your home currency, the merchant set the rate, not us.",
        "If our rate looks wrong, send the payment details to us in the app chat."),
    "wrong_exchange_rate_for_cash_withdrawal": _i(
        "exchange-and-currencies", "Wrong exchange rate on a cash withdrawal",
        "Why a cash withdrawal abroad cost more than you expected.",
        "Many ATMs abroad offer to convert the withdrawal themselves at a poor rate. If you accept, their "
        "rate applies; if you decline, we convert at our rate, with a mark-up at weekends.",
        "Always choose to be charged in the local currency at foreign ATMs.",
        "Check the rate and any ATM owner's fee shown on the withdrawal in the app.",
        "If our rate looks wrong, send us the withdrawal's details in the app chat."),
    # fees and charges
    "card_payment_fee_charged": _i(
        "fees-and-charges", "Fee on a card payment",
        "Why a card payment came with an extra fee and how to avoid it.",
        "Card payments are free in your home currency. A fee can apply to payments in a foreign currency "
        "above your plan's fair-usage allowance, or to cash-like payments such as gambling and money "
        "transfers.",
        "Open the payment to see the fee and its reason.",
        "Check your plan's allowances under **Account > Plan**.",
        "Exchange money in the app on weekdays before you travel to avoid conversion fees."),
    "cash_withdrawal_charge": _i(
        "fees-and-charges", "Fee on a cash withdrawal",
        "When we charge for ATM withdrawals and how to avoid it.",
        "Each plan includes free ATM withdrawals up to a monthly allowance (£200 on the Standard plan). "
        "Above it we charge 2% per withdrawal. Some ATM owners also add their own fee, shown on the screen.",
        "See how much of this month's allowance is left in **Account > Plan**.",
        "Decline withdrawals where the ATM shows its own fee, and try another machine.",
        "Withdraw larger amounts less often, or upgrade your plan for a bigger allowance."),
    "exchange_charge": _i(
        "fees-and-charges", "Currency exchange fees",
        "What exchanging money in the app costs, on weekdays and at weekends.",
        "Exchanges are free up to your plan's monthly allowance; above it we charge 0.5%. At weekends a "
        "mark-up of 1% applies on top of the rate because markets are closed.",
        "Check the fee shown before you tap **Exchange now**.",
        "See your remaining fee-free allowance in **Account > Plan**.",
        "Exchange on weekdays to avoid the weekend mark-up."),
    "extra_charge_on_statement": _i(
        "fees-and-charges", "Unknown £1 charge on my statement",
        "What a small unexpected charge is, such as a £1 card check by a merchant.",
        "Small charges are often a merchant checking your card (hotels, fuel stations and app stores reserve "
        "£1 and release it), a fee of your plan, or a verification charge for a top-up card.",
        "Open the charge in the app: fees we charge are labelled *Northwind fee* with the reason.",
        "Wait a few days: card checks by merchants drop off by themselves.",
        "If you still don't recognise it, tap **Report a problem** on the transaction."),
    "top_up_by_bank_transfer_charge": _i(
        "fees-and-charges", "Fees for receiving transfers (SEPA and SWIFT)",
        "What it costs to top up by UK, SEPA or SWIFT bank transfer.",
        "Receiving UK and SEPA transfers is free. We accept international SWIFT transfers, but the sending "
        "bank and intermediary banks may deduct their own fees, so less can arrive than was sent.",
        "Use your IBAN for SEPA transfers and the SWIFT details from **Account > Account details**.",
        "Ask the sender to choose the *OUR* charge option so they pay all SWIFT fees.",
        "Check the amount received in the transfer's details in the app."),
    "top_up_by_card_charge": _i(
        "fees-and-charges", "Fees for topping up by card",
        "When a card top-up is free and when a fee applies.",
        "Top-ups with UK and European debit cards are free. Top-ups with credit cards and cards issued "
        "outside Europe cost 0.7% of the amount, and the card's bank may treat a credit card top-up as a "
        "cash advance.",
        "Check the fee shown on the **Add money** screen before you confirm.",
        "Use a European debit card or a bank transfer for free top-ups."),
    "transfer_fee_charged": _i(
        "fees-and-charges", "Fee charged on a transfer",
        "Why you were charged for a transfer, or the recipient received less than you sent.",
        "Transfers in pounds within the UK and in euros within SEPA are free. International transfers carry "
        "a fee shown before you send, and intermediary banks may deduct their own fees on SWIFT transfers.",
        "Open the transfer to see our fee and the amount sent.",
        "Compare it with the amount the recipient received to spot an intermediary fee.",
        "Send in the recipient's local currency to avoid most intermediary fees."),
    # account and verification
    "age_limit": _i(
        "account-and-verification", "Age limits and accounts for children",
        "How old you must be to open an account and how to get one for your child.",
        "You must be 18 or older to open a Northwind account. Parents can open a Northwind Junior account "
        "for children aged 7 to 17, managed from the parent's app.",
        "Open **Profile > Family** and tap **Add a child**.",
        "Enter the child's name and date of birth and order their card.",
        "Set spending limits and pocket money from your own app."),
    "country_support": _i(
        "account-and-verification", "Countries we support",
        "Where you can open a Northwind account and use it when you move.",
        "You can open an account if you live in the UK, the European Economic Area or Switzerland. Your card "
        "works worldwide, but you must update your address if you move to another country.",
        "Check the list of supported countries on the sign-up screen.",
        "If you move, update your address in **Profile > Personal details**; we may ask for proof of "
        "address.",
        "If you move to an unsupported country, you may need to close your account."),
    "edit_personal_details": _i(
        "account-and-verification", "Change your personal details",
        "Update your address, phone number, email or name.",
        "You can change most details yourself in the app. A change of name needs a document that shows the "
        "new name, such as a passport or marriage certificate.",
        "Open **Profile > Personal details** and tap the detail you want to change.",
        "Confirm the change with your passcode; a new phone number is confirmed by text message.",
        "For a new name, upload a photo of the supporting document when asked."),
    "passcode_forgotten": _i(
        "account-and-verification", "Forgotten passcode",
        "Reset the passcode you use to log in to the app.",
        "If you forget your passcode, you can reset it from the login screen with your email and a selfie; "
        "we never ask for your passcode by phone or email.",
        "On the login screen, tap **Forgot passcode?**.",
        "Open the link we email you on the same phone and take a selfie to confirm it's you.",
        "Choose a new 6-digit passcode that you don't use elsewhere."),
    "terminate_account": _i(
        "account-and-verification", "Close your account",
        "Close your Northwind account and get your remaining money out.",
        "You can close your account in the app at any time, free of charge. Move your money out first, and "
        "cancel any subscription or direct debit that uses the account.",
        "Transfer or withdraw every currency balance down to zero.",
        "Open **Profile > Settings > Close account** and tell us why you are leaving.",
        "Confirm; your cards stop working immediately and statements stay available to download."),
    "verify_my_identity": _i(
        "account-and-verification", "Verify your identity",
        "The steps and documents needed for identity verification.",
        "We are required by law to verify every customer. You need a valid photo ID (passport, driving "
        "licence or national ID card) and a few seconds of selfie video.",
        "Open **Profile > Verify identity**.",
        "Photograph both sides of your ID in good light, without glare.",
        "Record the selfie video; most checks are completed within minutes."),
    "unable_to_verify_identity": _i(
        "account-and-verification", "Identity verification failed",
        "What to do when we could not verify your identity.",
        "Verification fails when photos are blurry or cropped, the document has expired, or the details do "
        "not match the ones you entered. You can try again as often as you need.",
        "Check that your name and date of birth in the app match your ID exactly.",
        "Retake the photos on a plain background with all four corners of the document visible.",
        "If it fails again, use a different document or contact us in the app chat."),
    "why_verify_identity": _i(
        "account-and-verification", "Why we verify your identity",
        "Why identity checks are required and what you can do before they are complete.",
        "Anti-money-laundering law requires us to know who our customers are. Until your identity is "
        "verified, you can top up small amounts but cannot spend, transfer or withdraw money.",
        "Complete the check in **Profile > Verify identity** to unlock your account.",
        "Your documents are encrypted and used only for the verification and the legal record."),
    "verify_source_of_funds": _i(
        "account-and-verification", "Verify the source of your funds",
        "Why we may ask where your money comes from and which documents to send.",
        "For large or unusual payments, the law requires us to check where money comes from. Until the check "
        "is done, some transactions may be held.",
        "Open the request in **Profile > Documents**.",
        "Upload a document that shows the origin of the money, such as a payslip, bank statement, sale "
        "contract or tax return.",
        "We review documents within two working days and notify you in the app."),
    # security and fraud
    "compromised_card": _i(
        "security-and-fraud", "My card details may be compromised",
        "What to do if someone else may know or be using your card details.",
        "If your card details were exposed, for example in a data breach or a suspicious website, replace "
        "the card straight away: the new card has a new number, expiry date and security code.",
        "Freeze the card in **Cards** so no new payments go through.",
        "Tap **Replace card > Compromised** to cancel it and order a free replacement.",
        "Report any payments you did not make on each transaction with **Report a problem**."),
    "lost_or_stolen_card": _i(
        "security-and-fraud", "Lost or stolen card",
        "Block a lost or stolen card and get a replacement.",
        "Freezing a card in the app blocks it instantly. If you are sure it is gone, report it lost or "
        "stolen: we cancel it for good and send a replacement.",
        "Freeze the card in **Cards** as soon as you notice it is missing.",
        "Tap **Replace card > Lost** or **Stolen** to cancel it and order a new one.",
        "Check recent transactions and report any you did not make."),
    "lost_or_stolen_phone": _i(
        "security-and-fraud", "Lost or stolen phone",
        "Protect your account when the phone with the Northwind app is lost or stolen.",
        "The app is locked by your passcode or biometrics, but you should still log the lost phone out and "
        "freeze your cards from another device.",
        "Log in at northwind.example/web or on another phone and go to **Profile > Devices**.",
        "Log the lost phone out and freeze your cards.",
        "On your new phone, install the app and log in; you can then unfreeze your cards."),
    "change_pin": _i(
        "security-and-fraud", "Change your PIN",
        "Change the PIN of your physical card at a cash machine.",
        "You can change your PIN at most ATMs in the UK and Europe that offer PIN services. You don't need "
        "to visit a branch, and the change applies immediately.",
        "Insert your card at an ATM and enter your current PIN.",
        "Choose **PIN services > Change PIN** and enter a new 4-digit PIN twice.",
        "If you don't know your current PIN, see it in **Cards > Show PIN** first."),
    "pin_blocked": _i(
        "security-and-fraud", "PIN blocked",
        "Unblock your card after entering the wrong PIN too many times.",
        "After three wrong PIN entries the card's chip-and-PIN payments are blocked. You can unblock them in "
        "the app; an ATM may need the correct PIN once afterwards to reset the chip.",
        "Check your PIN in **Cards > Show PIN**.",
        "Tap **Unblock PIN** on the card.",
        "Insert the card at an ATM and complete a balance enquiry with the correct PIN."),
    "card_payment_not_recognised": _i(
        "security-and-fraud", "Card payment I don't recognise",
        "Check an unfamiliar card payment and report it if you did not make it.",
        "Merchants often trade under a different name from the shop you know, so look up the payment's "
        "details first. If the payment really isn't yours, we block the card and investigate.",
        "Tap the payment to see the merchant's full name, location and website.",
        "If you still don't recognise it, freeze the card and tap **Report a problem > I don't recognise "
        "this**.",
        "We order you a new card and tell you the outcome of the investigation in the app."),
    "cash_withdrawal_not_recognised": _i(
        "security-and-fraud", "Cash withdrawal I don't recognise",
        "What to do about an ATM withdrawal you did not make.",
        "A withdrawal you didn't make means someone may have your card and PIN. Act quickly: we can only "
        "refund unauthorised withdrawals that are reported promptly.",
        "Freeze the card in **Cards** immediately.",
        "Open the withdrawal and tap **Report a problem > I don't recognise this**.",
        "Order a replacement card and change your PIN on the new card."),
    "direct_debit_payment_not_recognised": _i(
        "security-and-fraud", "Direct debit I don't recognise",
        "Check and cancel a direct debit you did not set up, and claim the money back.",
        "Direct debits are protected by the Direct Debit Guarantee: if a payment was taken in error or "
        "without your permission, you are entitled to a full and immediate refund.",
        "Open **Payments > Direct debits** to see who set up the mandate and when.",
        "Tap **Cancel direct debit** to stop future payments.",
        "Tap the payment and choose **Claim refund** under the Direct Debit Guarantee."),
    # refunds and disputes
    "request_refund": _i(
        "refunds-and-disputes", "Get a refund for a purchase",
        "Ask a merchant for a refund, and what we can do if they refuse.",
        "Refunds for things you bought are made by the merchant, so ask the merchant first. If they do not "
        "refund a purchase that was faulty or never arrived, we can raise a chargeback.",
        "Contact the merchant with your order details and ask for a refund to your card.",
        "If they refuse or don't reply within 14 days, tap the payment and choose **Report a problem > "
        "Dispute**.",
        "Upload your messages with the merchant; we keep you updated in the app."),
    "Refund_not_showing_up": _i(
        "refunds-and-disputes", "Refund not showing up",
        "Why a refund from a merchant has not reached your balance yet.",
        "Once a merchant issues a refund, it usually takes 5-10 working days to reach your account, because "
        "the merchant's bank must send it through the card network first.",
        "Ask the merchant for the date of the refund and its reference number.",
        "Allow 10 working days from that date.",
        "If it is still missing, tap the original payment and choose **Report a problem > Refund not "
        "received**."),
    "transaction_charged_twice": _i(
        "refunds-and-disputes", "Charged twice for the same payment",
        "What to do when the same payment appears twice in your transactions.",
        "A double charge is often a pending reservation beside the final payment, and the extra one drops "
        "off within a few days. If both payments complete, the merchant or we can refund one.",
        "Check whether one of the two payments is still *Pending*; if so, wait up to 7 days.",
        "If both are completed, ask the merchant to refund the duplicate.",
        "If the merchant does not help, tap the duplicate and choose **Report a problem > Charged twice**."),
}


# ----------------------------------------------------------------------------------------------------------
# Bitext customer service: Meadowlane, an online shop
# ----------------------------------------------------------------------------------------------------------

BITEXT_CATEGORIES: dict[str, tuple[str, str]] = {
    "account": ("Your account",
                "Creating, editing, switching and deleting your Meadowlane account; passwords."),
    "cancellation-fee": ("Cancellation fees",
                         "Fees for cancelling orders and Meadowlane Plus membership early."),
    "contact": ("Contact us", "Reaching our customer service team and a human agent."),
    "delivery": ("Delivery", "Delivery options, prices and how long delivery takes."),
    "feedback": ("Feedback", "Complaints, reviews and suggestions."),
    "invoice": ("Invoices", "Finding, viewing and downloading invoices."),
    "newsletter": ("Newsletter", "Subscribing to and unsubscribing from our newsletter."),
    "order": ("Orders", "Placing, changing, cancelling and tracking orders."),
    "payment": ("Payment", "Payment methods and problems paying."),
    "refund": ("Refunds", "Our refund policy, asking for a refund and tracking it."),
    "shipping-address": ("Shipping addresses", "Adding and changing the addresses we deliver to."),
}

BITEXT_INTENTS: dict[str, Intent] = {
    # account
    "create_account": _i(
        "account", "Create a Meadowlane account",
        "Sign up for a free account to order faster and follow your orders.",
        "An account stores your addresses, payment methods and order history. It is free, and you can also "
        "create one at checkout.",
        "Select **Sign in > Create account** at the top of any page.",
        "Enter your name, email address and a password of at least 10 characters.",
        "Open the confirmation email and click **Confirm my email** within 24 hours."),
    "delete_account": _i(
        "account", "Delete your account",
        "Close your Meadowlane account and erase your personal data.",
        "Deleting your account removes your profile, saved addresses and payment methods. We keep invoices "
        "for as long as the law requires. Orders in progress must be delivered or cancelled first.",
        "Sign in and go to **My account > Privacy > Delete account**.",
        "Confirm with your password; we send a confirmation email.",
        "Click the link in the email within 7 days to complete the deletion."),
    "edit_account": _i(
        "account", "Edit your account details",
        "Change your name, email address, phone number or preferences.",
        "You can update your profile at any time. A new email address must be confirmed before we start "
        "using it.",
        "Sign in and go to **My account > Profile**.",
        "Select **Edit** next to the detail you want to change and save it.",
        "For a new email address, click the confirmation link we send to it."),
    "recover_password": _i(
        "account", "Forgotten password",
        "Reset your password when you can't sign in.",
        "If you forget your password, we email you a link to choose a new one. For your security the link "
        "works once and expires after one hour.",
        "Select **Sign in > Forgot your password?** and enter your account's email address.",
        "Open the email from Meadowlane and click **Reset password**.",
        "Choose a new password; check your spam folder if the email doesn't arrive within 10 minutes."),
    "registration_problems": _i(
        "account", "Problems signing up",
        "Fix errors when creating an account, such as an email already in use or a missing confirmation "
        "email.",
        "Most sign-up problems come from an email address that already has an account, a password that is "
        "too short, or a confirmation email caught by a spam filter.",
        "If the email address is already registered, use **Forgot your password?** instead of signing up "
        "again.",
        "Check your spam folder for the confirmation email, or select **Resend confirmation**.",
        "Try another browser or clear your cookies; if it still fails, send us a screenshot of the error."),
    "switch_account": _i(
        "account", "Switch between accounts",
        "Sign out and use another Meadowlane account, for example a personal and a business account.",
        "You can be signed in to one account at a time in each browser or app. Switching keeps each "
        "account's basket and orders separate.",
        "Open **My account** and select **Sign out**.",
        "Sign in with the other account's email address and password.",
        "In the app, use **Profile > Switch account** to keep both accounts signed in."),
    # cancellation fee
    "check_cancellation_fee": _i(
        "cancellation-fee", "Cancellation fees",
        "When a fee applies to cancelling an order or ending Meadowlane Plus early.",
        "Cancelling an order before it ships is free. Made-to-order items cost 15% to cancel once production "
        "has started, and ending an annual Meadowlane Plus membership early costs the remaining months at "
        "the monthly rate, minus what you already paid.",
        "See the fee for an order under **My orders > Cancel** before you confirm.",
        "See the early-exit fee for Meadowlane Plus under **My account > Membership > End membership**.",
        "The fee is deducted from your refund; nothing extra is charged to your card."),
    # contact
    "contact_customer_service": _i(
        "contact", "Contact customer service",
        "How and when to reach the Meadowlane customer service team.",
        "Our team answers by chat, email and phone. Chat is the fastest, and we reply to emails within one "
        "working day.",
        "Chat: select **Help > Chat with us**, Monday to Saturday, 8 am to 8 pm.",
        "Email: write to help@meadowlane.example with your order number.",
        "Phone: call 0800 000 1234, Monday to Friday, 9 am to 6 pm."),
    "contact_human_agent": _i(
        "contact", "Talk to a person",
        "Get past the virtual assistant to a member of our team.",
        "Our virtual assistant handles simple questions, but you can ask for a person at any point in the "
        "chat during opening hours.",
        "In the chat, type **agent** or select **Talk to a person**.",
        "Keep the chat window open; the waiting time is shown at the top.",
        "Outside opening hours, leave a message and we reply by email the next working day."),
    # delivery
    "delivery_options": _i(
        "delivery", "Delivery options",
        "The delivery methods we offer, their prices and which one to choose.",
        "We offer standard delivery, next-day delivery, named-day delivery and free collection from a pickup "
        "point. The options and prices available depend on your address and the items in your basket.",
        "Add items to your basket and go to **Checkout**.",
        "Enter your address or postcode to see every available option and its price.",
        "Standard delivery is free on orders over £40."),
    "delivery_period": _i(
        "delivery", "How long does delivery take?",
        "Delivery times for each option and when your order will arrive.",
        "Standard delivery takes 2-4 working days, next-day delivery arrives the next working day when you "
        "order before 9 pm, and pickup points take 2-3 working days.",
        "See the estimated delivery date for each option at checkout.",
        "After ordering, check the date under **My orders**; it is updated once the parcel ships.",
        "Allow extra time for large items, remote areas and public holidays."),
    # feedback
    "complaint": _i(
        "feedback", "Make a complaint",
        "Tell us when something went wrong and how we handle complaints.",
        "We take every complaint seriously. We acknowledge it within one working day and aim to resolve it "
        "within 14 days.",
        "Go to **Help > Make a complaint**, or write to complaints@meadowlane.example.",
        "Include your order number, what happened and what you would like us to do.",
        "If you are unhappy with our answer, ask for it to be reviewed by a manager."),
    "review": _i(
        "feedback", "Leave a review or feedback",
        "Review a product you bought or tell us about your experience with our service.",
        "Reviews help other customers choose, and your feedback helps us improve. You can review any product "
        "you bought with your account.",
        "For a product, go to **My orders**, find the item and select **Write a review**.",
        "For our service, select **Help > Give feedback** or answer the survey we email after delivery.",
        "Reviews are checked before publication, usually within two days."),
    # invoice
    "check_invoice": _i(
        "invoice", "View your invoices",
        "Find and check the invoices for your past orders.",
        "Every order has an invoice in your account, including past months and years. Each invoice lists the "
        "items, prices, VAT and the payment method used.",
        "Sign in and go to **My account > Invoices**.",
        "Filter by date or search by order number.",
        "Select an invoice to view it; if something on it looks wrong, contact us with the invoice number."),
    "get_invoice": _i(
        "invoice", "Download an invoice",
        "Get a PDF copy of the invoice for an order, or a VAT invoice for your business.",
        "Invoices are available as PDF files as soon as an order ships. Business customers can add their "
        "company name and VAT number before downloading.",
        "Go to **My account > Invoices** and find the order.",
        "Select **Download PDF**; add your company details first under **Invoice details** if you need them.",
        "For invoices older than seven years or for guest orders, ask customer service for a copy."),
    # newsletter
    "newsletter_subscription": _i(
        "newsletter", "Subscribe to or unsubscribe from the newsletter",
        "Manage our email newsletter with offers and new arrivals.",
        "The newsletter is sent once a week. You can subscribe or unsubscribe at any time, and unsubscribing "
        "does not affect emails about your orders.",
        "To subscribe, enter your email in the box at the bottom of any page, or tick the box in "
        "**My account > Preferences**.",
        "To unsubscribe, select **Unsubscribe** at the bottom of any newsletter email.",
        "Changes take effect within 48 hours."),
    # order
    "cancel_order": _i(
        "order", "Cancel an order",
        "Cancel an order or part of it before it is shipped.",
        "You can cancel an order yourself until it is packed. After that, you can refuse the delivery or "
        "return the items instead.",
        "Go to **My orders** and select the order.",
        "Select **Cancel order**, or **Cancel items** to cancel only some of them.",
        "We refund the payment within 3 working days of the cancellation."),
    "change_order": _i(
        "order", "Change an order",
        "Add or remove items, or change sizes and quantities, on an order you placed.",
        "Orders can be changed until they are packed, usually within an hour of ordering. Adding an item can "
        "change the delivery date.",
        "Go to **My orders** and select the order.",
        "Select **Change order** to remove items or change quantities and sizes.",
        "To add items, place a new order; we ship them together when possible."),
    "place_order": _i(
        "order", "How to place an order",
        "Buy from Meadowlane: add items to your basket and check out.",
        "You can order as a guest or with an account. An account saves your address and lets you follow the "
        "order.",
        "Select **Add to basket** on each item you want.",
        "Open the basket and select **Checkout**.",
        "Choose delivery and payment, then select **Place order**; a confirmation email follows."),
    "track_order": _i(
        "order", "Track your order",
        "See where your order is and when it will arrive.",
        "Every order has a status page, and once it ships we send a tracking link from the carrier.",
        "Go to **My orders** and select the order to see its status.",
        "Select **Track parcel** to follow it on the carrier's site.",
        "If the tracking has not moved for 3 working days, contact us with your order number."),
    # payment
    "check_payment_methods": _i(
        "payment", "Payment methods we accept",
        "Which cards, wallets and other payment options you can use at checkout.",
        "We accept Visa, Mastercard and American Express cards, PayPal, Apple Pay, Google Pay, gift cards, "
        "and pay-in-3 instalments on orders over £50.",
        "See the options available for your basket at the payment step of checkout.",
        "Save a card under **My account > Payment methods** for faster checkout.",
        "Gift cards can be combined with any other payment method."),
    "payment_issue": _i(
        "payment", "Problems with a payment",
        "What to do when a payment is declined, fails or you are charged incorrectly.",
        "Payments fail when card details or the billing address don't match, when the bank's security check "
        "is not completed, or when the bank declines the payment.",
        "Check the card number, expiry date and billing address, and complete your bank's security check.",
        "Try another payment method such as PayPal.",
        "If you were charged for an order that failed, the amount is released within 5 working days; contact "
        "us if it isn't."),
    # refund
    "check_refund_policy": _i(
        "refund", "Our refund policy",
        "When you can get your money back and how long refunds take.",
        "You can return most items within 30 days of delivery for a full refund. Faulty items are refunded "
        "including delivery costs; personalised items and opened hygiene products can't be returned.",
        "Check the item's page for any returns exception.",
        "Refunds are made to the original payment method.",
        "Refunds are issued within 5 working days of us receiving the return."),
    "get_refund": _i(
        "refund", "Ask for a refund",
        "Return an item or report a problem with an order to get your money back.",
        "Start a return in your account and send the item back; we refund it once it arrives. For items that "
        "never arrived or arrived damaged, you don't need to send anything back.",
        "Go to **My orders**, select the order and choose **Return or refund**.",
        "Select the items and the reason, and print the free return label.",
        "Drop the parcel at a pickup point; we email you when the refund is issued."),
    "track_refund": _i(
        "refund", "Track your refund",
        "Check the status of a refund and when the money will reach you.",
        "Each return shows its refund status in your account. Once issued, a refund takes 3-5 working days "
        "to reach a card and 1 day for PayPal.",
        "Go to **My orders > Returns** and select the return.",
        "Check the status: *Received*, *Refund issued* or *Completed*.",
        "If the refund was issued more than 10 working days ago and hasn't arrived, contact us."),
    # shipping address
    "change_shipping_address": _i(
        "shipping-address", "Change the delivery address",
        "Correct or change the address of an order, or a saved address.",
        "You can change the address of an order until it ships. After shipping, the carrier's tracking page "
        "may let you redirect the parcel.",
        "Go to **My orders**, select the order and choose **Change delivery address**.",
        "To change a saved address, go to **My account > Addresses** and select **Edit**.",
        "If the order has shipped, use the carrier's tracking link to redirect it."),
    "set_up_shipping_address": _i(
        "shipping-address", "Add a new shipping address",
        "Save another delivery address, such as your workplace, to your account.",
        "You can save several addresses and choose one at checkout. We deliver to homes, workplaces and "
        "pickup points in the UK.",
        "Go to **My account > Addresses** and select **Add address**.",
        "Enter the full address and postcode and a phone number for the carrier.",
        "Tick **Default** to use it automatically at checkout."),
}


# ----------------------------------------------------------------------------------------------------------
# Data sets
# ----------------------------------------------------------------------------------------------------------

BANKING77 = Dataset(
    name="banking77", title="Banking77 (train split)", brand="Northwind Bank",
    source="banking77/train.csv", licence="CC BY 4.0",
    citation="Casanueva, Temčinas, Gerz, Henderson, Vulić (PolyAI), \"Efficient Intent Detection with Dual "
             "Sentence Encoders\", 2020",
    categories=BANKING77_CATEGORIES, intents=BANKING77_INTENTS, ood_source="bitext",
    ood_excluded=frozenset({
        "check_refund_policy", "get_refund", "track_refund", "payment_issue", "check_payment_methods",
        "check_invoice", "get_invoice", "delete_account", "create_account", "edit_account",
        "recover_password", "registration_problems", "switch_account", "contact_customer_service",
        "contact_human_agent", "complaint", "review"}),
)

BITEXT = Dataset(
    name="bitext", title="Bitext customer-service sample data set (8k)", brand="Meadowlane",
    source="bitext-customer-service/bitext_8k_customer_service.csv", licence="CDLA-Sharing-1.0",
    citation="Bitext Innovations, Customer Service sample training data set for English, 2022",
    categories=BITEXT_CATEGORIES, intents=BITEXT_INTENTS, ood_source="banking77",
    ood_excluded=frozenset({
        "request_refund", "Refund_not_showing_up", "reverted_card_payment?", "transaction_charged_twice",
        "card_payment_fee_charged", "card_payment_not_recognised", "card_payment_wrong_exchange_rate",
        "declined_card_payment", "pending_card_payment", "direct_debit_payment_not_recognised",
        "extra_charge_on_statement", "apple_pay_or_google_pay", "card_acceptance",
        "supported_cards_and_currencies", "age_limit", "country_support", "terminate_account",
        "edit_personal_details", "passcode_forgotten"}),
)

SPECS: dict[str, Dataset] = {"banking77": BANKING77, "bitext": BITEXT}


def intent_id(label: str) -> str:
    """The kebab-case article id of a data set label: 'Refund_not_showing_up' -> 'refund-not-showing-up'."""
    return re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")


def clean(text: str) -> str:
    """One query on one line: whitespace (including the line breaks of multi-line CSV cells) collapsed."""
    return " ".join(text.split())


def load_queries(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[Query]:
    """Every labelled query of a data set, in file order; empty texts dropped, identical texts kept once."""
    spec = SPECS[name]
    path = data_dir / spec.source
    if not path.is_file():
        raise FileNotFoundError(f"{path}: data file not found (give the data folder with --data)")
    text_column = "text" if name == "banking77" else "utterance"
    label_column = "category" if name == "banking77" else "intent"
    queries: list[Query] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            text = clean(row[text_column] or "")
            if text and text not in seen:
                seen.add(text)
                queries.append(Query(text, row[label_column].strip()))
    return queries


def _check_spec(spec: Dataset, queries: list[Query], questions: int) -> dict[str, list[str]]:
    """Queries by intent label, after checking the hand-written intents match the data set exactly."""
    by_intent: dict[str, list[str]] = defaultdict(list)
    for query in queries:
        by_intent[query.intent].append(query.text)
    missing = sorted(set(by_intent) - set(spec.intents))
    unknown = sorted(set(spec.intents) - set(by_intent))
    if missing or unknown:
        raise ValueError(f"{spec.name}: intents without help text {missing}, "
                         f"help text for unknown intents {unknown}")
    for label, intent in spec.intents.items():
        if intent.category not in spec.categories:
            raise ValueError(f"{spec.name}: intent {label!r} has undeclared category {intent.category!r}")
        if not 2 <= len(intent.steps) <= 4:
            raise ValueError(f"{spec.name}: intent {label!r} needs 2-4 steps, has {len(intent.steps)}")
        if len(by_intent[label]) <= questions:
            raise ValueError(f"{spec.name}: intent {label!r} has only {len(by_intent[label])} queries")
    if len({intent_id(label) for label in spec.intents}) != len(spec.intents):
        raise ValueError(f"{spec.name}: two intents map to the same article id")
    return by_intent


def render_article(intent: Intent, questions: list[str]) -> str:
    """The Markdown article: YAML front matter (safe_dump quotes every string as YAML needs) and body."""
    front = yaml.safe_dump({"title": intent.title, "category": intent.category, "questions": questions,
                            "description": intent.description},
                           sort_keys=False, allow_unicode=True, width=1_000_000, default_flow_style=False)
    steps = "\n".join(f"{n}. {step}" for n, step in enumerate(intent.steps, start=1))
    return f"---\n{front}---\n{intent.summary}\n\n## What to do\n\n{steps}\n"


def _prepare_articles_dir(articles: Path) -> None:
    """Empty the articles folder of an earlier run; refuse a non-empty folder this module did not write."""
    if articles.exists() and any(articles.iterdir()):
        if not (articles / MARKER).is_file():
            raise FileExistsError(f"{articles} exists and was not written by bench/datasets.py; "
                                  "choose an empty or new --out folder")
        shutil.rmtree(articles)
    articles.mkdir(parents=True, exist_ok=True)
    (articles / MARKER).write_text("generated by bench/datasets.py; the folder is replaced on every run\n",
                                   encoding="utf-8")


def ood_pool(name: str, data_dir: Path = DEFAULT_DATA_DIR) -> list[str]:
    """Out-of-scope candidates for `name`: the other data set's queries minus the excluded intents."""
    spec = SPECS[name]
    return [q.text for q in load_queries(spec.ood_source, data_dir) if q.intent not in spec.ood_excluded]


def generate(name: str, out: Path, *, questions: int = DEFAULT_QUESTIONS, seed: int = DEFAULT_SEED,
             ood: int = DEFAULT_OOD, data_dir: Path = DEFAULT_DATA_DIR) -> Summary:
    """Write the help center, eval.jsonl and README.md of data set `name` into `out`; return the counts."""
    spec = SPECS[name]
    by_intent = _check_spec(spec, load_queries(name, data_dir), questions)
    known = {text.casefold() for texts in by_intent.values() for text in texts}
    pool = [text for text in ood_pool(name, data_dir) if text.casefold() not in known]
    if ood > len(pool):
        raise ValueError(f"{name}: asked for {ood} out-of-scope queries, the pool has {len(pool)}")
    out = Path(out)
    articles = out / "articles"
    _prepare_articles_dir(articles)

    categories = {cid: {"title": title, "description": description}
                  for cid, (title, description) in spec.categories.items()}
    (articles / "categories.yml").write_text(
        yaml.safe_dump(categories, sort_keys=False, allow_unicode=True, width=1_000_000), encoding="utf-8")

    rng = random.Random(seed)
    in_scope: list[dict] = []
    per_category: Counter[str] = Counter()
    for label in sorted(spec.intents):
        intent, texts = spec.intents[label], by_intent[label]
        chosen = set(rng.sample(range(len(texts)), questions))
        picked = [texts[i] for i in sorted(chosen)]
        path = articles / intent.category / f"{intent_id(label)}.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_article(intent, picked), encoding="utf-8")
        per_category[intent.category] += 1
        in_scope += [{"query": text, "expected": intent_id(label), "category": intent.category}
                     for i, text in enumerate(texts) if i not in chosen]
    rng.shuffle(in_scope)

    out_of_scope = [{"query": text, "expected": None, "category": None}
                    for text in random.Random(seed).sample(pool, ood)]

    with (out / "eval.jsonl").open("w", encoding="utf-8") as handle:
        for row in in_scope + out_of_scope:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")

    summary = Summary(dataset=name, out=out, articles=len(spec.intents), categories=len(spec.categories),
                      questions=questions, in_scope=len(in_scope), out_of_scope=len(out_of_scope), seed=seed,
                      per_category={cid: per_category[cid] for cid in spec.categories})
    (out / "README.md").write_text(_readme(spec, summary, len(pool)), encoding="utf-8")
    return summary


def _readme(spec: Dataset, summary: Summary, pool: int) -> str:
    other = SPECS[spec.ood_source]
    rows = "\n".join(f"| `{cid}` | {spec.categories[cid][0]} | {count} |"
                     for cid, count in summary.per_category.items())
    return f"""# {spec.brand} evaluation help center ({spec.name})

Generated by `bench/datasets.py {spec.name} --out DIR --questions {summary.questions} --seed {summary.seed} \
--ood {summary.out_of_scope}`. Do not edit: rerunning the command replaces `articles/`.

- Data set: {spec.title}, `shared/data/{spec.source}`. {spec.citation}.
- Licence: {spec.licence}. The `questions` of the articles and the queries of `eval.jsonl` are taken from the
  data set; the titles, descriptions and article bodies are written for this fictional help center.
- Out-of-scope queries: {other.title} (`shared/data/{other.source}`), licence {other.licence}.
- Seed: {summary.seed} (`random.Random(seed)` picks the questions, shuffles the in-scope rows and samples the
  out-of-scope rows).

## Counts

| what | count |
|---|---|
| articles (one per intent) | {summary.articles} |
| categories | {summary.categories} |
| questions per article | {summary.questions} |
| eval rows in scope (every query not used as a question) | {summary.in_scope} |
| eval rows out of scope (`expected: null`) | {summary.out_of_scope} (sampled from a pool of {pool}) |

| category | title | articles |
|---|---|---|
{rows}

## Files

- `articles/`: `categories.yml` and one article per intent, `articles/<category>/<intent-id>.md`.
- `eval.jsonl`: one `{{"query", "expected", "category"}}` object per line: the in-scope rows (shuffled), then
  the out-of-scope rows, whose `expected` and `category` are null. The intents of the other data set that this
  help center does answer are left out of the out-of-scope pool (see the docstring of `bench/datasets.py`):
  {", ".join(f"`{label}`" for label in sorted(spec.ood_excluded))}.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dataset", choices=DATASETS)
    parser.add_argument("--out", type=Path, required=True,
                        help="Output folder (articles/, eval.jsonl, README.md).")
    parser.add_argument("--questions", type=int, default=DEFAULT_QUESTIONS, help="Questions per article.")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--ood", type=int, default=DEFAULT_OOD, help="Out-of-scope rows in eval.jsonl.")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA_DIR, help="Folder of the data sets.")
    args = parser.parse_args(argv)
    if args.questions < 0 or args.ood < 0:
        parser.error("--questions and --ood must not be negative")
    try:
        summary = generate(args.dataset, args.out, questions=args.questions, seed=args.seed, ood=args.ood,
                           data_dir=args.data)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{summary.dataset}: {summary.articles} articles in {summary.categories} categories, "
          f"{summary.questions} questions each -> {summary.out}")
    print(f"eval.jsonl: {summary.in_scope} in scope + {summary.out_of_scope} out of scope = "
          f"{summary.in_scope + summary.out_of_scope} rows")
    return 0


if __name__ == "__main__":
    sys.exit(main())
